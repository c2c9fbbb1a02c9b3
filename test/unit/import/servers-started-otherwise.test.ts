// Scripts that run tcpserver in ways other than `exec tcpserver`: runit's
// chpst -U (envuidgid's job), Gentoo's settings sourced from conf-* files,
// and a bash script that runs the server without exec. Each is read as the
// SMTP service it is; what the config cannot keep is named by its line.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { importHost } from "../../../lib/import/host-import";
import { DirectorySource } from "../../../lib/import/host-source";
import { importService } from "../../../lib/import/service-import";

const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKREcv9w/RBTq8tGL0tCpFgM07bu1UoHQJLyD4sT+RgM";
const LOG = "#!/bin/sh\nexec setuidgid qmaill multilog t ./main\n";
const accounts = { qmaild: { uid: "7791", gid: "2108" } };
const lines = (warnings: Array<{ file: string; line: number; message: string }>) => warnings.map((w) => `${w.file}:${w.line}: ${w.message}`);
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "qmail-fleet-servers-otherwise-"));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

/** A host copy with one service and the given extra files (host path → text). */
function hostCopy(name: string, run: string, files: Record<string, string> = {}): string {
  const root = fs.mkdtempSync(path.join(scratch, `${name}-`));
  const dir = path.join(root, "var/qmail/supervise", name);
  fs.mkdirSync(path.join(dir, "log"), { recursive: true });
  fs.mkdirSync(path.join(root, "service"));
  fs.mkdirSync(path.join(root, "etc"));
  fs.writeFileSync(path.join(dir, "run"), run, { mode: 0o755 });
  fs.writeFileSync(path.join(dir, "log/run"), LOG, { mode: 0o755 });
  fs.writeFileSync(path.join(root, "etc/passwd"), "qmaild:x:7791:2108::/var/qmail:/bin/false\nqmaill:x:7792:2108::/var/qmail:/bin/false\n");
  fs.writeFileSync(path.join(root, "etc/group"), "nofiles:x:2108:\n");
  for (const [file, text] of Object.entries({ "/var/qmail/control/me": "mx.example.net\n", ...files })) {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), text);
  }
  fs.symlinkSync(`/var/qmail/supervise/${name}`, path.join(root, "service", name));
  return root;
}

async function importOne(root: string) {
  const result = await importHost(new DirectorySource(root), { hostName: "mx1", address: "192.0.2.25", hostKey: HOST_KEY });
  const services = (result.raw.hosts as Array<{ services: Array<Record<string, unknown>> }>)[0].services;
  return { services, warnings: lines(result.warnings) };
}

describe("chpst", () => {
  it("-U user:group is envuidgid's job: tcpserver -U gets the user, and the group is the one named", () => {
    const run = `#!/bin/sh
exec 2>&1
exec chpst -U qmaild:nofiles \\
  tcpserver -v -R -x /etc/tcp.smtp.cdb -c 40 -U -l mx.example.net 0 25 /var/qmail/bin/qmail-smtpd
`;
    const service = importService({ name: "smtpd", dir: "/etc/sv/smtpd", run, logRun: LOG, accounts });
    expect(service.fields).toMatchObject({ ip: "0" });
    expect(service.fields.user).toBeUndefined(); // qmaild, the default
    const warnings = lines(service.warnings);
    expect(warnings).toContain("/etc/sv/smtpd/run:3: chpst -U qmaild with tcpserver -U: imported as user qmaild (the rendered script passes -u/-g, so UID and GID are no longer in the server's environment)");
    expect(warnings.join("\n")).not.toMatch(/not an SMTP service|no option for it; the rendered script passes/);
  });

  it("with a memory limit, is named before the server like softlimit", () => {
    const run = "#!/bin/sh\nexec 2>&1\nexec chpst -m 20000000 -U qmaild tcpserver -v -U -l mx.example.net 0 25 /var/qmail/bin/qmail-smtpd\n";
    const service = importService({ name: "smtpd", dir: "/etc/sv/smtpd", run, logRun: LOG, accounts });
    expect(lines(service.warnings)).toContain("/etc/sv/smtpd/run:3: chpst -m 20000000 -U qmaild before the server: no option for it; the rendered script runs the server directly");
  });
});

