// What qmail-fleet does on a mailhub, as small POSIX sh scripts run over the
// host's shared SSH connection. Paths travel as arguments, file contents only
// on stdin, so no secret is ever in a host's process list.
import { shellQuote } from "../../lib/render/shell-quote";
import { connect, where, type CommandResult, type Connection } from "./ssh-connection";

export type PathType = "file" | "directory" | "symlink";

/** What a path looks like on the host right now. */
export interface ObservedPath {
  present: boolean;
  type?: PathType | "other";
  owner?: string;
  group?: string;
  /** Four octal digits, e.g. `0640`. */
  mode?: string;
  /** Of a regular file's content. */
  sha256?: string;
  /** Of a symlink. */
  target?: string;
}

/** Single-quotes a multi-line script for `sh -c`. */
function quoteScript(script: string): string {
  return `'${script.replace(/'/g, `'\\''`)}'`;
}

async function runScript(
  connection: Connection,
  what: string,
  script: string,
  args: string[],
  stdin?: Buffer | string,
): Promise<CommandResult> {
  const shell = `sh -c ${quoteScript(script)} qmail-fleet ${args.map(shellQuote).join(" ")}`;
  const command = connection.sudo ? `sudo -n ${shell}` : shell;
  const result = await connect(connection).run(command, stdin);
  if (result.code !== 0) {
    const stderr = result.stderr.trim() || "no output";
    const hint =
      !connection.sudo && connection.user !== "root" && /Permission denied|Operation not permitted/.test(stderr)
        ? `; ${connection.user} is not root and ssh.sudo is off: set ssh.sudo: true (README, step 4) or log in as root`
        : "";
    throw new Error(`${where(connection)}: ${what} failed (exit ${result.code}): ${stderr}${hint}`);
  }
  return result;
}

// One line per path: kind, owner, group, mode, then sha256 or link target.
const INSPECT_SCRIPT = `
for p in "$@"; do
  if [ -L "$p" ]; then
    printf 'symlink\\t%s\\t%s\\n' "$(stat --printf '%U\\t%G\\t%a' "$p")" "$(readlink "$p")"
  elif [ -d "$p" ]; then
    printf 'directory\\t%s\\t-\\n' "$(stat --printf '%U\\t%G\\t%a' "$p")"
  elif [ -f "$p" ]; then
    sum=$(sha256sum < "$p") || exit 1
    printf 'file\\t%s\\t%s\\n' "$(stat --printf '%U\\t%G\\t%a' "$p")" "\${sum%% *}"
  elif [ -e "$p" ]; then
    printf 'other\\t-\\t-\\t-\\t-\\n'
  else
    printf 'missing\\t-\\t-\\t-\\t-\\n'
  fi
done
`;

export function parseInspectLine(line: string): ObservedPath {
  const [kind, owner, group, mode, last] = line.split("\t");
  if (kind === "missing") return { present: false };
  if (kind === "other") return { present: true, type: "other" };
  const observed: ObservedPath = {
    present: true,
    type: kind as PathType,
    owner,
    group,
    mode: mode.padStart(4, "0"),
  };
  if (kind === "file") observed.sha256 = last;
  if (kind === "symlink") observed.target = last;
  return observed;
}

// Inspections arriving together (a refresh reads every file at once) are
// answered by one command per host instead of one per path.
const pendingInspections = new Map<
  string,
  { connection: Connection; paths: string[]; waiters: Array<(result: Map<string, ObservedPath> | Error) => void> }
>();

export function inspectPath(connection: Connection, path: string): Promise<ObservedPath> {
  const key = JSON.stringify([connection.address, connection.port, connection.user]);
  let batch = pendingInspections.get(key);
  if (!batch) {
    const created = { connection, paths: [] as string[], waiters: [] as Array<(r: Map<string, ObservedPath> | Error) => void> };
    batch = created;
    pendingInspections.set(key, created);
    setTimeout(() => {
      pendingInspections.delete(key);
      inspectMany(created.connection, created.paths).then(
        (result) => created.waiters.forEach((w) => w(result)),
        (err: Error) => created.waiters.forEach((w) => w(err)),
      );
    }, 25);
  }
  batch.paths.push(path);
  return new Promise((resolve, reject) => {
    batch!.waiters.push((result) => {
      if (result instanceof Error) reject(result);
      else resolve(result.get(path)!);
    });
  });
}

export async function inspectMany(connection: Connection, paths: string[]): Promise<Map<string, ObservedPath>> {
  const unique = [...new Set(paths)];
  const result = await runScript(connection, "reading file state", INSPECT_SCRIPT, unique);
  const lines = result.stdout.toString("utf8").split("\n").filter((l) => l.length > 0);
  if (lines.length !== unique.length) {
    throw new Error(`${where(connection)}: reading file state gave ${lines.length} answers for ${unique.length} paths`);
  }
  return new Map(unique.map((path, i) => [path, parseInspectLine(lines[i])]));
}

/** The text of a small file, to show hand edits in a refresh. */
export async function readText(connection: Connection, path: string): Promise<string> {
  const result = await runScript(connection, `reading ${path}`, 'cat -- "$1"', [path]);
  return result.stdout.toString("utf8");
}

// Temporary file beside the target, owner and mode set before any content is
// written, flushed to disk, then renamed over the target: readers see the old
// file or the new one, never half of one.
const INSTALL_FILE_SCRIPT = `
set -eu
path=$1 owner=$2 group=$3 mode=$4
dir=$(dirname "$path")
[ -d "$dir" ] || install -d -m 0755 "$dir"
tmp=$(mktemp "$dir/.qmail-fleet.XXXXXX")
trap 'rm -f "$tmp"' EXIT
chown "$owner:$group" "$tmp"
chmod "$mode" "$tmp"
cat > "$tmp"
sync "$tmp" 2>/dev/null || sync
mv -f "$tmp" "$path"
trap - EXIT
sum=$(sha256sum < "$path")
printf '%s\\n' "\${sum%% *}"
`;

export async function installFile(
  connection: Connection,
  file: { path: string; content: Buffer; owner: string; group: string; mode: string },
): Promise<string> {
  const result = await runScript(
    connection,
    `installing ${file.path}`,
    INSTALL_FILE_SCRIPT,
    [file.path, file.owner, file.group, file.mode],
    file.content,
  );
  return result.stdout.toString("utf8").trim();
}

const ENSURE_DIRECTORY_SCRIPT = `
set -eu
path=$1 owner=$2 group=$3 mode=$4
parent=$(dirname "$path")
[ -d "$parent" ] || install -d -m 0755 "$parent"
[ -d "$path" ] || mkdir "$path"
chown "$owner:$group" "$path"
chmod "$mode" "$path"
`;

export async function ensureDirectory(
  connection: Connection,
  dir: { path: string; owner: string; group: string; mode: string },
): Promise<void> {
  await runScript(connection, `creating ${dir.path}`, ENSURE_DIRECTORY_SCRIPT, [dir.path, dir.owner, dir.group, dir.mode]);
}

// A new link is made beside the old one and renamed over it (mv -T), so svscan
// never sees a missing or half-made link.
const ENSURE_SYMLINK_SCRIPT = `
set -eu
path=$1 target=$2
tmp="$path.qmail-fleet-new"
rm -f "$tmp"
ln -s "$target" "$tmp"
mv -T -f "$tmp" "$path"
`;

export async function ensureSymlink(connection: Connection, link: { path: string; target: string }): Promise<void> {
  await runScript(connection, `linking ${link.path}`, ENSURE_SYMLINK_SCRIPT, [link.path, link.target]);
}

/** Removes a file or link; a directory only when empty (what else is in it is not ours). */
export async function removePath(connection: Connection, path: string, type: PathType): Promise<void> {
  const script =
    type === "directory" ? 'if [ -d "$1" ]; then rmdir "$1" 2>/dev/null || true; fi' : 'rm -f -- "$1"';
  await runScript(connection, `removing ${path}`, script, [path]);
}

/** `svc -t` on a service or on its log service. */
export async function restartService(connection: Connection, dir: string, part: "service" | "log"): Promise<void> {
  const target = part === "log" ? `${dir}/log` : dir;
  await runScript(connection, `restarting ${target}`, 'svc -t "$1"', [target]);
}

// svscan notices a new link within five seconds; supervise then starts `run`.
// A service counts as up once it has stayed up for a second.
const WAIT_UP_SCRIPT = `
dir=$1 tries=$2
while [ "$tries" -gt 0 ]; do
  status=$(svstat "$dir" 2>&1)
  case $status in
    *": up "*) seconds=\${status##*) }; seconds=\${seconds%% *}
               [ "$seconds" -ge 1 ] 2>/dev/null && { printf '%s\\n' "$status"; exit 0; } ;;
  esac
  sleep 0.5
  tries=$((tries - 1))
done
printf '%s\\n' "$status" >&2
exit 1
`;

export async function waitUntilUp(connection: Connection, dir: string, seconds = 30): Promise<string> {
  const result = await runScript(connection, `waiting for ${dir} to be up`, WAIT_UP_SCRIPT, [dir, String(seconds * 2)]);
  return result.stdout.toString("utf8").trim();
}

// The banner read on the host itself, where the SMTP port is surely reachable
// (bash for /dev/tcp: nc is not on every mailhub).
const BANNER_SCRIPT = `timeout 15 bash -c 'exec 3<>"/dev/tcp/$1/$2" && IFS= read -r line <&3 && printf "%s\\n" "$line"' banner "$1" "$2"`;

export async function readBanner(connection: Connection, ip: string, port: number): Promise<string> {
  const address = ip === "0" || ip === "0.0.0.0" ? "127.0.0.1" : ip;
  const result = await runScript(connection, `reading the SMTP banner on ${address}:${port}`, BANNER_SCRIPT, [
    address,
    String(port),
  ]);
  return result.stdout.toString("utf8").replace(/\r?\n$/, "").replace(/\r$/, "");
}

// Taking a service away the way daemontools wants it: the link first (so
// svscan does not start it again), then supervise told to stop the service and
// its log and exit, then the directory.
const TEARDOWN_SCRIPT = `
dir=$1 link=$2
rm -f -- "$link"
if [ -d "$dir" ]; then
  svok "$dir" 2>/dev/null && svc -dx "$dir"
  svok "$dir/log" 2>/dev/null && svc -dx "$dir/log"
  tries=40
  while { svok "$dir" 2>/dev/null || svok "$dir/log" 2>/dev/null; } && [ "$tries" -gt 0 ]; do
    sleep 0.25; tries=$((tries - 1))
  done
  if svok "$dir" 2>/dev/null || svok "$dir/log" 2>/dev/null; then
    echo "supervise did not exit for $dir" >&2; exit 1
  fi
  rm -rf -- "$dir"
fi
`;

export async function teardownService(connection: Connection, dir: string, link: string): Promise<void> {
  await runScript(connection, `removing service ${dir}`, TEARDOWN_SCRIPT, [dir, link]);
}

// "up" when supervise runs the service and its log and both are up.
const SERVICE_STATE_SCRIPT = `
for d in "$1" "$1/log"; do
  svok "$d" 2>/dev/null || { echo unsupervised; exit 0; }
  case $(svstat "$d") in *": up "*) ;; *) echo down; exit 0 ;; esac
done
echo up
`;

/** Whether the service and its log run: `up`, `down` (supervise runs, service stopped) or `unsupervised`. */
export async function serviceState(connection: Connection, dir: string): Promise<"up" | "down" | "unsupervised"> {
  const result = await runScript(connection, `checking ${dir}`, SERVICE_STATE_SCRIPT, [dir]);
  return result.stdout.toString("utf8").trim() as "up" | "down" | "unsupervised";
}

// After a hand-made `svc -d`, or once svscan has started supervise again.
const BRING_UP_SCRIPT = `
tries=40
until svok "$1" 2>/dev/null && svok "$1/log" 2>/dev/null; do
  tries=$((tries - 1))
  [ "$tries" -gt 0 ] || { echo "no supervise runs $1 (is svscan running on the service directory?)" >&2; exit 1; }
  sleep 0.25
done
svc -u "$1" "$1/log"
`;

export async function bringUp(connection: Connection, dir: string): Promise<void> {
  await runScript(connection, `starting ${dir}`, BRING_UP_SCRIPT, [dir]);
}
