// Secrets stay out of the engine's verbose logs. A stack with every kind of
// secret qmail-fleet handles (the SSL key, an auth user's password, the salt
// secret, the SSH private key) goes through preview, up, refresh and destroy
// with `-v=6 --logtostderr` and with `--debug`, and none of the secrets, nor
// the base64 of a secret file's bytes, may appear in what the CLI prints.
//
// -v=6 is the highest clean level. From -v=7 the engine itself logs
// property values with secrets in plain text: at 7 (and 8) its planner line
// "Planner decided to create / not to update '...pulumi:providers:qmail::fleet'
// (inputs=map[privateKey:...])" carries the SSH private key; at 9 its
// "Marshaling property for RPC" / "Unmarshaling property for RPC" lines carry
// the SSH key (Configure, CheckConfig, DiffConfig, RegisterResource) and the
// base64 of servercert.pem and auth.cdb (RegisterResource and Check of the
// HostConfiguration). Those levels are not asserted here.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseFleetConfig } from "../../lib/config";
import { planFleet } from "../../lib/plan";
import { extractPem } from "../pem";
import { PulumiProject, type PulumiResult } from "./pulumi-project";
import { Mailhubs, readBanner } from "./sandbox";

const CONTROL = "/var/qmail/control";
const PASSWORD = "verbose-logs password 4 horses";
const SALT_SECRET = "verbose-logs salt secret, 16+ bytes";

const VERBOSE = ["-v=6", "--logtostderr"];
const DEBUG = ["--debug"];

function makeCertificate(): { key: string; certificate: string } {
  const pem = execFileSync("openssl", [
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
    "-subj", "/CN=mail.verbose.e2e.test", "-days", "2", "-keyout", "-", "-out", "-",
  ], { stdio: ["ignore", "pipe", "ignore"] }).toString();
  return { key: extractPem(pem, "PRIVATE KEY"), certificate: extractPem(pem, "CERTIFICATE") };
}

/** The lines between a PEM block's armour. */
const pemBody = (pem: string) => pem.split("\n").filter((line) => line !== "" && !line.startsWith("-----"));

/** Overlapping 24-character pieces of a base64 text, so a part of it logged anywhere is found too. */
const pieces = (text: string, from = 0, to = text.length) => {
  const found: string[] = [];
  for (let i = from; i + 24 <= to; i += 12) found.push(text.slice(i, i + 24));
  return found;
};

