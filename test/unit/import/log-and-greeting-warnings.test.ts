// Warnings that must say the same thing however the import is run, and name
// what is really dropped: the multilog directory the rendered script leaves
// out, and a greeting built from control/me, read alone or with other services.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { importHost } from "../../../lib/import/host-import";
import { DirectorySource } from "../../../lib/import/host-source";
import { importService } from "../../../lib/import/service-import";

const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKREcv9w/RBTq8tGL0tCpFgM07bu1UoHQJLyD4sT+RgM";
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "qmail-fleet-log-greeting-"));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));
const RUN = "#!/bin/sh\nexec 2>&1\nexec tcpserver -v -l mx.example.net -u 7791 -g 2108 0 26 /var/qmail/bin/qmail-smtpd\n";

describe("a multilog with two directories", () => {
  it("names the directory the rendered script drops (./main/rbl), not the ./main it keeps", () => {
    const logRun = "#!/bin/sh\nexec setuidgid qmaill multilog t s5000000 n20 '-*' '+* rblsmtpd:*' ./main/rbl '+*' ./main\n";
    const messages = importService({ name: "smtpd-26", dir: "/var/qmail/supervise/smtpd-26", run: RUN, logRun }).warnings.map((w) => w.message);
    expect(messages).toContain("multilog writes a second log directory ./main/rbl: no option for it; the rendered log script writes ./main only (leave the service out of the config if it needs it)");
    expect(messages.join("\n")).not.toMatch(/second log directory \.\/main:|writes to \.\/main\/rbl/);
  });

  it("without ./main, names the first as moved and the others as dropped", () => {
    const logRun = "#!/bin/sh\nexec setuidgid qmaill multilog t /var/log/smtpd '-*' '+*rbl*' /var/log/smtpd-rbl\n";
    const messages = importService({ name: "smtpd", dir: "/var/qmail/supervise/smtpd", run: RUN, logRun }).warnings.map((w) => w.message);
    expect(messages).toContain("multilog writes to /var/log/smtpd: the rendered log script writes to ./main");
    expect(messages.find((m) => m.startsWith("multilog writes a second log directory /var/log/smtpd-rbl:"))).toBeDefined();
  });
});

describe("SMTPGREETING from control/me", () => {
  const ssl = `#!/bin/sh
exec 2>&1
VQ=/var/qmail
QUID=\`id -u qmaild\`
QGID=\`id -g qmaild\`
LOCAL=\`head -1 $VQ/control/me\`
SMTPGREETING="$LOCAL ESMTP" ; export SMTPGREETING
exec tcpserver -vRH -l "$LOCAL" -c 20 -u "$QUID" -g "$QGID" 10.0.0.29 2529 qmail-smtpd
`;
  const other = "#!/bin/sh\nexec 2>&1\nexec tcpserver -v -l mx.example.net -u 7791 -g 2108 10.0.0.29 25 /var/qmail/bin/qmail-smtpd\n";

  function hostWith(services: Record<string, string>): string {
    const root = fs.mkdtempSync(path.join(scratch, "host-"));
    fs.mkdirSync(path.join(root, "service"));
    fs.mkdirSync(path.join(root, "etc"));
    fs.mkdirSync(path.join(root, "var/qmail/control"), { recursive: true });
    fs.writeFileSync(path.join(root, "var/qmail/control/me"), "mx-a.example.net\n");
    fs.writeFileSync(path.join(root, "etc/passwd"), "qmaild:x:7791:2108::/var/qmail:/bin/false\nqmaill:x:7792:2108::/var/qmail:/bin/false\n");
    for (const [name, run] of Object.entries(services)) {
      const dir = path.join(root, "var/qmail/supervise", name);
      fs.mkdirSync(path.join(dir, "log"), { recursive: true });
      fs.writeFileSync(path.join(dir, "run"), run);
      fs.writeFileSync(path.join(dir, "log/run"), "#!/bin/sh\nexec setuidgid qmaill multilog t ./main\n");
      fs.symlinkSync(`/var/qmail/supervise/${name}`, path.join(root, "service", name));
    }
    return root;
  }

  async function greetingWarning(root: string): Promise<string | undefined> {
    const result = await importHost(new DirectorySource(root), { hostName: "mx-a", address: "192.0.2.20", hostKey: HOST_KEY });
    const warning = result.warnings.find((w) => w.message.startsWith("SMTPGREETING="));
    return warning && `${warning.file}:${warning.line}: ${warning.message}`;
  }

  it("gets the same warning read alone as read with the host's other services", async () => {
    const alone = await greetingWarning(hostWith({ "smtpd-ssl": ssl }));
    const withOthers = await greetingWarning(hostWith({ "smtpd-ssl": ssl, smtpd: other }));
    expect(alone).toBe(
      '/var/qmail/supervise/smtpd-ssl/run:7: SMTPGREETING=$(head -n 1 /var/qmail/control/me) ESMTP is written out as "mx-a.example.net ESMTP" (the script reads control/me when it starts; the config holds the text)',
    );
    expect(withOthers).toBe(alone);
  });

  it("is not written out from another qmail directory's control/me", () => {
    const run = ssl.replace("VQ=/var/qmail", "VQ=/opt/qmail");
    const service = importService({ name: "smtpd-ssl", dir: "/var/qmail/supervise/smtpd-ssl", run, localName: "mx-a.example.net", hostQmailDir: "/var/qmail" });
    expect(service.fields.smtpGreeting).toBeUndefined();
    expect(service.warnings.find((w) => w.message.startsWith("SMTPGREETING="))?.message).toBe("SMTPGREETING=$(head -n 1 /opt/qmail/control/me) ESMTP depends on the host: set it by hand");
  });
});
