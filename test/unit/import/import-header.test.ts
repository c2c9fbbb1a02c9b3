// The stack file's header counts what it says it counts: lines of the scripts
// the config cannot express apart from refused services and the config
// check's findings; a refusal names its file and line once.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { importHost } from "../../../lib/import/host-import";
import { DirectorySource } from "../../../lib/import/host-source";

const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKREcv9w/RBTq8tGL0tCpFgM07bu1UoHQJLyD4sT+RgM";
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "qmail-fleet-import-header-"));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

function service(root: string, name: string, run: string): void {
  const dir = path.join(root, "var/qmail/supervise", name);
  fs.mkdirSync(path.join(dir, "log"), { recursive: true });
  fs.writeFileSync(path.join(dir, "run"), run);
  fs.writeFileSync(path.join(dir, "log/run"), "#!/bin/sh\nPATH=/var/qmail/bin:/usr/bin:/bin\nexport PATH\nexec setuidgid qmaill multilog t ./main\n");
  fs.mkdirSync(path.join(root, "service"), { recursive: true });
  fs.symlinkSync(`/var/qmail/supervise/${name}`, path.join(root, "service", name));
}

describe("the import header", () => {
  it("counts unexpressed script lines, refused services and other warnings apart", async () => {
    const root = fs.mkdtempSync(path.join(scratch, "host-"));
    fs.mkdirSync(path.join(root, "etc"), { recursive: true });
    fs.writeFileSync(path.join(root, "etc/passwd"), "qmaild:x:7791:2108::/var/qmail:/bin/false\n");
    service(root, "smtpd", "#!/bin/sh\nexec 2>&1\nPATH=/var/qmail/bin:/usr/bin:/bin\nexport PATH\nsleep 1\nexec tcpserver -v -R -u 7791 -g 2108 0 25 /var/qmail/bin/qmail-smtpd\n");
    service(root, "pop3d", "#!/bin/sh\nexec 2>&1\nexec tcpserver -v -R 0 110 /var/qmail/bin/qmail-popup mx /bin/checkpassword /var/qmail/bin/qmail-pop3d Maildir\n");
    const result = await importHost(new DirectorySource(root), { hostName: "mx1", address: "192.0.2.25", hostKey: HOST_KEY });

    const refusal = result.warnings.find((w) => w.message.startsWith("service not imported"));
    expect(refusal).toMatchObject({ file: "/var/qmail/supervise/pop3d/run", line: 3 });
    expect(refusal!.message).not.toContain("/var/qmail/supervise/pop3d/run");

    const sleeps = result.warnings.filter((w) => w.file === "/var/qmail/supervise/smtpd/run");
    expect(sleeps.length).toBeGreaterThan(0);
    const header = result.yaml.split("\n").filter((line) => line.startsWith("# "));
    expect(header).toContain("# 1 service imported, 1 not (refused: the import printed why).");
    expect(header).toContain(`# ${sleeps.length} ${sleeps.length === 1 ? "line" : "lines"} of their scripts could not be expressed: each is listed above its service.`);
    const others = result.warnings.length - sleeps.length - 1;
    if (others > 0) expect(header.join("\n")).toContain(`# ${others} other warning`);
  });
});
