// A program in qmail-smtpd's place that starts qmail-smtpd itself (spamdyke,
// stunnel) is no qmail-smtpd: no option holds a wrapper, so the import says
// so at its line and never writes the wrapper as smtpdProgram with its
// arguments dropped.
import { describe, expect, it } from "vitest";
import { ImportError, importService } from "../../../lib/import/service-import";

const DIR = "/var/qmail/supervise/smtp";
const LOG = "#!/bin/sh\nexec setuidgid qmaill multilog t ./main\n";
const accounts = { qmaild: { uid: "7791", gid: "2108" } };
const lines = (warnings: Array<{ file: string; line: number; message: string }>) => warnings.map((w) => `${w.file}:${w.line}: ${w.message}`);

describe("a wrapper in qmail-smtpd's place", () => {
  it("spamdyke with its configuration: named at its line; qmail-smtpd after it is the one imported", () => {
    const run = `#!/bin/sh
exec 2>&1
exec tcpserver -v -R -l mx.example.net -u 7791 -g 2108 0 25 \\
    /usr/bin/spamdyke --config-file /etc/spamdyke/spamdyke.conf \\
    /opt/qmail/bin/qmail-smtpd
`;
    const service = importService({ name: "smtp", dir: DIR, run, logRun: LOG, accounts });
    expect(service.fields.smtpdProgram).toBe("/opt/qmail/bin/qmail-smtpd");
    expect(lines(service.warnings)).toContain(
      `${DIR}/run:3: /usr/bin/spamdyke --config-file /etc/spamdyke/spamdyke.conf is a wrapper that runs qmail-smtpd: no option for it; the rendered script runs /opt/qmail/bin/qmail-smtpd directly, without the wrapper (leave the service out of the config if it needs it)`,
    );
  });

  it("stunnel, which starts qmail-smtpd from its own configuration: the service is refused by its line", () => {
    const run = `#!/bin/sh
exec 2>&1
exec tcpserver -v -R -x /etc/tcp.smtp.cdb -c 20 -u 7791 -g 2108 10.0.0.30 smtps \\
  /usr/bin/stunnel /etc/stunnel/smtps-qmail.conf
`;
    expect(() => importService({ name: "smtp", dir: DIR, run, logRun: LOG, accounts })).toThrow(ImportError);
    expect(() => importService({ name: "smtp", dir: DIR, run, logRun: LOG, accounts })).toThrow(
      `${DIR}/run:3: the server runs /usr/bin/stunnel /etc/stunnel/smtps-qmail.conf, not qmail-smtpd: a wrapper that starts qmail-smtpd from its own configuration has no option (smtpdProgram is one program without arguments); import this service by hand`,
    );
  });

  it("a program of another name without arguments is still smtpdProgram", () => {
    const run = "#!/bin/sh\nexec 2>&1\nexec tcpserver -v -l mx.example.net -u 7791 -g 2108 0 25 /usr/local/sbin/smtpd-front\n";
    expect(importService({ name: "smtp", dir: DIR, run, logRun: LOG, accounts }).fields.smtpdProgram).toBe("/usr/local/sbin/smtpd-front");
  });
});