describe("Gentoo's run script", () => {
  const run = `#!/bin/sh
exec 2>&1
. /var/qmail/control/conf-common
. /var/qmail/control/conf-smtpd
exec /usr/bin/softlimit \${SOFTLIMIT_OPTS} \\
	/usr/bin/tcpserver \${TCPSERVER_OPTS} \\
	-x \${TCPSERVER_RULESCDB} -c \${MAXCONN} -u \${QMAILDUID} -g \${NOFILESGID} \\
	\${TCPSERVER_HOST} \${TCPSERVER_PORT} \\
	\${QMAIL_SMTP_PRE} /var/qmail/bin/qmail-smtpd \${QMAIL_SMTP_CHECKPASSWORD} \${QMAIL_SMTP_POST}
`;
  const common = `# conf-common
QMAILDUID=\`id -u qmaild\`
NOFILESGID=\`id -g qmaild\`
SOFTLIMIT_OPTS="-m 8000000"
TCPSERVER_HOST=10.0.0.26
TCPSERVER_OPTS="-v -R"
MAXCONN=\`head -1 /var/qmail/control/concurrencyincoming\`
`;
  const smtpd = `TCPSERVER_PORT=smtp
TCPSERVER_RULESCDB=/etc/tcprules.d/tcp.qmail-smtp.cdb
QMAIL_SMTP_PRE="rblsmtpd -r zen.example.org"
QMAIL_SMTP_CHECKPASSWORD=""
QMAIL_SMTP_POST=""
export DATABYTES=8388608
`;

  it("reads the plain settings of the conf files it sources, and what they look up", async () => {
    const root = hostCopy("qmail-smtpd", run, {
      "/var/qmail/control/conf-common": common,
      "/var/qmail/control/conf-smtpd": smtpd,
      "/var/qmail/control/concurrencyincoming": "50\n",
    });
    const { services, warnings } = await importOne(root);
    expect(services).toHaveLength(1);
    expect(services[0]).toMatchObject({ ip: "10.0.0.26", maxConnections: 50, accessRules: "/etc/tcprules.d/tcp.qmail-smtp.cdb", dataBytes: 8388608, rblsmtpd: { blockLists: ["zen.example.org"] } });
    expect(warnings.join("\n"), warnings.join("\n")).not.toMatch(/sources|not an SMTP service|not imported/);
  });

  it("names the line of a sourced file that does more than set variables", async () => {
    const root = hostCopy("qmail-smtpd", run, {
      "/var/qmail/control/conf-common": `${common}[ -f /etc/qmail-off ] && exit 1\n`,
      "/var/qmail/control/conf-smtpd": smtpd,
    });
    const { services, warnings } = await importOne(root);
    expect(services).toHaveLength(0);
    expect(warnings.join("\n")).toMatch(/qmail-smtpd\/run:5: service not imported: .*\(line 3: sources \/var\/qmail\/control\/conf-common, which does more than set variables: not evaluated\)/);
  });
});

describe("a server run without exec", () => {
  it("is read as the final command, with a warning at its line", async () => {
    const run = `#!/bin/bash
export PATH=/var/qmail/bin:/usr/bin:/bin
QUID=$(id -u qmaild)
QGID=$(id -g qmaild)

	tcpserver -v -R -l mx1.example.net -c 25 -u $QUID -g $QGID 10.0.0.20 2526 qmail-smtpd 2>&1	# runs in foreground
`;
    const { services, warnings } = await importOne(hostCopy("smtpd-2526", run));
    expect(services[0]).toMatchObject({ ip: "10.0.0.20", port: 2526, maxConnections: 25, localHostName: "mx1.example.net" });
    expect(warnings.find((w) => w.startsWith("/var/qmail/supervise/smtpd-2526/run:6: the server is run without exec"))).toBeDefined();
  });
});
