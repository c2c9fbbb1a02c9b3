// A program in qmail-smtpd's place that starts qmail-smtpd itself (stunnel,
// spamdyke, a TLS wrapper) is no qmail-smtpd: no option holds a wrapper, and a
// config without it would run qmail-smtpd bare (port 465 speaking plain SMTP,
// filtering gone), so the service is left out by its line, never imported
// without the wrapper nor with the wrapper as smtpdProgram.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { importHost } from "../../../lib/import/host-import";
import { DirectorySource } from "../../../lib/import/host-source";
import { ImportError, importService } from "../../../lib/import/service-import";
import { hostCopy, LOG_RUN as LOG } from "./host-copy";

const DIR = "/var/qmail/supervise/smtp";
const accounts = { qmaild: { uid: "7791", gid: "2108" } };
const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKREcv9w/RBTq8tGL0tCpFgM07bu1UoHQJLyD4sT+RgM";
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "qmail-fleet-smtpd-wrappers-"));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

const refusal = (run: string): string => {
  try {
    importService({ name: "smtp", dir: DIR, run, logRun: LOG, accounts });
  } catch (error) {
    expect(error).toBeInstanceOf(ImportError);
    return (error as Error).message;
  }
  throw new Error("imported");
};

describe("a wrapper in qmail-smtpd's place", () => {
  it("spamdyke with its configuration: the service is left out by its line (spamdyke filters, and may do TLS itself)", () => {
    const run = `#!/bin/sh
exec 2>&1
exec tcpserver -v -R -l mx.example.net -u 7791 -g 2108 0 25 \\
    /usr/bin/spamdyke --config-file /etc/spamdyke/spamdyke.conf \\
    /opt/qmail/bin/qmail-smtpd
`;
    expect(refusal(run)).toBe(
      `${DIR}/run:3: the server runs /usr/bin/spamdyke --config-file /etc/spamdyke/spamdyke.conf, a wrapper that runs /opt/qmail/bin/qmail-smtpd: no option for it, and a config without it would run qmail-smtpd directly, without what the wrapper does (TLS, filtering); keep the service as it runs, out of the config, or import it by hand`,
    );
  });

  it("stunnel, which starts qmail-smtpd from its own configuration: the service is left out, TLS by stunnel named", () => {
    const run = `#!/bin/sh
exec 2>&1
exec tcpserver -v -R -x /etc/tcp.smtp.cdb -c 20 -u 7791 -g 2108 10.0.0.30 smtps \\
  /usr/bin/stunnel /etc/stunnel/smtps-qmail.conf
`;
    expect(refusal(run)).toBe(
      `${DIR}/run:3: the server runs /usr/bin/stunnel, which starts qmail-smtpd: TLS by stunnel, which qmail-fleet does not manage (a config without it would speak plain SMTP on port 465); keep the service as it runs, out of the config, or move it to sslserver (ssl: true) by hand`,
    );
  });

  it("stunnel 3 in inetd mode (-l qmail-smtpd -- argv): left out like the other stunnel form, its argv not read as AUTH", () => {
    const run = `#!/bin/sh
exec tcpserver -v -R -l 0 -x /etc/tcp.smtps.cdb -c 20 -u 7791 -g 2108 0 465 /usr/sbin/stunnel -f -p /var/qmail/control/servercert.pem -l /var/qmail/bin/qmail-smtpd -- qmail-smtpd mail.example.com /bin/checkpassword /bin/true 2>&1
`;
    expect(refusal(run)).toBe(
      `${DIR}/run:2: the server runs /usr/sbin/stunnel, which starts qmail-smtpd: TLS by stunnel, which qmail-fleet does not manage (a config without it would speak plain SMTP on port 465); keep the service as it runs, out of the config, or move it to sslserver (ssl: true) by hand`,
    );
  });

  it("another wrapper (a TLS wrapper, or one in front of rblsmtpd) is never dropped from the chain", () => {
    const tls = "#!/bin/sh\nexec 2>&1\nexec tcpserver -v -l mx.example.net -u 7791 -g 2108 0 465 /usr/local/bin/tlswrap -k /etc/ssl/key.pem /var/qmail/bin/qmail-smtpd\n";
    expect(refusal(tls)).toBe(
      `${DIR}/run:3: the server runs /usr/local/bin/tlswrap -k /etc/ssl/key.pem, a wrapper that runs /var/qmail/bin/qmail-smtpd: no option for it, and a config without it would run qmail-smtpd directly, without what the wrapper does (TLS, filtering); keep the service as it runs, out of the config, or import it by hand`,
    );
    const before = "#!/bin/sh\nexec 2>&1\nexec tcpserver -v -l mx.example.net -u 7791 -g 2108 0 465 /usr/local/bin/tlswrap rblsmtpd -r zen.spamhaus.org /var/qmail/bin/qmail-smtpd\n";
    expect(refusal(before)).toMatch(/^\/var\/qmail\/supervise\/smtp\/run:3: the server runs \/usr\/local\/bin\/tlswrap rblsmtpd -r zen.spamhaus.org, a wrapper that runs/);
    const after = "#!/bin/sh\nexec 2>&1\nexec tcpserver -v -l mx.example.net -u 7791 -g 2108 0 465 rblsmtpd -r zen.spamhaus.org /usr/local/bin/tlswrap /var/qmail/bin/qmail-smtpd\n";
    expect(refusal(after)).toMatch(/^\/var\/qmail\/supervise\/smtp\/run:3: the server runs \/usr\/local\/bin\/tlswrap, a wrapper that runs/);
  });

  it("a program of another name without arguments is still smtpdProgram", () => {
    const run = "#!/bin/sh\nexec 2>&1\nexec tcpserver -v -l mx.example.net -u 7791 -g 2108 0 25 /usr/local/sbin/smtpd-front\n";
    expect(importService({ name: "smtp", dir: DIR, run, logRun: LOG, accounts }).fields.smtpdProgram).toBe("/usr/local/sbin/smtpd-front");
  });

  it("on a host: the stunnel service is not in the config, named by file and line; the host's other service is", async () => {
    const root = hostCopy(scratch, {
      smtps: "#!/bin/sh\nexec tcpserver -v -R -l 0 -c 20 -u 7791 -g 2108 0 465 /usr/sbin/stunnel -f -p /var/qmail/control/servercert.pem -l /var/qmail/bin/qmail-smtpd -- qmail-smtpd mail.example.com /bin/checkpassword /bin/true 2>&1\n",
      smtpd: "#!/bin/sh\nexec 2>&1\nexec tcpserver -v -R -l mx.example.net -u 7791 -g 2108 0 25 /var/qmail/bin/qmail-smtpd\n",
    });
    const result = await importHost(new DirectorySource(root), { hostName: "mx1", address: "192.0.2.25", hostKey: HOST_KEY });
    const services = (result.raw.hosts as Array<{ services: Array<Record<string, unknown>> }>)[0].services;
    expect(services.map((service) => service.name)).toEqual(["smtpd"]);
    const warnings = result.warnings.map((w) => `${w.file}:${w.line}: ${w.message}`);
    expect(warnings).toContain(
      "/var/qmail/supervise/smtps/run:2: service not imported: the server runs /usr/sbin/stunnel, which starts qmail-smtpd: TLS by stunnel, which qmail-fleet does not manage (a config without it would speak plain SMTP on port 465); keep the service as it runs, out of the config, or move it to sslserver (ssl: true) by hand",
    );
  });
});
