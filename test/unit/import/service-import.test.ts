// importService on scripts that are not (only) what the config can say: a
// non-SMTP daemon is refused by name, and an AUTH the config cannot express
// is reported as AUTH lost, not only as arguments without an option.
import { describe, expect, it } from "vitest";
import { importService, ImportError } from "../../../lib/import/service-import";

const script = (daemon: string) => `#!/bin/sh
exec 2>&1
exec tcpserver -v -R -u 1001 -g 1002 0 110 ${daemon}
`;

describe("importService", () => {
  it("refuses a POP3 service by the line that runs qmail-popup", () => {
    const run = () => importService({ name: "pop3d", dir: "/var/qmail/supervise/pop3d", run: script("/var/qmail/bin/qmail-popup mail.example.com /bin/checkpassword /var/qmail/bin/qmail-pop3d Maildir") });
    expect(run).toThrow(ImportError);
    expect(run).toThrow("/var/qmail/supervise/pop3d/run:3: the server runs qmail-popup (POP3), not qmail-smtpd: qmail-fleet manages SMTP services only");
  });

  it("imports the same chain running qmail-smtpd", () => {
    const imported = importService({ name: "smtpd", dir: "/var/qmail/supervise/smtpd", run: script("/var/qmail/bin/qmail-smtpd") });
    expect(imported).toBeDefined();
  });

  it("says that a service whose AUTH arguments have no option offers no AUTH once imported", () => {
    const imported = importService({ name: "smtp", dir: "/var/qmail/supervise/smtp", run: script("/var/qmail/bin/qmail-smtpd /home/vpopmail/bin/vchkpw /bin/true") });
    const messages = imported.warnings.map((w) => `${w.line}: ${w.message}`);
    expect(messages.some((m) => m.startsWith("3: qmail-smtpd /home/vpopmail/bin/vchkpw /bin/true: this host's qmail-smtpd takes AUTH as CHECKPW TRUE") && m.includes("the imported service offers no AUTH"))).toBe(true);
  });

  it("for the two-argument AUTH form, never advises a config that would break this host's AUTH", () => {
    const imported = importService({ name: "smtp", dir: "/var/qmail/supervise/smtp", run: script("/var/qmail/bin/qmail-smtpd /home/vpopmail/bin/vchkpw /bin/true") });
    const message = imported.warnings.find((w) => w.message.includes("vchkpw"))!.message;
    // It says the forms differ and what the option would render, and advises checkpassword only with the combined patch's qmail-smtpd.
    expect(message).toContain("the config models the combined patch, whose qmail-smtpd takes LOCAL CHECKPW TRUE");
    expect(message).toContain("would render qmail-smtpd LOCAL /home/vpopmail/bin/vchkpw /bin/true");
    expect(message).toMatch(/keep it only once the host runs the combined patch's qmail-smtpd \(then set auth method checkpassword[^)]*\), else leave the service out of the config$/);
    expect(imported.fields.auth).toBeUndefined();
  });

  it("AUTH=1, the combined patch script's switch, is named as one qmail-smtpd does not read", () => {
    const run = script("/var/qmail/bin/qmail-smtpd").replace("exec tcpserver", "AUTH=1; export AUTH\nexec tcpserver");
    const imported = importService({ name: "smtp", dir: "/var/qmail/supervise/smtp", run });
    expect(imported.warnings.find((w) => w.message.startsWith("AUTH=1: "))?.message).toContain("qmail-smtpd itself does not read it");
  });
});

describe("importHost", () => {
  it("follows a chain of links, and warns that a service kept down by a down file would be started", async () => {
    const fs = await import("node:fs");
    const os = await import("node:os");
    const path = await import("node:path");
    const { importHost } = await import("../../../lib/import/host-import");
    const { DirectorySource } = await import("../../../lib/import/host-source");
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "qmail-fleet-down-"));
    try {
      const dir = path.join(root, "var/qmail/supervise/smtpd");
      fs.mkdirSync(path.join(dir, "log"), { recursive: true });
      fs.writeFileSync(path.join(dir, "run"), script("/var/qmail/bin/qmail-smtpd"));
      fs.writeFileSync(path.join(dir, "down"), "");
      // /service/smtpd -> /etc/sv/smtpd -> /var/qmail/supervise/smtpd: followed to its end.
      fs.mkdirSync(path.join(root, "service"));
      fs.mkdirSync(path.join(root, "etc/sv"), { recursive: true });
      fs.symlinkSync("/var/qmail/supervise/smtpd", path.join(root, "etc/sv/smtpd"));
      fs.symlinkSync("/etc/sv/smtpd", path.join(root, "service/smtpd"));
      const hostKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKREcv9w/RBTq8tGL0tCpFgM07bu1UoHQJLyD4sT+RgM";
      const result = await importHost(new DirectorySource(root), { hostName: "mx1", address: "192.0.2.25", hostKey });
      expect((result.raw.hosts as Array<{ services: unknown[] }>)[0].services).toHaveLength(1);
      expect(result.warnings.filter((w) => w.file === "/var/qmail/supervise/smtpd/down").map((w) => w.message)).toEqual([
        "the service is down on purpose (a down file): pulumi up removes the down file and starts the service; leave the service out of the config if it must stay down",
      ]);

      // A service the import leaves out (here a POP3 server) is not started by pulumi up: no word about its down file.
      const pop3 = path.join(root, "var/qmail/supervise/pop3d");
      fs.mkdirSync(pop3, { recursive: true });
      fs.writeFileSync(path.join(pop3, "run"), "#!/bin/sh\nexec tcpserver 0 110 qmail-popup mx1 checkpassword qmail-pop3d Maildir 2>&1\n");
      fs.writeFileSync(path.join(pop3, "down"), "");
      fs.symlinkSync("/var/qmail/supervise/pop3d", path.join(root, "service/pop3d"));
      const again = await importHost(new DirectorySource(root), { hostName: "mx1", address: "192.0.2.25", hostKey });
      expect(again.warnings.some((w) => w.file === "/var/qmail/supervise/pop3d/run" && w.message.startsWith("service not imported"))).toBe(true);
      expect(again.warnings.filter((w) => w.file === "/var/qmail/supervise/pop3d/down")).toEqual([]);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});

describe("a variable the options do not know", () => {
  it("names the option whose variable is spelt the same but for underscores", () => {
    const run = `#!/bin/sh
FORCETLS=1
export FORCETLS
exec tcpserver -v -R -u 1001 -g 1002 0 587 /var/qmail/bin/qmail-smtpd
`;
    const imported = importService({ name: "submission", dir: "/var/qmail/supervise/submission", run });
    const messages = imported.warnings.map((w) => w.message).filter((m) => m.startsWith("FORCETLS=1"));
    expect(messages).toEqual(["FORCETLS=1: no option for it; the options write FORCE_TLS (forceTls), which the combined patch's qmail-smtpd reads: set forceTls by hand if FORCETLS meant the same; the rendered script does not set it, so qmail-smtpd and what it starts no longer get it (leave the service out of the config if it needs it)"]);
  });
});
