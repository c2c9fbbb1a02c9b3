// What the provider does on a mailhub, as small POSIX sh scripts run over the
// host's one SSH connection. Paths travel as arguments, file bytes only on
// stdin. Every error names the host and what to do next.
import type { HostFacts } from "../lib/import/run-script-meaning";
import type { FactRequest } from "./run-script-comparison";
import { shellQuote } from "../lib/render/shell-quote";
import { where, type SshConnection, type Stdin } from "./ssh-connection";

/** Where a file is written before it goes live: beside it, so the rename is atomic. */
export function stagedPath(path: string): string {
  const slash = path.lastIndexOf("/");
  return `${path.slice(0, slash)}/.${path.slice(slash + 1)}.qmail-fleet-new`;
}

/** Where the file a switch replaced (or removed) waits until the services are healthy on the new one. */
export function previousPath(path: string): string {
  const slash = path.lastIndexOf("/");
  return `${path.slice(0, slash)}/.${path.slice(slash + 1)}.qmail-fleet-previous`;
}

export class HostCommandError extends Error {
  constructor(
    message: string,
    /** The command's exit status; undefined when the connection was lost before it ended. */
    readonly exitCode?: number,
  ) {
    super(message);
  }
}

/** Single-quotes a multi-line script for `sh -c` (shellQuote refuses newlines, as it should for values). */
function quoteScript(script: string): string {
  return `'${script.replace(/'/g, `'\\''`)}'`;
}

export class HostSession {
  constructor(
    readonly connection: SshConnection,
    private readonly sudo: boolean,
  ) {}

  get name(): string {
    return where(this.connection.target);
  }

  async run(what: string, script: string, args: string[], stdin?: Stdin): Promise<Buffer> {
    const shell = `sh -c ${quoteScript(script)} qmail-fleet ${args.map(shellQuote).join(" ")}`;
    const command = this.sudo ? `sudo -n ${shell}` : shell;
    const result = await this.connection.run(command, stdin);
    if (result.code === undefined)
      throw new HostCommandError(`${this.name}: the SSH connection was lost while ${what}`);
    if (result.code !== 0) {
      const stderr = result.stderr.trim() || "no output";
      const target = this.connection.target;
      const hint =
        !this.sudo && target.user !== "root" && /Permission denied|Operation not permitted/.test(stderr)
          ? `; ${target.user} is not root and ssh.sudo is off: set ssh.sudo: true (README, step 4) or log in as root`
          : "";
      throw new HostCommandError(`${this.name}: ${what} failed (exit ${result.code}): ${stderr}${hint}`, result.code);
    }
    return result.stdout;
  }
}

// --- reading the host ---------------------------------------------------------

export interface ObservedFile {
  present: boolean;
  /** False when something other than a regular file is at the path. */
  regular?: boolean;
  owner?: string;
  group?: string;
  mode?: string;
  sha256?: string;
  size?: number;
  mtime?: number;
  /** A staging file or previous copy left beside it by an interrupted run. */
  leftover: boolean;
  /** The text on the host of a service script about to be replaced, read to tell whether what runs changes. */
  text?: string;
}

export interface ObservedDirectory {
  present: boolean;
  directory?: boolean;
  owner?: string;
  group?: string;
  mode?: string;
}

export interface ObservedSupervise {
  /** Whether supervise runs it (svok). */
  supervised: boolean;
  up: boolean;
  /** When it last started, in seconds since the epoch (host clock). */
  startedAt?: number;
  /** When it went down, when it is down (host clock). */
  downSince?: number;
  /** Seconds since it last started or went down, as svstat says. */
  age?: number;
  /** The process supervise runs, when up. */
  pid?: number;
}

export interface ObservedService {
  /** The link's target, or undefined when there is no link. */
  linkTarget?: string;
  service: ObservedSupervise;
  log: ObservedSupervise;
  downFile: boolean;
  runMtime?: number;
  logRunMtime?: number;
  logMainPresent: boolean;
}

export interface Observation {
  files: Map<string, ObservedFile>;
  directories: Map<string, ObservedDirectory>;
  services: Map<string, ObservedService>;
  /** What the host tells about the lookups of the scripts read (ids, control files, envdirs). */
  facts?: HostFacts;
}

// One line per entry, fields separated by tabs. `f PATH`, `d PATH` and
// `s DIR LINK` come as arguments; times are the host's own clock.
// svstat gives a service's age in whole seconds of its own clock reading: the
// start time is that reading minus the age, so the clock is read around
// svstat, again when a second ticked meanwhile. (One reading for the whole
// script, before the files are hashed, put the start as many seconds early as
// the hashing took: a service restarted just after its run script was written
// then read as "running an older run script".)
const INSPECT_SCRIPT = `
supervised() {
  if svok "$1" 2>/dev/null; then
    while :; do
      now=$(date +%s)
      st=$(svstat "$1" 2>/dev/null)
      [ "$(date +%s)" = "$now" ] && break
    done
    case $st in
      *": up "*)
        secs=\${st##*) }; secs=\${secs%% *}; pid=\${st#*(pid }; pid=\${pid%%)*}
        printf '1\\tup\\t%s\\t%s\\t%s' "$((now - secs))" "$secs" "$pid" ;;
      *": down "*) secs=\${st#*: down }; secs=\${secs%% *}; printf '1\\tdown\\t%s\\t%s\\t-' "$((now - secs))" "$secs" ;;
      *) printf '1\\tdown\\t-\\t-\\t-' ;;
    esac
  else
    printf '0\\t-\\t-\\t-\\t-'
  fi
}
mtime() { stat -c %Y "$1" 2>/dev/null || echo -; }
while [ $# -gt 0 ]; do
  kind=$1 p=$2; shift 2
  case $kind in
    f)
      left=0; { [ -e "\${p%/*}/.\${p##*/}.qmail-fleet-new" ] || [ -e "\${p%/*}/.\${p##*/}.qmail-fleet-previous" ]; } && left=1
      if [ -L "$p" ] || { [ -e "$p" ] && [ ! -f "$p" ]; }; then
        printf 'f\\tother\\t%s\\n' "$left"
      elif [ -f "$p" ]; then
        sum=$(sha256sum < "$p") || exit 1
        printf 'f\\tpresent\\t%s\\t%s\\t%s\\n' "$left" "$(stat --printf '%U\\t%G\\t%a\\t%s\\t%Y' "$p")" "\${sum%% *}"
      else
        printf 'f\\tmissing\\t%s\\n' "$left"
      fi ;;
    d)
      if [ -d "$p" ] && [ ! -L "$p" ]; then
        printf 'd\\tpresent\\t%s\\n' "$(stat --printf '%U\\t%G\\t%a' "$p")"
      elif [ -e "$p" ] || [ -L "$p" ]; then
        printf 'd\\tother\\n'
      else
        printf 'd\\tmissing\\n'
      fi ;;
    s)
      link=$1; shift
      target=-; [ -L "$link" ] && target=$(readlink "$link")
      down=0; [ -e "$p/down" ] && down=1
      main=0; [ -d "$p/log/main" ] && main=1
      printf 's\\t%s\\t%s\\t%s\\t%s\\t%s\\t%s\\t%s\\n' "$target" "$(supervised "$p")" "$(supervised "$p/log")" \\
        "$down" "$(mtime "$p/run")" "$(mtime "$p/log/run")" "$main" ;;
  esac
