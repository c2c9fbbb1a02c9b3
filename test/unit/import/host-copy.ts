// A copy of a host's files, as `qmail-fleet import --from-dir` reads one: the
// qmaild and qmaill accounts, control/me, each service's run and log/run
// (mode 0755) and its /service link, and any other files given.
import * as fs from "node:fs";
import * as path from "node:path";

export const LOG_RUN = "#!/bin/sh\nexec setuidgid qmaill multilog t ./main\n";

/** A fresh host copy under `scratch`; `services` maps a service name to its run script (under /var/qmail/supervise). */
export function hostCopy(scratch: string, services: Record<string, string>, files: Record<string, string> = {}): string {
  const root = fs.mkdtempSync(path.join(scratch, "host-"));
  const write = (file: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), text, { mode: 0o755 });
  };
  write("/etc/passwd", "qmaild:x:7791:2108::/var/qmail:/bin/false\nqmaill:x:7792:2108::/var/qmail:/bin/false\n");
  write("/etc/group", "nofiles:x:2108:\n");
  write("/var/qmail/control/me", "mx.example.net\n");
  for (const [file, text] of Object.entries(files)) write(file, text);
  fs.mkdirSync(path.join(root, "service"));
  for (const [name, run] of Object.entries(services)) {
    write(`/var/qmail/supervise/${name}/run`, run);
    write(`/var/qmail/supervise/${name}/log/run`, LOG_RUN);
    fs.symlinkSync(`/var/qmail/supervise/${name}`, path.join(root, "service", name));
  }
  return root;
}
