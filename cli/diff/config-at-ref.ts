// A config file as a git commit has it, for `qmail-fleet diff --base REF`:
// the stack file at REF, and the local files it names by a relative path
// (validRcptTo.files, tcpRules files, knownHostsFile) at REF too, so the base
// is planned as that commit would be. Paths under `~/` or absolute ones are
// outside the repository and read from this machine. Read with `git show`;
// nothing in the working tree changes.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, isAbsolute, join, posix } from "node:path";
import { loadConfigFile, type LoadResult } from "../../lib/load-config";
import { MAX_CONFIG_BYTES } from "../../lib/source/config-file";
import { MAX_LOCAL_FILE_BYTES, readLocalFile, resolveLocalPath } from "../../lib/source/local-paths";

/** The ref cannot be read, or the file is not in it: said in words, with what to do. */
export class GitSourceError extends Error {}

/** Loads `file` (a path in a git working tree) as commit `ref` holds it. */
export function loadConfigAtRef(file: string, ref: string): LoadResult {
  if (ref === "" || ref.startsWith("-")) throw new GitSourceError(`--base ${JSON.stringify(ref)} is not a git ref: give a branch, tag or commit, e.g. --base origin/main`);
  const dir = dirname(file);
  const commit = git(dir, ["rev-parse", "--verify", "--quiet", "--end-of-options", `${ref}^{commit}`], 1024);
  if (!commit.ok) throw new GitSourceError(`--base ${ref}: ${commit.why === "" ? `no commit named ${ref} in the git repository at ${dir}` : commit.why}; fetch it first (in CI, check out with the full history, e.g. fetch-depth: 0)`);
  const sha = commit.bytes.toString("utf8").trim();
  const show = (path: string, limit: number) => git(dir, ["show", `${sha}:./${posix.normalize(path)}`], limit);

  const config = show(basename(file), MAX_CONFIG_BYTES);
  if (!config.ok) throw new GitSourceError(`${file} is not in ${ref} (${config.why}): give the base config as a file instead, e.g. qmail-fleet diff OLD.yaml ${file}`);
  const scratch = mkdtempSync(join(tmpdir(), "qmail-fleet-diff-"));
  try {
    // The same name, so that a stack file is still read as one.
    const copy = join(scratch, basename(file));
    writeFileSync(copy, config.bytes, { mode: 0o600 });
    return loadConfigFile(copy, {
      readFile: (path) => {
        if (path.startsWith("~") || isAbsolute(path)) return readLocalFile(resolveLocalPath(path, dir));
        const found = show(path, MAX_LOCAL_FILE_BYTES);
        if (!found.ok) throw Object.assign(new Error(`not in ${ref} (${found.why})`), { code: "ENOENT_AT_REF" });
        return found.bytes;
      },
    });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

type GitOutput = { ok: true; bytes: Buffer } | { ok: false; why: string };

function git(cwd: string, args: string[], limit: number): GitOutput {
  const result = spawnSync("git", ["-C", cwd, ...args], { maxBuffer: limit + 1, stdio: ["ignore", "pipe", "pipe"] });
  if (result.error) {
    const code = (result.error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new GitSourceError("git is not installed: --base needs it to read the base config");
    if (code === "ENOBUFS") return { ok: false, why: `larger than ${limit} bytes` };
    return { ok: false, why: result.error.message };
  }
  if (result.status !== 0) return { ok: false, why: result.stderr.toString("utf8").trim().split("\n")[0].replace(/^fatal: /, "") };
  return { ok: true, bytes: result.stdout };
}