describe("secrets stay out of verbose and debug logs", () => {
  let hubs: Mailhubs;
  let project: PulumiProject;
  let tls: { key: string; certificate: string };
  /** Name → every string that must not be printed. */
  let secrets: Map<string, string[]>;
  const logDir = join(__dirname, "..", "..", ".state", "e2e-logs", "verbose-logs");

  const config = (greeting: string) => ({
    ssh: { user: "root" },
    sslCertificate: tls.certificate,
    authUsers: [{ user: "alice@verbose.e2e.test", password: "(set as a secret)" }],
    services: [
      { name: "smtpd", preset: "mx", maxConnections: 10 },
      { name: "submission", preset: "submission", auth: { method: "cdb", cdbFile: `${CONTROL}/auth.cdb` } },
    ],
    hosts: hubs.hosts.map((host) => ({
      name: host.name,
      address: host.address,
      ssh: { knownHostsFile: hubs.knownHosts },
      services: [
        { name: "smtpd", ip: host.address, smtpGreeting: greeting },
        { name: "submission", ip: host.address },
      ],
    })),
  });

  async function configure(greeting: string): Promise<void> {
    project.writeConfig(config(greeting));
    await project.setSecret("sslKey", tls.key);
    await project.setSecret("saltSecret", SALT_SECRET);
    await project.setSecret("sshPrivateKey", readFileSync(hubs.clientKey, "utf8"));
    await project.run(["config", "set", "--secret", "--path", "qmail-fleet:authUsers[0].password"], { stdin: PASSWORD });
  }

  /** Runs pulumi, keeps its output for a look, and checks no secret is in it. */
  async function clean(label: string, args: string[]): Promise<PulumiResult> {
    const result = await project.run(args, { allowFailure: true });
    const output = `${result.stdout}\n${result.stderr}`;
    mkdirSync(logDir, { recursive: true });
    writeFileSync(join(logDir, `${label}.log`), output);
    expect(result.code, `${label}: ${output.slice(-3000)}`).toBe(0);
    const leaks: string[] = [];
    for (const [name, values] of secrets)
      for (const value of values)
        if (output.includes(value)) {
          const line = output.split("\n").find((l) => l.includes(value))!;
          leaks.push(`${name}: ${line.slice(0, 300)}`);
          break;
        }
    expect(leaks, `${label}: secrets in the output`).toEqual([]);
    return result;
  }

  beforeAll(async () => {
    tls = makeCertificate();
    hubs = Mailhubs.start("e2e-verbose-logs", 1, "127.0.0.71");
    project = new PulumiProject("verbose-logs");
    await project.init();
    await configure("verbose1.e2e.test");

    // The secret files' bytes as the program hands them over.
    const raw: Record<string, unknown> = { ...config("verbose1.e2e.test"), sslKey: tls.key, saltSecret: SALT_SECRET };
    (raw.authUsers as Array<Record<string, unknown>>)[0].password = PASSWORD;
    const parsed = parseFleetConfig(raw);
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
    const files = planFleet(parsed.config).hosts[0].files.filter((f) => f.secret);
    const certificateFile = files.find((f) => f.path === `${CONTROL}/servercert.pem`)!;
    const authCdb = files.find((f) => f.path === `${CONTROL}/auth.cdb`)!;
    const keyEnd = certificateFile.content.indexOf("-----END PRIVATE KEY-----");
    expect(keyEnd).toBeGreaterThan(0);
    secrets = new Map([
      ["SSL key", pemBody(tls.key)],
      ["SSH private key", pemBody(readFileSync(hubs.clientKey, "utf8"))],
      ["password", [PASSWORD]],
      ["salt secret", [SALT_SECRET]],
      // The key part of the certificate file, in its base64.
      ["servercert.pem base64", pieces(certificateFile.content.toString("base64"), 36, Math.ceil((keyEnd * 4) / 3))],
      ["auth.cdb base64", pieces(authCdb.content.toString("base64"))],
    ]);
  });

  afterAll(() => hubs?.stop());

  const nonInteractive = ["--non-interactive"];

  it("preview and up (create) at -v=6 --logtostderr", async () => {
    await clean("preview-v6", ["preview", ...nonInteractive, ...VERBOSE]);
    const created = await clean("up-v6", ["up", "--yes", "--skip-preview", ...nonInteractive, ...VERBOSE]);
    // The logs are verbose indeed: the engine's own lines up to level 6 are there.
    expect(created.stderr).toMatch(/"v":6\}/);
    expect(await readBanner(hubs.hosts[0].address)).toBe("220 verbose1.e2e.test ESMTP");
  });

  it("preview and up (update) with --debug", async () => {
    await configure("verbose2.e2e.test");
    await clean("preview-debug", ["preview", ...nonInteractive, ...DEBUG]);
    const updated = await clean("up-debug", ["up", "--yes", "--skip-preview", ...nonInteractive, ...DEBUG]);
    // The program's debug lines are there, those of the resources with secret inputs too.
    expect(updated.stdout).toMatch(/debug: RegisterResource RPC finished: resource:mailhub1\[qmail:index:HostConfiguration\]/);
    expect(await readBanner(hubs.hosts[0].address)).toBe("220 verbose2.e2e.test ESMTP");
  });

  it("refresh, preview --refresh and up --refresh at -v=6 and with --debug", async () => {
    await clean("refresh-v6", ["refresh", "--yes", "--skip-preview", ...nonInteractive, ...VERBOSE]);
    await clean("refresh-debug", ["refresh", "--yes", "--skip-preview", ...nonInteractive, ...DEBUG]);
    await configure("verbose3.e2e.test");
    await clean("preview-refresh-debug", ["preview", "--refresh", ...nonInteractive, ...DEBUG]);
    await clean("up-refresh-v6", ["up", "--refresh", "--yes", "--skip-preview", ...nonInteractive, ...VERBOSE]);
    expect(await readBanner(hubs.hosts[0].address)).toBe("220 verbose3.e2e.test ESMTP");
  });

  it("destroy with --debug and at -v=6", async () => {
    await clean("destroy-debug", ["destroy", "--yes", "--skip-preview", ...nonInteractive, ...DEBUG]);
    await clean("up-again-debug", ["up", "--yes", "--skip-preview", ...nonInteractive, ...DEBUG]);
    await clean("destroy-v6", ["destroy", "--yes", "--skip-preview", ...nonInteractive, ...VERBOSE]);
    expect(await hubs.ssh(hubs.hosts[0], "ls -A /service")).toBe("");
  });
});
