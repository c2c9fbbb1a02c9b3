// One SSH connection per mailhub, shared by every resource of that host in a
// provider process, with the host key pinned: a host that presents any other
// key gets no command and no data.
import { createHash } from "node:crypto";
import { Client, type ConnectConfig } from "ssh2";

/** How to reach one host. Serialised into Pulumi state (the private key as a secret). */
export interface Connection {
  /** Host name used in messages, e.g. `mailhub1`. */
  host: string;
  address: string;
  port: number;
  user: string;
  /** The one public key accepted for this host: `ssh-ed25519 AAAA...`. */
  hostKey: string;
  /** OpenSSH private key text; when absent, ssh-agent (SSH_AUTH_SOCK) is used. */
  privateKey?: string;
  /** Run privileged commands through `sudo -n` (non-root SSH user). */
  sudo: boolean;
}

export interface CommandResult {
  code: number;
  stdout: Buffer;
  stderr: string;
}

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

export class HostKeyMismatchError extends Error {}

class SshConnection {
  private client = new Client();
  private ready: Promise<void>;
  private active = 0;
  private waiting: Array<() => void> = [];

  constructor(readonly connection: Connection) {
    const pinned = publicKeyBlob(connection.hostKey);
    let presented: Buffer | undefined;
    const config: ConnectConfig = {
      host: connection.address,
      port: connection.port,
      username: connection.user,
      readyTimeout: 20_000,
      keepaliveInterval: 15_000,
      hostVerifier: (key: Buffer) => {
        presented = key;
        return key.equals(pinned);
      },
    };
    if (connection.privateKey) config.privateKey = connection.privateKey;
    else if (process.env.SSH_AUTH_SOCK) config.agent = process.env.SSH_AUTH_SOCK;
    else throw new Error(`${where(connection)}: no SSH private key given and no ssh-agent (SSH_AUTH_SOCK) to ask`);

    this.ready = new Promise((resolve, reject) => {
      this.client.once("ready", () => resolve());
      this.client.once("error", (err: Error) => {
        if (presented && !presented.equals(pinned)) {
          reject(
            new HostKeyMismatchError(
              `${where(connection)} presented host key ${fingerprint(presented)}, but the key pinned for it is ` +
                `${fingerprint(pinned)}. Nothing was sent. If the host was rebuilt, check its new key on the console ` +
                `(ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub) and update the host's ssh.hostKey; otherwise ` +
                `something is answering in its place.`,
            ),
          );
        } else {
          reject(new Error(`${where(connection)}: SSH connection failed: ${err.message}`));
        }
      });
    });
    this.client.connect(config);
    // Idle connections must not keep the provider process alive.
    this.client.on("ready", () => (this.client as unknown as { _sock?: { unref?: () => void } })._sock?.unref?.());
  }

  /** Runs `command` on the host, writing `stdin` (never argv) for anything secret. */
  async run(command: string, stdin?: Buffer | string): Promise<CommandResult> {
    await this.ready;
    await this.acquire();
    try {
      return await new Promise<CommandResult>((resolve, reject) => {
        this.client.exec(command, (err, stream) => {
          if (err) return reject(new Error(`${where(this.connection)}: cannot start a command: ${err.message}`));
          const out: Buffer[] = [];
          const errOut: Buffer[] = [];
          let code = -1;
          stream.on("data", (chunk: Buffer) => out.push(chunk));
          stream.stderr.on("data", (chunk: Buffer) => errOut.push(chunk));
          stream.on("exit", (exitCode: number | null) => (code = exitCode ?? -1));
          stream.on("close", () =>
            resolve({ code, stdout: Buffer.concat(out), stderr: Buffer.concat(errOut).toString("utf8") }),
          );
          stream.end(stdin ?? "");
        });
      });
    } finally {
      this.release();
    }
  }

  whenReady(): Promise<void> {
    return this.ready;
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

export function where(connection: Connection): string {
  const port = connection.port === 22 ? "" : `:${connection.port}`;
  return `host ${connection.host} (${connection.user}@${connection.address}${port})`;
}

const pool = new Map<string, SshConnection>();

/** The shared connection to a host; a new one if the key or credentials differ. */
export function connect(connection: Connection): SshConnection {
  const id = createHash("sha256")
    .update(JSON.stringify([connection.address, connection.port, connection.user, connection.hostKey, connection.privateKey ?? ""]))
    .digest("hex");
  let existing = pool.get(id);
  if (!existing) {
    existing = new SshConnection(connection);
    pool.set(id, existing);
    // A failed connection is not cached: the next call tries again.
    existing.whenReady().catch(() => pool.delete(id));
  }
  return existing;
}
