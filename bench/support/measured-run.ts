// Runs a command to its end, timed; with `measure`, in a cgroup v2 of its own,
// the RSS of its whole process tree sampled every 100 ms (a child between
// vfork and exec not counted twice) and its CPU time read from cpu.stat.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "..", "..");
const SAMPLE_MS = 100;

const PAGE_SIZE = Number(spawnSync("getconf", ["PAGESIZE"], { encoding: "utf8" }).stdout.trim()) || 4096;

const CLOCK_TICKS = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim()) || 100;

/** A process's memory figures (/proc/PID/statm), parent and CPU time so far, or undefined once it has ended. */
function memoryOf(pid: number): { statm: string; rss: number; ppid: number; cpuSeconds: number } | undefined {
  try {
    const statm = fs.readFileSync(`/proc/${pid}/statm`, "utf8");
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces): state, ppid, ... utime (14th field), stime (15th).
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ppid = Number(fields[1]);
    const cpuSeconds = (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
    return { statm, rss: Number(statm.split(" ")[1]) * PAGE_SIZE, ppid, cpuSeconds };
  } catch {
    return undefined;
  }
}

/** What a process is, from its command line: `pulumi`, `pulumi-language-nodejs`, `node program`, `node provider`... */
function labelOf(pid: number): string {
  let argv: string[];
  try {
    argv = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter((a) => a !== "");
  } catch {
    return `pid ${pid}`;
  }
  if (argv.length === 0) return `pid ${pid}`;
  const name = path.basename(argv[0]);
  if (name === "node") {
    const joined = argv.join(" ");
    if (joined.includes("provider/main.js")) return "node provider";
    if (/@pulumi\/pulumi\/cmd\/run|cmd\/run/.test(joined)) return "node program";
    return `node ${path.basename(argv.find((a, i) => i > 0 && !a.startsWith("-")) ?? "")}`.trim();
  }
  if (name === "sh" || name === "bash") return `${name} ${path.basename(argv[1] ?? "")}`.trim();
  return name;
}

function cgroup2Mount(): string | undefined {
  for (const line of fs.readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
    const [before, after] = line.split(" - ");
    if (after?.split(" ")[0] === "cgroup2") return before.split(" ")[4];
  }
  return undefined;
}

/** A new, empty cgroup v2 for one process tree, or undefined where none can be made. */
function newCgroup(): string | undefined {
  const mount = cgroup2Mount();
  if (!mount) return undefined;
  const dir = path.join(mount, "qmail-fleet-bench", `up-${randomUUID()}`);
  try {
    fs.mkdirSync(dir, { recursive: true });
    return dir;
  } catch {
    return undefined;
  }
}

function cgroupPids(cgroup: string): number[] {
  try {
    return fs.readFileSync(path.join(cgroup, "cgroup.procs"), "utf8").split("\n").filter((l) => l !== "").map(Number);
  } catch {
    return [];
  }
}

/** `top` and every process below it, by parent pid. */
function descendants(top: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // ended meanwhile
    }
  }
  const found = [top];
  for (let i = 0; i < found.length; i++) found.push(...(children.get(found[i]) ?? []));
  return found;
}

/** Removes a cgroup once its processes are gone; ends our own leftovers (plugins that outlived pulumi). */
async function removeCgroup(cgroup: string, whenEmpty: () => void): Promise<void> {
  for (let i = 0; i < 50 && cgroupPids(cgroup).length > 0; i++) await sleep(100);
  whenEmpty();
  if (cgroupPids(cgroup).length > 0) {
    process.stderr.write(`  note: processes of the up still running after 5 s (${cgroupPids(cgroup).map(labelOf).join(", ")}); ending them\n`);
    try {
      fs.writeFileSync(path.join(cgroup, "cgroup.kill"), "1");
    } catch {
      for (const pid of cgroupPids(cgroup)) process.kill(pid, "SIGKILL");
    }
    for (let i = 0; i < 50 && cgroupPids(cgroup).length > 0; i++) await sleep(100);
  }
  try {
    fs.rmdirSync(cgroup);
  } catch {
    // left for the next run's look; it holds nothing of ours once empty
  }
}

