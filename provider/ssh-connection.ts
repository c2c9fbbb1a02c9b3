// One SSH connection per mailhub for the whole run, shared by every operation
// on that host, with the host key pinned: a host that presents any other key
// gets no command and no data. File bytes and secrets travel on a command's
// stdin, never in its command line.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { Client, type ConnectConfig } from "ssh2";
import type { HostConnection } from "./types";

/** A host as the provider reaches it: its name in the fleet and how to log in. */
export interface SshTarget extends HostConnection {
  host: string;
}

export interface CommandResult {
  /** Exit status, or undefined when the connection was lost before the command ended. */
  code: number | undefined;
  stdout: Buffer;
  stderr: string;
}

/** What a command reads on stdin: bytes, or a file streamed from disk. */
export type Stdin = Buffer | string | { file: string };

/** Most commands in flight on one connection: stays under OpenSSH's MaxSessions (10). */
const MAX_CHANNELS = 8;

export function fingerprint(keyBlob: Buffer): string {
  return "SHA256:" + createHash("sha256").update(keyBlob).digest("base64").replace(/=+$/, "");
}

/** The key blob of a `type base64 [comment]` public key line. */
export function publicKeyBlob(line: string): Buffer {
  const fields = line.trim().split(/\s+/);
  if (fields.length < 2) throw new Error(`not a public key line: ${JSON.stringify(line.slice(0, 40))}`);
  return Buffer.from(fields[1], "base64");
}

export function where(target: SshTarget): string {
  const port = target.port === 22 ? "" : `:${target.port}`;
  return `host ${target.host} (${target.user}@${target.address}${port})`;
}

export class HostKeyMismatchError extends Error {}

export class SshConnection {
  private readonly client = new Client();
  private readonly ready: Promise<void>;
  private closed = false;
  private connected = false;
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly target: SshTarget, privateKey: string | undefined) {
    const pinned = publicKeyBlob(target.hostKey);
    let presented: Buffer | undefined;
    const config: ConnectConfig = {
      host: target.address,
      port: target.port,
      username: target.user,
      readyTimeout: 20_000,
      keepaliveInterval: 10_000,
      keepaliveCountMax: 3,
      hostVerifier: (key: Buffer) => {
        presented = key;
        return key.equals(pinned);
      },
    };
    if (privateKey) config.privateKey = privateKey;
    else if (process.env.SSH_AUTH_SOCK) config.agent = process.env.SSH_AUTH_SOCK;
    else throw new Error(`${where(target)}: no SSH private key in the provider's configuration and no ssh-agent (SSH_AUTH_SOCK) to ask`);

    this.ready = new Promise((resolve, reject) => {
      this.client.once("ready", () => {
        this.connected = true;
        resolve();
      });
      this.client.once("error", (err: Error) => {
        if (presented && !presented.equals(pinned)) {
          reject(
            new HostKeyMismatchError(
              `${where(target)} presented host key ${fingerprint(presented)}, but the key pinned for it is ` +
                `${fingerprint(pinned)}. Nothing was sent. If the host was rebuilt, check its new key on the console ` +
                `(ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub) and update the host's ssh.hostKey; otherwise ` +
                `something is answering in its place.`,
            ),
          );
        } else {
          reject(new Error(`${where(target)}: SSH connection failed: ${err.message}`));
        }
      });
    });
    this.ready.catch(() => undefined);
    this.client.on("close", () => (this.closed = true));
    this.client.on("error", () => (this.closed = true));
    this.client.connect(config);
  }

  get usable(): boolean {
    return !this.closed;
  }

  /** The host never answered this connection (refused, timed out, wrong host key). */
  get neverConnected(): boolean {
    return this.closed && !this.connected;
  }

  /** Runs `command` on the host, feeding it `stdin`. */
  async run(command: string, stdin?: Stdin): Promise<CommandResult> {
    await this.ready;
    await this.acquire();
    try {
      return await new Promise<CommandResult>((resolve, reject) => {
        if (this.closed) return reject(new Error(`${where(this.target)}: the SSH connection was lost`));
        this.client.exec(command, (err, stream) => {
          if (err) return reject(new Error(`${where(this.target)}: cannot start a command: ${err.message}`));
          const out: Buffer[] = [];
          const errOut: Buffer[] = [];
          let code: number | undefined;
          stream.on("data", (chunk: Buffer) => out.push(chunk));
          stream.stderr.on("data", (chunk: Buffer) => errOut.push(chunk));
          stream.on("exit", (exitCode: number | null) => (code = exitCode ?? undefined));
          stream.on("close", () =>
            resolve({ code, stdout: Buffer.concat(out), stderr: Buffer.concat(errOut).toString("utf8") }),
          );
          if (stdin !== undefined && typeof stdin === "object" && !Buffer.isBuffer(stdin)) {
            const file = createReadStream(stdin.file);
            file.on("error", (error) => {
              stream.close();
              reject(new Error(`${where(this.target)}: cannot read ${stdin.file}: ${error.message}`));
            });
            file.pipe(stream);
          } else {
            stream.end(stdin ?? "");
          }
        });
      });
    } finally {
      this.release();
    }
  }

  close(): void {
    this.closed = true;
    this.client.end();
  }

  private async acquire(): Promise<void> {
    if (this.active < MAX_CHANNELS) {
      this.active++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active--;
  }
}

/**
 * The provider's connections, one per host and credentials, made on first use
 * and again after a loss. A host that never answered keeps its failed
 * connection for the rest of the run: the create after a preview's read fails
 * at once with the same error instead of waiting out the timeout again.
 */
export class ConnectionPool {
  private readonly connections = new Map<string, SshConnection>();

  constructor(private readonly privateKey: () => string | undefined) {}

  get(target: SshTarget): SshConnection {
    const id = JSON.stringify([target.host, target.address, target.port, target.user, target.hostKey]);
    const existing = this.connections.get(id);
    if (existing && (existing.usable || existing.neverConnected)) return existing;
    const connection = new SshConnection(target, this.privateKey());
    this.connections.set(id, connection);
    return connection;
  }

  closeAll(): void {
    for (const connection of this.connections.values()) connection.close();
    this.connections.clear();
  }
}