done
`;

export interface InspectRequest {
  files: string[];
  directories: string[];
  services: Array<{ name: string; dir: string; link: string }>;
}

export async function inspect(session: HostSession, request: InspectRequest): Promise<Observation> {
  const args: string[] = [];
  for (const path of request.files) args.push("f", path);
  for (const path of request.directories) args.push("d", path);
  for (const service of request.services) args.push("s", service.dir, service.link);
  const out = await session.run("reading the managed files and services", INSPECT_SCRIPT, args);
  const lines = out.toString("utf8").split("\n").filter((line) => line.length > 0);
  const expected = request.files.length + request.directories.length + request.services.length;
  if (lines.length !== expected)
    throw new HostCommandError(`${session.name}: reading the managed files gave ${lines.length} answers for ${expected} entries`);
  const observation: Observation = { files: new Map(), directories: new Map(), services: new Map() };
  let i = 0;
  for (const path of request.files) observation.files.set(path, parseFile(lines[i++].split("\t")));
  for (const path of request.directories) observation.directories.set(path, parseDirectory(lines[i++].split("\t")));
  for (const service of request.services) observation.services.set(service.name, parseService(lines[i++].split("\t")));
  return observation;
}

function parseFile(f: string[]): ObservedFile {
  const leftover = f[2] === "1";
  if (f[1] === "missing") return { present: false, leftover };
  if (f[1] === "other") return { present: true, regular: false, leftover };
  const [, , , owner, group, mode, size, mtime, sha256] = f;
  return { present: true, regular: true, owner, group, mode: mode.padStart(4, "0"), size: Number(size), mtime: Number(mtime), sha256, leftover };
}

function parseDirectory(f: string[]): ObservedDirectory {
  if (f[1] === "missing") return { present: false };
  if (f[1] === "other") return { present: true, directory: false };
  return { present: true, directory: true, owner: f[2], group: f[3], mode: f[4].padStart(4, "0") };
}

function parseService(f: string[]): ObservedService {
  const number = (value: string) => (value === "-" ? undefined : Number(value));
  const supervise = ([ok, state, since, age, pid]: string[]): ObservedSupervise => ({
    supervised: ok === "1",
    up: state === "up",
    startedAt: state === "up" ? number(since) : undefined,
    downSince: state === "down" ? number(since) : undefined,
    age: number(age),
    pid: number(pid),
  });
  return {
    linkTarget: f[1] === "-" ? undefined : f[1],
    service: supervise(f.slice(2, 7)),
    log: supervise(f.slice(7, 12)),
    downFile: f[12] === "1",
    runMtime: number(f[13]),
    logRunMtime: number(f[14]),
    logMainPresent: f[15] === "1",
  };
}

/** The text of a small file, to show a hand edit in a refresh. */
export async function readText(session: HostSession, path: string): Promise<string> {
  return (await session.run(`reading ${path}`, 'cat -- "$1"', [path])).toString("utf8");
}

// What run scripts look up on the host, read without running them: `u NAME`
// (uid and gid), `f PATH` (the first 64 KiB of a control file), `e DIR` (an
// envdir: each variable's first line, or unset for an empty file). One line
// per request; values travel base64, so any byte survives the tabs.
const FACTS_SCRIPT = `
while [ $# -gt 0 ]; do
  kind=$1 p=$2; shift 2
  case $kind in
    u)
      if uid=$(id -u -- "$p" 2>/dev/null) && gid=$(id -g -- "$p" 2>/dev/null); then
        printf 'u\\t+\\t%s\\t%s\\n' "$uid" "$gid"
      else
        printf 'u\\t-\\n'
      fi ;;
    f)
      if [ -f "$p" ] && [ -r "$p" ]; then printf 'f\\t+\\t%s\\n' "$(head -c 65536 -- "$p" | base64 -w0)"; else printf 'f\\t-\\n'; fi ;;
    e)
      if [ -d "$p" ]; then
        printf 'e\\t+'
        for v in "$p"/*; do
          name=\${v##*/}
          [ -f "$v" ] || continue
          case $name in *=*) continue ;; esac
          if [ -s "$v" ]; then printf '\\t%s=%s' "$name" "$(head -n 1 -- "$v" | base64 -w0)"; else printf '\\t%s' "$name"; fi
        done
        printf '\\n'
      else
        printf 'e\\t-\\n'
      fi ;;
  esac
