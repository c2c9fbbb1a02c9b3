// Non-secret file bytes travel from the program to the provider through a
// content-addressed build directory in the project, .qmail-fleet/build/<sha256>:
// the state keeps only the sha256, a 1,000,000-address validrcptto.cdb is
// written once however many hosts get it, and the provider streams it to each
// host from disk. The engine starts the provider in the project directory, as
// it runs the program, so both find the same directory without any path being
// kept in state.
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, renameSync, statSync, unlinkSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const BUILD_DIR = join(".qmail-fleet", "build");

/** Build files not written or used for this long are removed when the program next runs. */
const KEEP_MS = 24 * 60 * 60 * 1000;

export function sha256Hex(bytes: Buffer | string): string {
  return createHash("sha256").update(bytes).digest("hex");
}

export function buildFilePath(sha256: string, root = process.cwd()): string {
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error(`not a sha256: ${JSON.stringify(sha256)}`);
  return join(root, BUILD_DIR, sha256);
}

/** Writes `bytes` under their sha256 unless already there; returns the sha256. */
export function storeBuildFile(bytes: Buffer, root = process.cwd()): string {
  const sha256 = sha256Hex(bytes);
  const path = buildFilePath(sha256, root);
  try {
    if (statSync(path).size === bytes.length) {
      const now = new Date();
      utimesSync(path, now, now); // still in use: not pruned
      return sha256;
    }
  } catch {
    // not built yet
  }
  mkdirSync(join(root, BUILD_DIR), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, bytes, { mode: 0o644 });
  renameSync(tmp, path);
  return sha256;
}

/** Removes build files nobody has written or used for a day (other stacks share the directory). */
export function pruneBuildFiles(root = process.cwd(), now = Date.now()): void {
  const dir = join(root, BUILD_DIR);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const path = join(dir, name);
    try {
      if (now - statSync(path).mtimeMs > KEEP_MS) unlinkSync(path);
    } catch {
      // removed meanwhile by a concurrent run
    }
  }
}
