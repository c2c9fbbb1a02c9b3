// A value only the host can tell (a variable the script does not set, a
// command the import does not run) is never written into an option: a path
// holding `$VQ` names no file, and the rendered script would quote it as text.
// Variables the script does set are put in, inside command substitutions too,
// as the shell would.
import { describe, expect, it } from "vitest";
import { importService } from "../../../lib/import/service-import";

const DIR = "/var/qmail/supervise/smtpd";
const facts = { users: { qmaild: { uid: "7791", gid: "2108" } }, files: { "/var/qmail/control/me": "mx.example.net\n" } };
const lines = (warnings: Array<{ file: string; line: number; message: string }>) => warnings.map((w) => `${w.file}:${w.line}: ${w.message}`);
const LOG = "#!/bin/sh\nexec setuidgid qmaill multilog t ./main\n";

function imported(run: string) {
  return importService({ name: "smtpd", dir: DIR, run, logRun: LOG, facts, accounts: facts.users });
}

describe("variables inside command substitutions", () => {
  it("are put in before the lookup is read: ${VQ:-/var/qmail} in backquotes names /var/qmail/control/me", () => {
    const service = imported(`#!/bin/sh
exec 2>&1
LOCAL=\`head -1 \${VQ:-/var/qmail}/control/me\`
exec tcpserver -v -l "$LOCAL" -u \`id -u qmaild\` -g \`id -g qmaild\` 0 25 /var/qmail/bin/qmail-smtpd
`);
    expect(service.fields.qmailDir).toBeUndefined();
    expect(JSON.stringify(service.fields)).not.toMatch(/[$`]/);
    expect(lines(service.warnings).join("\n")).not.toMatch(/depends on the host/);
  });

  it("quoted inside $(...), a variable set on an earlier line is put in", () => {
    const service = imported(`#!/bin/sh
exec 2>&1
VQ="/opt/qmail"
QUSER=qmaild
LOCAL=$(head -n 1 "$VQ/control/me")
exec tcpserver -v -l "$LOCAL" -u $(id -u "$QUSER") -g $(id -g "\${QUSER}") 0 25 $VQ/bin/qmail-smtpd
`);
    expect(service.fields.qmailDir).toBe("/opt/qmail");
    // qmaild's ids, looked up: the user is qmaild (the default, so left out).
    expect(service.fields.user).toBeUndefined();
    expect(lines(service.warnings).join("\n")).not.toMatch(/QUSER|set user by hand/);
    expect(JSON.stringify(service.fields)).not.toMatch(/[$`]/);
  });
});

describe("a value the host alone can tell", () => {
  it("leaves the option unset with a warning at its line: an unset $QMAIL in qmail-smtpd's path", () => {
    const service = imported(`#!/bin/sh
exec 2>&1
exec tcpserver -v -l mx.example.net -u 7791 -g 2108 0 25 \\
  $QMAIL/bin/rblsmtpd -r zen.example.org $QMAIL/bin/qmail-smtpd
`);
    expect(JSON.stringify(service.fields)).not.toMatch(/[$`]/);
    expect(service.fields.smtpdProgram).toBeUndefined();
    const warnings = lines(service.warnings);
    expect(warnings).toContain(`${DIR}/run:3: \${QMAIL}/bin/qmail-smtpd depends on the host (a variable or command the import cannot evaluate): smtpdProgram is left unset; set it by hand`);
    expect(warnings).toContain(`${DIR}/run:3: \${QMAIL}/bin/rblsmtpd depends on the host (a variable or command the import cannot evaluate): rblsmtpd.program is left unset; set it by hand`);
  });

  it("in a command substitution, leaves the lookup unread rather than reading a path with $NAME in it", () => {
    const service = imported(`#!/bin/sh
exec 2>&1
LOCAL=\`head -1 $VQ/control/me\`
exec tcpserver -v -l "$LOCAL" -u 7791 -g 2108 0 25 /var/qmail/bin/qmail-smtpd
`);
    expect(service.fields.qmailDir).toBeUndefined();
    expect(service.fields.localHostName).toBeUndefined();
    expect(JSON.stringify(service.fields)).not.toMatch(/[$`]/);
    expect(lines(service.warnings)).toContain(`${DIR}/run:4: -l $(head -1 $VQ/control/me) depends on the host: set localHostName by hand`);
  });
});
