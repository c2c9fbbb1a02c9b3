// Test helpers around the real sandbox: mailhubs started with
// sandbox/mailhubs, checked with the real OpenSSH client, svstat and a raw
// TCP read of the SMTP banner.
import { execFile, execFileSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { join, resolve } from "node:path";
import { promisify } from "node:util";

export const REPO = resolve(__dirname, "..", "..");
const run = promisify(execFile);

export interface SandboxHost {
  name: string;
  address: string;
  sshPort: number;
  hostKey: string;
  root: string;
}

export class Mailhubs {
  readonly hosts: SandboxHost[];
  readonly clientKey: string;
  readonly knownHosts: string;

  private constructor(readonly dir: string) {
    this.hosts = JSON.parse(readFileSync(join(dir, "hosts.json"), "utf8"));
    this.clientKey = join(dir, "client_key");
    this.knownHosts = join(dir, "known_hosts");
  }

  /** Fresh hosts: any earlier sandbox in `dir` is stopped and removed first. */
  static start(name: string, count: number, firstAddress: string): Mailhubs {
    const dir = join(REPO, ".sandbox", name);
    mailhubs("stop", "--dir", dir);
    rmSync(dir, { recursive: true, force: true });
    mailhubs("start", "--dir", dir, "--count", String(count), "--first-address", firstAddress);
    return new Mailhubs(dir);
  }

  stop(): void {
    mailhubs("stop", "--dir", this.dir);
  }

  host(name: string): SandboxHost {
    const host = this.hosts.find((h) => h.name === name);
    if (!host) throw new Error(`no sandbox host ${name}`);
    return host;
  }

  /** Runs a shell command on the host over SSH with the real OpenSSH client. */
  async ssh(host: SandboxHost, command: string): Promise<string> {
    const { stdout } = await run("ssh", [
      "-n", "-i", this.clientKey, "-p", String(host.sshPort),
      "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes", "-o", `UserKnownHostsFile=${this.knownHosts}`,
      `root@${host.address}`, command,
    ]);
    return stdout;
  }

  /** Seconds the service has been up, or undefined when it is not up. */
  async uptime(host: SandboxHost, dir: string): Promise<number | undefined> {
    const status = await this.ssh(host, `svstat ${dir}`);
    const match = /: up \(pid \d+\) (\d+) seconds/.exec(status);
    return match ? Number(match[1]) : undefined;
  }

  /**
   * The host's processes whose `PID ARGS` line matches `pattern`. Which
   * processes are the host's is `mailhubs pids` to say, as for its stop.
   */
  async processes(host: SandboxHost, pattern: RegExp): Promise<string[]> {
    const { stdout: pidList } = await run(join(REPO, "sandbox", "mailhubs"), ["pids", "--dir", this.dir, "--host", host.name]);
    const pids = new Set(pidList.split("\n").filter((pid) => pid !== ""));
    if (pids.size === 0) return [];
    const { stdout } = await run("ps", ["-eo", "pid=,args="]);
    const found: string[] = [];
    for (const raw of stdout.split("\n")) {
      // ps right-aligns the pid column: patterns see the line without that padding.
      const line = raw.trim();
      const pid = line.split(/\s+/)[0];
      if (pids.has(pid) && pattern.test(line)) found.push(line);
    }
    return found;
  }
}

function mailhubs(...args: string[]): void {
  execFileSync(join(REPO, "sandbox", "mailhubs"), args, { stdio: ["ignore", "ignore", "pipe"] });
}

/** The first line a client reads from ADDRESS:PORT (an SMTP banner), CRLF removed. */
export function readBanner(address: string, port = 25, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolveBanner, reject) => {
    const socket = connect({ host: address, port });
    let data = "";
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no banner from ${address}:${port} within ${timeoutMs} ms (got ${JSON.stringify(data)})`));
    }, timeoutMs);
    socket.on("data", (chunk) => {
      data += chunk.toString("utf8");
      const end = data.indexOf("\n");
      if (end >= 0) {
        clearTimeout(timer);
        socket.end("QUIT\r\n");
        resolveBanner(data.slice(0, end).replace(/\r$/, ""));
      }
    });
    socket.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/** Sends SMTP commands and returns every reply line, for the test double's XENV report. */
export function smtpConversation(address: string, port: number, commands: string[], timeoutMs = 10_000): Promise<string[]> {
  return new Promise((resolveLines, reject) => {
    const socket = connect({ host: address, port });
    let data = "";
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`SMTP conversation with ${address}:${port} timed out; got ${JSON.stringify(data)}`));
    }, timeoutMs);
    socket.on("connect", () => socket.write(commands.map((c) => `${c}\r\n`).join("") + "QUIT\r\n"));
    socket.on("data", (chunk) => (data += chunk.toString("utf8")));
    socket.on("close", () => {
      clearTimeout(timer);
      resolveLines(data.split("\r\n").filter((l) => l.length > 0));
    });
    socket.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}