/** The bench's cgroup parent, once no up of any run is left in it. */
export function removeCgroupParent(): void {
  const mount = cgroup2Mount();
  if (!mount) return;
  try {
    fs.rmdirSync(path.join(mount, "qmail-fleet-bench"));
  } catch {
    // absent, or a cgroup of another run still in it
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface MemoryPeak {
  /** Largest sum of RSS over one sample. */
  bytes: number;
  /** That sample, by process. */
  processes: Array<{ label: string; bytes: number }>;
  /** Largest RSS each process reached, by label. */
  maxByLabel: Map<string, number>;
  /**
   * CPU time by label: each process's last reading before it ended (so up to
   * one sample interval short for short-lived ones), summed over processes.
   */
  cpuByLabel: Map<string, number>;
  samples: number;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  wallSeconds: number;
  memory?: MemoryPeak;
  /** CPU time (user + system) of the whole process tree, from the cgroup's cpu.stat. */
  cpuSeconds?: number;
}

function cgroupCpuSeconds(cgroup: string): number | undefined {
  try {
    const usage = /^usage_usec (\d+)$/m.exec(fs.readFileSync(path.join(cgroup, "cpu.stat"), "utf8"));
    return usage ? Number(usage[1]) / 1e6 : undefined;
  } catch {
    return undefined;
  }
}

/** The running measured command, for the signal handler to end. */
let running: { child: ChildProcess; cgroup?: string } | undefined;

export interface RunOptions {
  stdin?: string;
  /** Time it and sample its process tree's memory; in its own cgroup where one can be made. */
  measure?: boolean;
  env?: Record<string, string>;
  /** Where it runs; the repository by default. */
  cwd?: string;
  /** Run once the command has exited, before its cgroup is waited on: ends what it left running on purpose (SSH control masters). */
  afterExit?: () => Promise<void>;
}


/**
 * Runs a command to its end. With `measure`, in its own cgroup, its process
 * tree's RSS sampled every SAMPLE_MS and its CPU time read at the end.
 */
export function run(command: string[], options: RunOptions = {}): Promise<RunResult> {
  const env = { ...process.env, ...options.env };
  const cgroup = options.measure ? newCgroup() : undefined;
  // The shell joins the cgroup, then becomes the command: everything it starts is in it from its first instruction.
  const child = cgroup
    ? spawn("/bin/sh", ["-c", 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"', "sh", cgroup, ...command], { env, cwd: options.cwd ?? ROOT })
    : spawn(command[0], command.slice(1), { env, cwd: options.cwd ?? ROOT });
  if (options.measure) running = { child, cgroup };
  const started = process.hrtime.bigint();

  const peak: MemoryPeak = { bytes: 0, processes: [], maxByLabel: new Map(), cpuByLabel: new Map(), samples: 0 };
  const cpuByPid = new Map<number, { label: string; seconds: number }>();
  const sample = () => {
    if (child.pid === undefined) return;
    const pids = cgroup ? cgroupPids(cgroup) : descendants(child.pid);
    const memory = new Map<number, NonNullable<ReturnType<typeof memoryOf>>>();
    for (const pid of pids) {
      const m = memoryOf(pid);
      if (m) memory.set(pid, m);
    }
    let total = 0;
    const processes: Array<{ label: string; bytes: number }> = [];
    for (const [pid, m] of memory) {
      // A process that ended between the two reads keeps the name it had at the last sample.
      const label = labelOf(pid);
      cpuByPid.set(pid, { label: label === `pid ${pid}` ? (cpuByPid.get(pid)?.label ?? label) : label, seconds: m.cpuSeconds });
    }
    for (const [pid, m] of memory) {
      // A child between vfork and exec (how Go and libuv start programs) runs in its
      // parent's memory: same statm to the page. Counting it would count the parent twice.
      if (memory.get(m.ppid)?.statm === m.statm) continue;
      const bytes = m.rss;
      // Read every time: a shell becomes pulumi or node by exec under the same pid.
      const label = labelOf(pid);
      total += bytes;
      processes.push({ label, bytes });
      peak.maxByLabel.set(label, Math.max(peak.maxByLabel.get(label) ?? 0, bytes));
    }
    peak.samples++;
    if (total > peak.bytes) {
      peak.bytes = total;
      peak.processes = processes.sort((a, b) => b.bytes - a.bytes);
    }
  };
  const timer = options.measure ? setInterval(sample, SAMPLE_MS) : undefined;

  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout!.on("data", (chunk: Buffer) => stdout.push(chunk));
  child.stderr!.on("data", (chunk: Buffer) => stderr.push(chunk));
  child.stdin!.end(options.stdin ?? "");
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", async (code, signal) => {
      const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (timer) clearInterval(timer);
      for (const { label, seconds } of cpuByPid.values()) peak.cpuByLabel.set(label, (peak.cpuByLabel.get(label) ?? 0) + seconds);
      let cpuSeconds: number | undefined;
      if (options.afterExit) await options.afterExit();
      if (cgroup) {
        await removeCgroup(cgroup, () => (cpuSeconds = cgroupCpuSeconds(cgroup)));
      }
      if (options.measure) running = undefined;
      resolve({
        cpuSeconds,
        code: code ?? (signal ? 128 : 1),
        stdout: Buffer.concat(stdout).toString("utf8"),
        stderr: Buffer.concat(stderr).toString("utf8"),
        wallSeconds,
        memory: options.measure ? peak : undefined,
      });
    });
  });
}

export const tail = (text: string, lines = 40) => text.trimEnd().split("\n").slice(-lines).join("\n");

/** Ends the measured command running now (on SIGINT/SIGTERM of the bench): its whole cgroup where it has one. */
export function endRunning(): void {
  if (running?.cgroup) {
    try {
      fs.writeFileSync(path.join(running.cgroup, "cgroup.kill"), "1");
      return;
    } catch {
      // fall through to the signal
    }
  }
  running?.child.kill("SIGTERM");
}