done
`;

/** Reads what the scripts look up; a lookup the host cannot answer is left out (it stays unknown). */
export async function readHostFacts(session: HostSession, request: FactRequest): Promise<HostFacts> {
  const facts: Required<Pick<HostFacts, "users" | "files" | "envdirs">> = { users: {}, files: {}, envdirs: {} };
  const args = [...request.users.flatMap((u) => ["u", u]), ...request.files.flatMap((f) => ["f", f]), ...request.envdirs.flatMap((e) => ["e", e])];
  if (args.length === 0) return facts;
  const out = await session.run("reading what the run scripts look up", FACTS_SCRIPT, args);
  const lines = out.toString("utf8").split("\n").filter((line) => line.length > 0);
  if (lines.length !== args.length / 2)
    throw new HostCommandError(`${session.name}: reading what the run scripts look up gave ${lines.length} answers for ${args.length / 2} lookups`);
  const decode = (b64: string) => Buffer.from(b64, "base64").toString("utf8");
  let i = 0;
  for (const user of request.users) {
    const [, known, uid, gid] = lines[i++].split("\t");
    if (known === "+") facts.users[user] = { uid, gid };
  }
  for (const file of request.files) {
    const [, known, b64] = lines[i++].split("\t");
    if (known === "+") facts.files[file] = decode(b64 ?? "");
  }
  for (const dir of request.envdirs) {
    const [, known, ...variables] = lines[i++].split("\t");
    if (known !== "+") continue;
    // envdir's reading: the first line, trailing blanks dropped, NUL for newline; an empty file unsets.
    facts.envdirs[dir] = Object.fromEntries(
      variables.map((entry) => {
        const eq = entry.indexOf("=");
        if (eq < 0) return [entry, null];
        return [entry.slice(0, eq), decode(entry.slice(eq + 1)).replace(/\n$/, "").replace(/[ \t]+$/, "").replace(/\0/g, "\n")];
      }),
    );
  }
  return facts;
}

// --- changing files ---------------------------------------------------------

// Missing directories are made (and named on stdout, so a failed run can take
// them away again); owner and mode are set on every one.
const DIRECTORIES_SCRIPT = `
set -eu
while [ $# -gt 0 ]; do
  p=$1 owner=$2 group=$3 mode=$4; shift 4
  if [ ! -d "$p" ]; then mkdir -- "$p"; printf '%s\\n' "$p"; fi
  chown "$owner:$group" "$p"
  chmod "$mode" "$p"
done
`;

export interface DirectoryChange {
  path: string;
  owner: string;
  group: string;
  mode: string;
}

/** Makes the directories (parents first) and returns the ones it created. */
export async function ensureDirectories(session: HostSession, directories: DirectoryChange[]): Promise<string[]> {
  if (directories.length === 0) return [];
  const args = directories.flatMap((d) => [d.path, d.owner, d.group, d.mode]);
  const out = await session.run("creating directories", DIRECTORIES_SCRIPT, args);
  return out.toString("utf8").split("\n").filter((line) => line.length > 0);
}

// The bytes go to a private staging file beside the target; only when their
// count and sha256 match the plan do they get the file's owner and mode.
// Anything else removes the staging file and fails. A run cut off before that
// point leaves the staging file, which the next run removes.
const STAGE_SCRIPT = `
set -eu
path=$1 owner=$2 group=$3 mode=$4 want_sum=$5 want_size=$6 staged=$7 keep_time=$8
rm -f -- "$staged"
umask 077
cat > "$staged"
size=$(wc -c < "$staged")
if [ "$size" -ne "$want_size" ]; then
  rm -f -- "$staged"
  echo "received $size of $want_size bytes" >&2; exit 3
fi
sync -- "$staged" 2>/dev/null || sync
sum=$(sha256sum < "$staged")
if [ "\${sum%% *}" != "$want_sum" ]; then
  rm -f -- "$staged"
  echo "the bytes received do not have the planned sha256" >&2; exit 3
fi
chown "$owner:$group" "$staged"
chmod "$mode" "$staged"
if [ "$keep_time" = keep-time ] && [ -f "$path" ]; then touch -r "$path" -- "$staged"; fi
`;

export interface FileChange {
  path: string;
  owner: string;
  group: string;
  mode: string;
  sha256: string;
  size: number;
  bytes: Stdin;
  /**
   * Give the new file the mtime of the one it replaces: a run script rewritten
   * without a restart (same meaning). svstat's uptime against run's mtime is how
   * a refresh (and an admin) tells that a service runs an older script; a
   * rewrite that changes nothing that runs must not look like one. Kept on the
   * file rather than recorded in state, so any reader of the host, with or
   * without our state, sees the same thing. The cost: backup tools that go by
   * size and mtime alone may skip the rewritten script.
   */
  keepTime?: boolean;
}

/**
 * Stages one file; with `thenSwitch`, the same command then switches (see
 * switchFiles) once this file is staged and checked: the last file of a run
 * goes live without a round trip of its own. A failed switch there exits
 * SWITCH_FAILED; any other failure is the staging's, and nothing went live.
 */
export async function stageFile(session: HostSession, file: FileChange, thenSwitch?: SwitchRequest): Promise<void> {
  const args = [file.path, file.owner, file.group, file.mode, file.sha256, String(file.size), stagedPath(file.path), file.keepTime ? "keep-time" : "new-time"];
  if (!thenSwitch) {
    await session.run(`staging ${file.path}`, STAGE_SCRIPT, args, file.bytes);
    return;
  }
  try {
    await session.run(`staging ${file.path}`, `${STAGE_SCRIPT}shift 8\n${SWITCH_SCRIPT}`, [...args, ...switchArguments(thenSwitch)], file.bytes);
  } catch (error) {
    // Staging messages stay as they are; a failed switch says it is one.
    if (error instanceof HostCommandError && error.exitCode === SWITCH_FAILED)
      throw new HostCommandError(`every file was staged and checked, but putting them in place failed: ${error.message}`, error.exitCode);
    throw error;
  }
}

/** The exit status of a stage-and-switch command whose staging succeeded but whose switch failed. */
export const SWITCH_FAILED = 4;

export interface SwitchRequest {
  /** Staged files that go live. */
  live: string[];
  /** Files no longer declared, which go away. */
  removed: string[];
  /**
   * Keep what a file replaces (or a removed file) beside it, for a rollback
   * after a failed health check; false when the run touches no service, so
   * there is nothing to roll back for.
   */
  keepPrevious: boolean;
}

// Every staged file goes live and every file no longer declared goes away in
// one command that a lost connection cannot stop half-way. What was there
// before stays beside it (a hard link, no copy) until the services are
// healthy, so a failed health check can put it back; "-" for the previous
// copy's path keeps nothing.
const SWITCH_SCRIPT = `
trap '' HUP INT TERM PIPE
while [ $# -gt 0 ]; do
  case $1 in
    mv) { [ "$4" = - ] || [ ! -e "$3" ] || ln -f -- "$3" "$4"; } && mv -f -- "$2" "$3" || exit ${SWITCH_FAILED}; shift 4 ;;
    rm) if [ "$3" = - ]; then rm -f -- "$2"; elif [ -e "$2" ]; then mv -f -- "$2" "$3"; fi || exit ${SWITCH_FAILED}; shift 3 ;;
  esac
