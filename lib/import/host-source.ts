// Where an import reads a host's files: a copy of them in a local directory,
// or the host itself over SSH (read-only: only cat, head, wc, readlink and
// printf run there; a service's files come in one command, each framed with
// its length).
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
  /** Several files, and every regular file of some directories (envdirs), at once: over SSH, one command. */
  readBatch(request: BatchRequest): Promise<BatchResult>;
  close(): void;
}

export interface BatchRequest {
  files: string[];
  dirs?: string[];
}

export interface BatchResult {
  /** Each requested file's bytes; undefined when it is missing. */
  files: Map<string, Buffer | undefined>;
  /** Each requested directory's regular files by name; undefined when the directory is missing. */
  dirs: Map<string, Map<string, Buffer> | undefined>;
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

  async readBatch(request: BatchRequest): Promise<BatchResult> {
    const files = new Map<string, Buffer | undefined>();
    for (const file of request.files) files.set(file, await this.read(file));
    const dirs = new Map<string, Map<string, Buffer> | undefined>();
    for (const dir of request.dirs ?? []) {
      const names = await this.list(dir);
      if (!names) {
        dirs.set(dir, undefined);
        continue;
      }
      const contents = new Map<string, Buffer>();
      for (const name of names) {
        const bytes = await this.read(`${dir}/${name}`);
        if (bytes) contents.set(name, bytes);
      }
      dirs.set(dir, contents);
    }
    return { files, dirs };
  }

  close(): void {}
}

/** Single-quotes a path for the remote shell. */
function quoted(file: string): string {
  return `'${file.replace(/'/g, `'\\''`)}'`;
}

/** What runs a read-only script on the host: its exit status, output and error text. */
export type RunScript = (script: string) => Promise<{ code: number | undefined; stdout: Buffer; stderr: string }>;

/**
 * The remote side of readBatch: each file as a header line `KIND SIZE PATH`
 * (F a file, M missing, L larger than the import reads; D and N open a
 * directory that exists or not), then for F its SIZE bytes and a newline,
 * which tells a file that shrank while it was read.
 */
function batchScript(request: BatchRequest): string {
  const frame = `frame() {
  if [ -f "$1" ]; then
    size=$(wc -c < "$1") || exit 5
    size=$((size + 0))
    if [ "$size" -le ${MAX_IMPORT_FILE_BYTES} ]; then printf 'F %s %s\\n' "$size" "$1"; head -c "$size" "$1"; printf '\\n'
    else printf 'L 0 %s\\n' "$1"; fi
  else printf 'M 0 %s\\n' "$1"; fi
}`;
  const lines = [frame, ...request.files.map((file) => `frame ${quoted(file)}`)];
  for (const dir of request.dirs ?? [])
    lines.push(`if [ -d ${quoted(dir)} ]; then printf 'D 0 %s\\n' ${quoted(dir)}; for f in ${quoted(dir)}/* ${quoted(dir)}/.[!.]*; do if [ -f "$f" ]; then frame "$f"; fi; done; else printf 'N 0 %s\\n' ${quoted(dir)}; fi`);
  lines.push("exit 0");
  return lines.join("\n");
}

/** The host as a read-only shell: each call is one short script, nothing is written. */
export class ShellSource implements HostSource {
  constructor(
    readonly name: string,
    private readonly run: RunScript,
    private readonly onClose: () => void = () => {},
  ) {}

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

  async readBatch(request: BatchRequest): Promise<BatchResult> {
    const all = [...request.files, ...(request.dirs ?? [])];
    const odd = all.find((file) => /[\n\0]/.test(file));
    if (odd !== undefined) throw new ImportSourceError(`${this.name}: ${JSON.stringify(odd)} has a line break in its name: not read`);
    const result = await this.run(batchScript(request));
    if (result.code !== 0) throw new ImportSourceError(`${this.name}: reading ${all.join(", ")} failed: ${result.stderr.trim() || `exit ${result.code}`}`);
    const out = result.stdout;
    const files = new Map<string, Buffer | undefined>();
    const dirs = new Map<string, Map<string, Buffer> | undefined>();
    let dir: Map<string, Buffer> | undefined;
    let dirName = "";
    for (let at = 0; at < out.length; ) {
      const end = out.indexOf(10, at);
      const header = /^([FMLDN]) ([0-9]+) (.*)$/.exec(out.subarray(at, end < 0 ? out.length : end).toString("utf8"));
      if (end < 0 || !header) throw new ImportSourceError(`${this.name}: the answer to reading ${all.join(", ")} is not in the expected form: run the import again`);
      const [, kind, sizeText, file] = header;
      at = end + 1;
      if (kind === "D" || kind === "N") {
        dir = kind === "D" ? new Map() : undefined;
        dirName = file;
        dirs.set(file, dir);
        continue;
      }
      if (kind === "L") throw new ImportSourceError(`${this.name}:${file} is larger than ${MAX_IMPORT_FILE_BYTES} bytes: not read`);
      const bytes = kind === "F" ? out.subarray(at, at + Number(sizeText)) : undefined;
      if (bytes) {
        at += bytes.length;
        if (bytes.length !== Number(sizeText) || out[at] !== 10) throw new ImportSourceError(`${this.name}:${file} changed while it was read: run the import again`);
        at++;
      }
      if (dir && file.startsWith(`${dirName}/`) && !files.has(file) && !request.files.includes(file)) {
        if (bytes) dir.set(file.slice(dirName.length + 1), Buffer.from(bytes));
      } else files.set(file, bytes && Buffer.from(bytes));
    }
    for (const file of request.files) if (!files.has(file)) throw new ImportSourceError(`${this.name}: ${file} was asked for and not answered: run the import again`);
    return { files, dirs };
  }

  close(): void {
    this.onClose();
  }
}

/** The host over SSH with its key pinned (through sudo -n with --sudo). */
export class SshSource extends ShellSource {
  constructor(target: SshTarget, privateKey: string | undefined) {
    const connection = new SshConnection(target, privateKey);
    super(
      `${target.user}@${target.address}`,
      (script) => connection.run(target.sudo ? `sudo -n sh -c ${quoted(script)}` : script),
      () => connection.close(),
    );
  }
}
