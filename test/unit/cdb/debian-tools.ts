// Runs the real Debian tools the cdb builders are checked against. A missing
// tool makes the test fail (spawnSync reports ENOENT), never skip.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `qmail-fleet-${prefix}-`));
}

export function run(command: string, args: string[], input?: Buffer | string): { status: number; stdout: Buffer; stderr: string } {
  const result = spawnSync(command, args, { input, maxBuffer: 1 << 30 });
  if (result.error) throw new Error(`${command} could not run (${result.error.message}); install the Debian package that provides it`);
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr.toString() };
}

function runOk(command: string, args: string[], input?: Buffer | string): Buffer {
  const result = run(command, args, input);
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} exited ${result.status}: ${result.stderr}`);
  return result.stdout;
}

/** The `+klen,dlen:key->data` input both cdbmake and `cdb -c` read. */
export function cdbmakeInput(records: ReadonlyArray<readonly [Uint8Array, Uint8Array]>): Buffer {
  const parts: Buffer[] = [];
  for (const [key, value] of records) {
    parts.push(Buffer.from(`+${key.length},${value.length}:`), Buffer.from(key), Buffer.from("->"), Buffer.from(value), Buffer.from("\n"));
  }
  parts.push(Buffer.from("\n"));
  return Buffer.concat(parts);
}

export function buildWithCdbmake(records: ReadonlyArray<readonly [Uint8Array, Uint8Array]>): Buffer {
  const dir = tempDir("cdbmake");
  const out = path.join(dir, "out.cdb");
  runOk("cdbmake", [out, path.join(dir, "out.tmp")], cdbmakeInput(records));
  const bytes = fs.readFileSync(out);
  fs.rmSync(dir, { recursive: true, force: true });
  return bytes;
}

export function buildWithTinycdb(records: ReadonlyArray<readonly [Uint8Array, Uint8Array]>): Buffer {
  const dir = tempDir("tinycdb");
  const out = path.join(dir, "out.cdb");
  runOk("cdb", ["-c", out], cdbmakeInput(records));
  const bytes = fs.readFileSync(out);
  fs.rmSync(dir, { recursive: true, force: true });
  return bytes;
}

/** `cdb -q -n 1`: the first value under key (what a lookup sees), or undefined when absent (exit 100). */
export function queryWithTinycdb(cdbPath: string, key: string): Buffer | undefined {
  const result = run("cdb", ["-q", "-n", "1", cdbPath, key]);
  if (result.status === 100) return undefined;
  if (result.status !== 0) throw new Error(`cdb -q exited ${result.status}: ${result.stderr}`);
  return result.stdout;
}

/** Compiles rules with the real tcprules; returns the cdb bytes or the failure. */
export function compileWithTcprules(source: Buffer | string): { ok: true; cdb: Buffer } | { ok: false; status: number; stderr: string } {
  const dir = tempDir("tcprules");
  try {
    const out = path.join(dir, "rules.cdb");
    const result = run("tcprules", [out, path.join(dir, "rules.tmp")], source);
    if (result.status !== 0) return { ok: false, status: result.status, stderr: result.stderr };
    return { ok: true, cdb: fs.readFileSync(out) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** `openssl passwd -6`, password on stdin so it never shows in a process list. */
export function opensslSha512Crypt(password: string, salt: string): string {
  return runOk("openssl", ["passwd", "-6", "-salt", salt, "-stdin"], password + "\n").toString().trim();
}

/** The host's crypt(3) (libxcrypt) through Python, for what `openssl passwd` cannot express (empty password or salt). */
export function libxcryptCrypt(password: string, setting: string): string {
  return runOk("python3", ["-W", "ignore", "-c", "import crypt,sys; print(crypt.crypt(sys.stdin.read(), sys.argv[1]))", setting], password).toString().trim();
}
