// The service's group is what tcpserver -g (or envuidgid) really gets, named
// by the host's /etc/group; it owns the SSL key and auth.cdb. A variable's
// name (QGID) says nothing about it, and a group the import cannot name is
// left to the admin with a warning.
import { describe, expect, it } from "vitest";
import { importService } from "../../../lib/import/service-import";

const DIR = "/var/qmail/supervise/smtpd";
const LOG = "#!/bin/sh\nexec setuidgid qmaill multilog t ./main\n";
const accounts = { qmaild: { uid: "7791", gid: "2108" } };
const facts = { users: accounts, files: { "/var/qmail/control/me": "mx.example.net\n" } };
const lines = (warnings: Array<{ file: string; line: number; message: string }>) => warnings.map((w) => `${w.file}:${w.line}: ${w.message}`);

const jms1Style = `#!/bin/sh
exec 2>&1
PATH="/var/qmail/bin:/usr/local/bin:/usr/bin:/bin"
export PATH
QUID=\`id -u qmaild\`
QGID=\`id -g qmaild\`
LOCAL=\`head -1 /var/qmail/control/me\`
exec tcpserver -vR -l "$LOCAL" -c 30 -u "$QUID" -g "$QGID" 0 2531 qmail-smtpd
`;

describe("the service group", () => {
  it("is not read from the variable's name: QGID is no group q", () => {
    const service = importService({ name: "smtpd", dir: DIR, run: jms1Style, logRun: LOG, facts, accounts, groups: { "2108": "qmail" } });
    expect(service.fields.group).toBe("qmail");
  });

  it("is the default where /etc/group names the id nofiles", () => {
    const service = importService({ name: "smtpd", dir: DIR, run: jms1Style, logRun: LOG, facts, accounts, groups: { "2108": "nofiles" } });
    expect(service.fields.group).toBeUndefined();
    expect(lines(service.warnings).join("\n")).not.toMatch(/group/);
  });

  it("is left unset with a warning where the host does not name it", () => {
    const service = importService({ name: "smtpd", dir: DIR, run: jms1Style, logRun: LOG, facts, accounts, groups: {} });
    expect(service.fields.group).toBeUndefined();
    expect(lines(service.warnings)).toContain(
      `/etc/group:0: -g 2108: no group with id 2108 is in /etc/group; group is left unset (default nofiles), and the group owns the SSL key and auth.cdb the service reads: set group by hand to the service's group (${DIR}/run:8)`,
    );
  });

  it("follows envuidgid with tcpserver -U", () => {
    const run = `#!/bin/sh
exec 2>&1
exec envuidgid qmaild tcpserver -U -v -l mx.example.net 0 25 /var/qmail/bin/qmail-smtpd
`;
    const service = importService({ name: "smtpd", dir: DIR, run, logRun: LOG, facts, accounts, groups: { "2108": "qmail" } });
    expect(service.fields.group).toBe("qmail");
  });
});
