// The host as a read-only shell (what SshSource runs over SSH), here run by
// the local sh against files in a scratch directory: a service's files come
// in one command each framed with its length, whatever bytes they hold, and
// the commands an import runs grow by a few per service, not by one per file.
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { importHost } from "../../../lib/import/host-import";
import { ShellSource } from "../../../lib/import/host-source";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "qmail-fleet-shell-source-"));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** A source whose scripts run in the local sh, counting them. */
function localShell(): { source: ShellSource; scripts: string[] } {
  const scripts: string[] = [];
  const source = new ShellSource("local", (script) => {
    scripts.push(script);
    return new Promise((resolve) =>
      execFile("sh", ["-c", script], { encoding: "buffer", maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr: stderr.toString("utf8") }),
      ),
    );
  });
  return { source, scripts };
}

describe("readBatch", () => {
  it("returns each file's bytes as they are, missing files and directories as such", async () => {
    const dir = path.join(root, "batch");
    fs.mkdirSync(path.join(dir, "env"), { recursive: true });
    const binary = Buffer.from([0, 10, 70, 32, 57, 32, 47, 10, 255, 10]);
    fs.writeFileSync(path.join(dir, "binary"), binary);
    fs.writeFileSync(path.join(dir, "no newline"), "last line");
    fs.writeFileSync(path.join(dir, "env/EMPTY"), "");
    fs.writeFileSync(path.join(dir, "env/DATABYTES"), "20000000\n");
    fs.writeFileSync(path.join(dir, "env/.HIDDEN"), "x\n");
    const { source, scripts } = localShell();
    const batch = await source.readBatch({ files: [`${dir}/binary`, `${dir}/no newline`, `${dir}/missing`, `${dir}/it's`], dirs: [`${dir}/env`, `${dir}/nothing`] });
    expect(scripts).toHaveLength(1);
    expect(batch.files.get(`${dir}/binary`)).toEqual(binary);
    expect(batch.files.get(`${dir}/no newline`)?.toString()).toBe("last line");
    expect(batch.files.get(`${dir}/missing`)).toBeUndefined();
    expect(batch.files.has(`${dir}/it's`)).toBe(true);
    expect(Object.fromEntries([...batch.dirs.get(`${dir}/env`)!].map(([name, bytes]) => [name, bytes.toString()]))).toEqual({ ".HIDDEN": "x\n", DATABYTES: "20000000\n", EMPTY: "" });
    expect(batch.dirs.get(`${dir}/nothing`)).toBeUndefined();
  });
});

describe("importing over a shell", () => {
  const writeService = (serviceDir: string, name: string) => {
    const dir = path.join(root, "host", "supervise", name);
    fs.mkdirSync(path.join(dir, "env"), { recursive: true });
    fs.mkdirSync(path.join(dir, "log"), { recursive: true });
    fs.writeFileSync(path.join(dir, "run"), `#!/bin/sh\nexec 2>&1\nexec envdir ./env tcpserver -v -R -u 7791 -g 2108 -x /etc/tcp.smtp.cdb 0 25 /var/qmail/bin/qmail-smtpd\n`);
    for (const [variable, value] of [["DATABYTES", "20000000"], ["MAXRCPT", "50"], ["SMTPGREETING", "mx ESMTP"]]) fs.writeFileSync(path.join(dir, "env", variable), `${value}\n`);
    fs.writeFileSync(path.join(dir, "log/run"), "#!/bin/sh\nexec setuidgid qmaill multilog t s$(cat ./logsize 2>/dev/null || echo 1000000) ./main\n");
    fs.writeFileSync(path.join(dir, "log/logsize"), "3000000\n");
    fs.symlinkSync(dir, path.join(serviceDir, name));
  };

  it("reads what each service needs in a few commands, not one per file", async () => {
    const commandsFor = async (count: number) => {
      const serviceDir = path.join(root, "host", `service-${count}`);
      fs.mkdirSync(serviceDir, { recursive: true });
      for (let i = 0; i < count; i++) writeService(serviceDir, `smtpd-${count}-${i}`);
      const { source, scripts } = localShell();
      const result = await importHost(source, { hostName: "mx1", address: "192.0.2.25", serviceDir, hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKREcv9w/RBTq8tGL0tCpFgM07bu1UoHQJLyD4sT+RgM" });
      const services = (result.raw.hosts as Array<{ services: Array<Record<string, unknown>> }>)[0].services;
      expect(services).toHaveLength(count);
      // What the envdir files and the log size file say came through.
      for (const service of services) {
        expect(service.dataBytes).toBe(20000000);
        expect(service.maxRcpt).toBe(50);
        expect((service.log as Record<string, unknown>).maxFileSize).toBe(3000000);
      }
      return scripts.length;
    };
    const one = await commandsFor(1);
    const four = await commandsFor(4);
    // Per service: its link (where it ends: two readlinks), one batch of its scripts, one of the files they read (3 env files and logsize here).
    expect((four - one) / 3).toBeLessThanOrEqual(4);
  });
});
