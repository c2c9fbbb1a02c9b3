// A tcprules cdb qmail-fleet rebuilt after the take-over (each rule's
// variables in name order) still holds the rules of the source beside it: the
// import takes them without blaming the admin, and the stack file says the
// source no longer builds the cdb. A source with other rules is still named.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { buildTcpRules } from "../../../lib/cdb/tcprules";
import { importHost } from "../../../lib/import/host-import";
import { DirectorySource } from "../../../lib/import/host-source";

const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKREcv9w/RBTq8tGL0tCpFgM07bu1UoHQJLyD4sT+RgM";
const RULES = "/var/qmail/control/tcp.smtp";
const SOURCE = '127.:allow,RELAYCLIENT="",RBLSMTPD=""\n192.0.2.66:deny\n:allow\n';
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "qmail-fleet-tcprules-source-"));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

async function importWith(source: string, cdb: Buffer) {
  const root = fs.mkdtempSync(path.join(scratch, "host-"));
  const dir = path.join(root, "var/qmail/supervise/smtpd");
  fs.mkdirSync(path.join(dir, "log"), { recursive: true });
  fs.mkdirSync(path.join(root, "var/qmail/control"), { recursive: true });
  fs.mkdirSync(path.join(root, "service"));
  fs.writeFileSync(path.join(dir, "run"), `#!/bin/sh\nexec 2>&1\nexec tcpserver -v -R -x ${RULES}.cdb -u 7791 -g 2108 0 25 /var/qmail/bin/qmail-smtpd\n`);
  fs.writeFileSync(path.join(dir, "log/run"), "#!/bin/sh\nexec setuidgid qmaill multilog t ./main\n");
  fs.symlinkSync("/var/qmail/supervise/smtpd", path.join(root, "service/smtpd"));
  fs.writeFileSync(path.join(root, RULES), source);
  fs.writeFileSync(path.join(root, `${RULES}.cdb`), cdb);
  return importHost(new DirectorySource(root), { hostName: "mx1", address: "192.0.2.25", hostKey: HOST_KEY });
}

const rulesOf = (result: Awaited<ReturnType<typeof importWith>>) => (result.raw.tcpRules as Record<string, { rules: unknown }>)[`${RULES}.cdb`].rules;

describe("a tcprules source beside the cdb", () => {
  const ours = buildTcpRules([
    { address: "127.", action: "allow", env: { RBLSMTPD: "", RELAYCLIENT: "" } },
    { address: "192.0.2.66", action: "deny" },
    { address: "", action: "allow" },
  ]);

  it("the same rules with variables in another order: no blame, the source's rules, and the source no longer builds the cdb", async () => {
    expect(ours.equals(buildTcpRules(SOURCE))).toBe(false);
    const result = await importWith(SOURCE, ours);
    expect(result.warnings.filter((w) => w.file === RULES || w.file === `${RULES}.cdb`)).toEqual([]);
    expect(rulesOf(result)).toEqual([
      { address: "127.", action: "allow", env: { RELAYCLIENT: "", RBLSMTPD: "" } },
      { address: "192.0.2.66", action: "deny" },
      { address: "", action: "allow" },
    ]);
    expect(result.yaml).toContain(`# ${RULES}.cdb is built from these rules, no longer from ${RULES}: edit them here`);
  });

  it("other rules: named, and the rules taken from the cdb", async () => {
    const result = await importWith(SOURCE.replace("192.0.2.66", "192.0.2.67"), ours);
    expect(result.warnings.find((w) => w.file === RULES)?.message).toMatch(/^holds other rules than .*tcp\.smtp\.cdb/);
    expect(JSON.stringify(rulesOf(result))).toContain("192.0.2.66");
  });
});
