// Where an import reads a host's files: a copy of them in a local directory,
// or the host itself over SSH (read-only: only cat, readlink and ls run there).
import * as fs from "node:fs";
import * as path from "node:path";
import { SshConnection, type SshTarget } from "../../provider/ssh-connection";

/** Largest file an import reads (a validrcptto.cdb of millions of addresses fits). */
export const MAX_IMPORT_FILE_BYTES = 512 * 1024 * 1024;

export interface HostSource {
  /** For messages, e.g. `/tmp/mx1-copy` or `root@192.0.2.10`. */
  readonly name: string;
  /** Names in a directory, sorted; undefined when it is missing. */
  list(dir: string): Promise<string[] | undefined>;
  /** A symbolic link's target as stored; undefined when `file` is no link. */
  readLink(file: string): Promise<string | undefined>;
  /** A regular file's bytes; undefined when it is missing. */
  read(file: string): Promise<Buffer | undefined>;
  close(): void;
}

export class ImportSourceError extends Error {}

/** A copied directory: host path /x/y is ROOT/x/y; absolute links are followed inside ROOT. */
export class DirectorySource implements HostSource {
  readonly name: string;

  constructor(private readonly root: string) {
    this.name = root;
    if (!fs.statSync(root, { throwIfNoEntry: false })?.isDirectory())
      throw new ImportSourceError(`--from-dir ${root} is not a directory: give a copy of the host's files (ROOT/service, ROOT/var/qmail, ...)`);
  }

  private local(file: string): string {
    return path.join(this.root, path.posix.normalize(`/${file}`));
  }

  async list(dir: string): Promise<string[] | undefined> {
    try {
      return fs.readdirSync(this.local(dir)).sort();
    } catch {
      return undefined;
    }
  }

  async readLink(file: string): Promise<string | undefined> {
    try {
      return fs.readlinkSync(this.local(file));
    } catch {
      return undefined;
    }
  }

  async read(file: string): Promise<Buffer | undefined> {
    let local = this.local(file);
    // Links inside the copy point at host paths: follow them within the copy.
    for (let hops = 0; hops < 8; hops++) {
      const stat = fs.lstatSync(local, { throwIfNoEntry: false });
      if (!stat) return undefined;
      if (stat.isSymbolicLink()) {
        const target = fs.readlinkSync(local);
        const hostPath = path.posix.resolve(path.posix.dirname(path.posix.normalize(`/${path.relative(this.root, local)}`)), target);
        local = this.local(hostPath);
        continue;
      }
      if (!stat.isFile()) return undefined;
      if (stat.size > MAX_IMPORT_FILE_BYTES) throw new ImportSourceError(`${file} is larger than ${MAX_IMPORT_FILE_BYTES} bytes: not read`);
      return fs.readFileSync(local);
    }
    throw new ImportSourceError(`${file}: too many symbolic links`);
  }

  close(): void {}
}

/** Single-quotes a path for the remote shell. */
function quoted(file: string): string {
  return `'${file.replace(/'/g, `'\\''`)}'`;
}

/** The host over SSH with its key pinned; each read is one short command, nothing is written. */
export class SshSource implements HostSource {
  readonly name: string;
  private readonly connection: SshConnection;

  constructor(target: SshTarget, privateKey: string | undefined) {
    this.name = `${target.user}@${target.address}`;
    this.connection = new SshConnection(target, privateKey);
  }

  private async run(script: string): Promise<{ code: number | undefined; stdout: Buffer; stderr: string }> {
    const command = this.connection.target.sudo ? `sudo -n sh -c ${quoted(script)}` : script;
    return this.connection.run(command);
  }

  async list(dir: string): Promise<string[] | undefined> {
    const result = await this.run(`cd ${quoted(dir)} 2>/dev/null || exit 3; for f in * .[!.]*; do if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\\0' "$f"; fi; done`);
    if (result.code !== 0) return undefined;
    return result.stdout.toString("utf8").split("\0").filter(Boolean).sort();
  }

  async readLink(file: string): Promise<string | undefined> {
    const result = await this.run(`[ -L ${quoted(file)} ] && readlink ${quoted(file)}`);
    if (result.code !== 0) return undefined;
    return result.stdout.toString("utf8").replace(/\n$/, "");
  }

  async read(file: string): Promise<Buffer | undefined> {
    const result = await this.run(`[ -f ${quoted(file)} ] || exit 3; size=$(wc -c < ${quoted(file)}); [ "$size" -le ${MAX_IMPORT_FILE_BYTES} ] || exit 4; cat ${quoted(file)}`);
    if (result.code === 3) return undefined;
    if (result.code === 4) throw new ImportSourceError(`${this.name}:${file} is larger than ${MAX_IMPORT_FILE_BYTES} bytes: not read`);
    if (result.code !== 0) throw new ImportSourceError(`${this.name}: reading ${file} failed: ${result.stderr.trim() || `exit ${result.code}`}`);
    return result.stdout;
  }

  close(): void {
    this.connection.close();
  }
}
