// `qmail-fleet render` and `pulumi up` install the same bytes for one stack
// file. The engine hands the program every map with its keys sorted; a stack
// file here writes its maps out of order (tcprules variables, auth.cdb
// per-user variables, tcpRules sets and service fields), and every file the
// manifest of `render` lists must have, on the host after `pulumi up`, the
// sha256 the manifest gives. One sandbox host, the real engine.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Mailhubs, REPO } from "./sandbox";
import { PulumiProject } from "./pulumi-project";

const RULES = "/var/qmail/control/tcp.smtp.cdb";
const SUBMISSION_RULES = "/var/qmail/control/tcp.submission.cdb";
const AUTH = "/var/qmail/control/auth.cdb";
const VALID = "/var/qmail/control/validrcptto.cdb";
const HASH = "$1$saltsalt$2vnaRpHa6Jxjz5n83ok8Z0";

interface ManifestFile {
  path: string;
  sha256: string;
  secret: boolean;
}

describe("render and pulumi up agree byte for byte", () => {
  let hubs: Mailhubs;
  let project: PulumiProject;

  beforeAll(async () => {
    hubs = Mailhubs.start("e2e-render-parity", 1, "127.0.0.151");
    project = new PulumiProject("render-parity");
    await project.init();
  });

  afterAll(() => hubs?.stop());

  it("for a stack file whose maps are written out of order", async () => {
    const [host] = hubs.hosts;
    // Object key order is the order js-yaml writes them in: deliberately not sorted.
    project.writeConfig({
      ssh: { user: "root", privateKeyFile: hubs.clientKey },
      tcpRules: {
        [SUBMISSION_RULES]: { rules: [{ address: "", action: "allow", env: { TCPREMOTEINFO: "", GREETDELAY: "0" } }] },
        [RULES]: {
          rules: [
            { address: "127.", action: "allow", env: { RELAYCLIENT: "", RBLSMTPD: "", GREETDELAY: "0" } },
            { address: "", action: "allow", env: { RBLSMTPD: "-Not here", DATABYTES: "1000000" } },
          ],
        },
      },
      authUsers: [
        { user: "zed@render.e2e.test", hash: HASH, env: { ZZZ: "last", AAA: "first", MMM: "middle" } },
        { user: "amy@render.e2e.test", hash: HASH, env: { QUOTA: "1", ALIAS: "amy" } },
      ],
      validRcptTo: { addresses: ["postmaster@render.e2e.test", "@lists.render.e2e.test"] },
      hosts: [
        {
          name: host.name,
          address: host.address,
          ssh: { knownHostsFile: hubs.knownHosts },
          services: [
            { validRcptTo: { cdbFile: VALID }, accessRules: RULES, name: "smtpd", ip: host.address, preset: "mx", maxConnections: 10 },
            {
              auth: { set: { RELAYCLIENT: "", DATABYTES: "20000000" }, cdbFile: AUTH, method: "cdb" },
              port: 2525,
              ip: host.address,
              name: "submission",
              accessRules: SUBMISSION_RULES,
              denyTls: false,
            },
          ],
        },
      ],
    });

    const out = mkdtempSync(join(tmpdir(), "qmail-fleet-render-parity-"));
    execFileSync(process.execPath, [join(REPO, "bin", "qmail-fleet"), "render", project.stackFile, "--out", out], { stdio: ["ignore", "pipe", "pipe"] });
    const manifest = JSON.parse(readFileSync(join(out, host.name, "manifest.json"), "utf8")) as { files: ManifestFile[] };
    const paths = manifest.files.map((f) => f.path);
    expect(paths).toEqual(expect.arrayContaining([RULES, SUBMISSION_RULES, AUTH, VALID]));

    await project.up();

    for (const file of manifest.files) {
      const onHost = join(host.root, "root", file.path);
      expect(existsSync(onHost), `${file.path} is on the host`).toBe(true);
      const sha256 = createHash("sha256").update(readFileSync(onHost)).digest("hex");
      expect(sha256, `${file.path}: what pulumi up installed is what render wrote`).toBe(file.sha256);
    }

    // The variables of a rule reach the host in one order, whatever order the stack file had.
    const dump = execFileSync("cdb", ["-d", join(host.root, "root", RULES)]).toString("latin1");
    expect(dump).toContain("+GREETDELAY=0\0+RBLSMTPD=\0+RELAYCLIENT=\0");

    await project.run(["destroy", "--yes", "--skip-preview", "--non-interactive"]);
  });
});