done
`;

function switchArguments({ live, removed, keepPrevious }: SwitchRequest): string[] {
  const previous = (path: string) => (keepPrevious ? previousPath(path) : "-");
  return [...live.flatMap((path) => ["mv", stagedPath(path), path, previous(path)]), ...removed.flatMap((path) => ["rm", path, previous(path)])];
}

export async function switchFiles(session: HostSession, request: SwitchRequest): Promise<void> {
  if (request.live.length === 0 && request.removed.length === 0) return;
  await session.run("putting the staged files in place", SWITCH_SCRIPT, switchArguments(request));
}

// Puts back what a switch replaced or removed; a file the switch created goes.
const ROLLBACK_SCRIPT = `
trap '' HUP INT TERM PIPE
for p in "$@"; do
  prev="\${p%/*}/.\${p##*/}.qmail-fleet-previous"
  if [ -e "$prev" ]; then mv -f -- "$prev" "$p"; else rm -f -- "$p"; fi
done
`;

export async function restorePrevious(session: HostSession, paths: string[]): Promise<void> {
  if (paths.length === 0) return;
  await session.run("putting the previous files back", ROLLBACK_SCRIPT, paths);
}

/** Drops the previous copies once the services are healthy on the new files. */
export async function dropPrevious(session: HostSession, paths: string[]): Promise<void> {
  await removeFiles(session, "removing the previous copies", paths.map(previousPath));
}

async function removeFiles(session: HostSession, what: string, files: string[]): Promise<void> {
  if (files.length === 0) return;
  await session.run(what, 'for p in "$@"; do rm -f -- "$p"; done', files);
}

/** Removes staging files: this run's after a failure. */
export async function removeStaged(session: HostSession, paths: string[]): Promise<void> {
  await removeFiles(session, "removing staging files", paths.map(stagedPath));
}

/** Removes the staging files and previous copies an interrupted run left. */
export async function removeLeftovers(session: HostSession, paths: string[]): Promise<void> {
  await removeFiles(session, "removing what an interrupted run left", [...paths.map(stagedPath), ...paths.map(previousPath)]);
}

/** Removes directories when empty (what else is in them is not ours), deepest first. */
export async function removeDirectories(session: HostSession, paths: string[]): Promise<void> {
  if (paths.length === 0) return;
  const deepestFirst = [...paths].sort((a, b) => b.length - a.length);
  await session.run("removing directories", 'for p in "$@"; do [ -d "$p" ] && { rmdir -- "$p" 2>/dev/null || true; }; done; exit 0', deepestFirst);
}

// --- services ---------------------------------------------------------------

// A new link is made beside the old one and renamed over it (mv -T), so svscan
// never sees a missing or half-made link.
const LINK_SCRIPT = `
set -eu
link=$1 target=$2
tmp="$link.qmail-fleet-new"
rm -f -- "$tmp"
ln -s -- "$target" "$tmp"
mv -T -f -- "$tmp" "$link"
`;

export async function linkService(session: HostSession, link: string, dir: string): Promise<void> {
  await session.run(`linking ${link}`, LINK_SCRIPT, [link, dir]);
}

// \`svc -t\` only signals the process; supervise starts the new one once the
// old one has gone. Until then svstat shows the old process with all its
// uptime, which the health gate would take for the new one having settled.
// So the restart waits until svstat shows another pid (or none), checking
// every quarter second up to $2 times.
export const RESTART_SCRIPT = `
dir=$1 tries=$2
pid() { status=$(svstat "$dir" 2>/dev/null); case $status in *": up (pid "*) status=\${status#*(pid }; echo "\${status%%)*}" ;; esac; }
before=$(pid)
svc -t "$dir" || exit 1
[ -n "$before" ] || exit 0
while [ "$(pid)" = "$before" ]; do
  tries=$((tries - 1))
  [ "$tries" -gt 0 ] || { echo "$dir still runs pid $before after svc -t" >&2; exit 1; }
  sleep 0.25
done
`;

/** `svc -t`: supervise restarts it with what is on disk now; returns once the old process is gone. */
export async function restart(session: HostSession, dir: string, timeoutSeconds = 10): Promise<void> {
  await session.run(`restarting ${dir}`, RESTART_SCRIPT, [dir, String(Math.ceil(timeoutSeconds * 4))]);
}

// After a hand-made `svc -d` or a `down` file: the file goes (so the service
// also starts at the next boot), then supervise is told to start it.
const BRING_UP_SCRIPT = `
rm -f -- "$1/down"
tries=40
until svok "$1" 2>/dev/null && svok "$1/log" 2>/dev/null; do
  tries=$((tries - 1))
  [ "$tries" -gt 0 ] || { echo "no supervise runs $1 (is svscan running on the service directory?)" >&2; exit 1; }
  sleep 0.25
done
svc -u "$1" "$1/log"
`;

export async function bringUp(session: HostSession, dir: string): Promise<void> {
  await session.run(`starting ${dir}`, BRING_UP_SCRIPT, [dir]);
}

// svscan notices a new link within five seconds; supervise then starts `run`.
// A service counts as up once it has stayed up for the settle time: one that
// dies at start and is restarted by supervise every second never gets there.
// svstat's "N seconds" subtracts whole seconds (a start at x.9 shows 2 at
// x+2.0, 1.1 s later): more than the settle time is at least that long.
const WAIT_UP_SCRIPT = `
dir=$1 settle=$2 tries=$3
while [ "$tries" -gt 0 ]; do
  status=$(svstat "$dir" 2>&1)
  case $status in
    *": up "*) seconds=\${status##*) }; seconds=\${seconds%% *}
               [ "$seconds" -gt "$settle" ] 2>/dev/null && exit 0 ;;
  esac
  sleep 0.5
  tries=$((tries - 1))
done
printf 'not up for %s seconds within the timeout: %s\\n' "$settle" "$status" >&2
exit 1
`;

export async function waitUntilUp(session: HostSession, dir: string, settleSeconds = 1, timeoutSeconds = 30): Promise<void> {
  const settle = Math.max(1, Math.ceil(settleSeconds));
  await session.run(`waiting for ${dir} to be up`, WAIT_UP_SCRIPT, [dir, String(settle), String(Math.ceil(timeoutSeconds * 2))]);
}

// The banner read on the host itself, where the SMTP port is surely reachable
// (bash for /dev/tcp: nc is not on every mailhub).
const BANNER_SCRIPT = `timeout 15 bash -c 'exec 3<>"/dev/tcp/$1/$2" && IFS= read -r line <&3 && printf "%s\\n" "$line"' banner "$1" "$2"`;

export async function readBanner(session: HostSession, ip: string, port: number): Promise<string> {
  const address = ip === "0" || ip === "0.0.0.0" ? "127.0.0.1" : ip;
  const out = await session.run(`reading the SMTP banner on ${address}:${port}`, BANNER_SCRIPT, [address, String(port)]);
  return out.toString("utf8").replace(/\r?\n$/, "").replace(/\r$/, "");
}

// An SSL-wrapped service speaks only after a TLS handshake: an accepted
// connection is what it can show without one.
const ACCEPTS_SCRIPT = `timeout "$3" bash -c 'exec 3<>"/dev/tcp/$1/$2"' accepts "$1" "$2"`;

export async function acceptsConnections(session: HostSession, ip: string, port: number, timeoutSeconds = 15): Promise<void> {
  const address = ip === "0" || ip === "0.0.0.0" ? "127.0.0.1" : ip;
  await session.run(`connecting to ${address}:${port}`, ACCEPTS_SCRIPT, [address, String(port), String(timeoutSeconds)]);
}

/** The last lines of a service's log, for a failure message. */
export async function logTail(session: HostSession, dir: string, lines = 5): Promise<string> {
  try {
    return (await session.run(`reading ${dir}/log/main/current`, 'tail -n "$2" -- "$1/log/main/current" 2>/dev/null; exit 0', [dir, String(lines)])).toString("utf8").trim();
  } catch {
    return "";
  }
}

// Taking a service away the way daemontools wants it: the link first (so
// svscan does not start it again), then supervise told to stop the service and
// its log and exit, then the directory.
const TEARDOWN_SCRIPT = `
dir=$1 link=$2 keep=$3
if [ -L "$link" ] && [ "$(readlink "$link")" = "$dir" ]; then rm -f -- "$link"; fi
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
  [ "$keep" = keep ] || rm -rf -- "$dir"
fi
`;

export async function teardownService(session: HostSession, dir: string, link: string, keepDir = false): Promise<void> {
  await session.run(`removing service ${dir}`, TEARDOWN_SCRIPT, [dir, link, keepDir ? "keep" : "remove"]);
}
