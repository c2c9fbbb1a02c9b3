// Benchmark: how state size, memory and `pulumi up` time grow with the
// validrcptto list. 8 sandbox mailhubs (127.0.0.81-88), each with an MX
// service on port 25 and a submission service on 587 (auth cdb: one user with
// a password, hashed with saltSecret; STARTTLS with a throwaway certificate),
// and a validrcptto list of 10, 10,000, 200,000 and 1,000,000 deterministic
// addresses given through `validRcptTo.files` (a file in the project dir).
//
// For each size, on a fresh stack and freshly started (empty) hosts:
//   - a cold `up`, a one-address `up` (one address appended to the file) and a
//     no-change `up` (--expect-no-changes), each timed (wall, process start
//     included);
//   - the peak memory of each up's whole process tree: the sum of the RSS of
//     pulumi and everything it starts (language host, program, provider),
//     sampled every 100 ms from /proc; the processes are those of a cgroup v2
//     the up runs in (without a usable one: the descendants of the up); a
//     child caught between vfork and exec shares its parent's memory and is
//     not counted again;
//   - the CPU time of each up's processes (cgroup cpu.stat), a figure the
//     machine's load does not change as it changes wall times;
//   - the state size, `pulumi stack export` bytes, after the three ups;
//   - the time (wall and CPU) and peak memory of `qmail-fleet cdb validrcptto`
//     building the same cdb.
// Then each figure beside its goal, and the verdict:
//   - peak memory under 1 GiB at every size;
//   - the one-address up at 1,000,000 addresses within 2 x (the one-address up
//     at 10 addresses + the cdb build at 1,000,000);
//   - the no-change up at every size within 1.2 x the one at 10 addresses.
// Goals not met are reported, not errors: exit 0 when the benchmark ran, 1
// when something failed. The hosts are stopped at the end, also on failure.
//
// Run: npm run bench:state   (builds dist/ first; needs root, the engine from
//      sandbox/build-engine, openssl)
// Options: --sizes 10,10000   the address counts (a quick run)
//          --repeat N         one-address and no-change ups (and the cdb build) N times each, median
//                             reported (default 3: the machine may be busy with other work)
//          --cpu-prof DIR     profile every node process of the ups (V8 CPU profiles, as node --cpu-prof
//                             writes them), in DIR/<size>-<up>/<program|provider>-<pid>.cpuprofile
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createHash, randomUUID } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { prng } from "../test/prng";

const ROOT = path.resolve(__dirname, "..");
const PULUMI = path.join(ROOT, "sandbox", "pulumi");
const MAILHUBS = path.join(ROOT, "sandbox", "mailhubs");
const CLI = path.join(ROOT, "bin", "qmail-fleet");
const SANDBOX_DIR = path.join(ROOT, ".sandbox", "bench-state-size");
const PROJECT_DIR = path.join(ROOT, ".state", "bench", "state-size");
/** Each up's output, kept after the run: <size>-<up>.log. */
const LOG_DIR = path.join(ROOT, ".state", "bench", "state-size-logs");
/** What a throwaway project links from the repository (as test/e2e/pulumi-project.ts does). */
const LINKED = ["program.js", "index.ts", "components", "provider", "lib", "cli", "dist", "node_modules", "package.json", "tsconfig.json"];

const HOSTS = 8;
const FIRST_ADDRESS = "127.0.0.81";
const STACK = "bench";
const DEFAULT_SIZES = [10, 10_000, 200_000, 1_000_000];
const BASE_SIZE = 10;
const GOAL_SIZE = 1_000_000;
const SAMPLE_MS = 100;
const GIB = 1024 ** 3;
const MEMORY_GOAL = GIB;
const ONE_ADDRESS_FACTOR = 2;
const NO_CHANGE_FACTOR = 1.2;

const CONTROL = "/var/qmail/control";
const ADDRESS_FILE = "validrcptto.txt";
const SALT_SECRET = "bench salt secret, at least sixteen bytes";
const PASSWORD = "bench password 4711";

// --- options -------------------------------------------------------------------

interface Options {
  sizes: number[];
  repeat: number;
  cpuProfDir?: string;
}

function parseOptions(argv: string[]): Options {
  const options: Options = { sizes: DEFAULT_SIZES, repeat: 3 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === "--sizes") {
      options.sizes = value().split(",").map((s) => Number(s.trim().replace(/_/g, "")));
      if (options.sizes.length === 0 || options.sizes.some((n) => !Number.isInteger(n) || n < 1))
        throw new Error(`--sizes wants positive whole numbers separated by commas, e.g. 10,10000`);
      options.sizes = [...new Set(options.sizes)].sort((a, b) => a - b);
    } else if (arg === "--repeat") {
      options.repeat = Number(value());
      if (!Number.isInteger(options.repeat) || options.repeat < 1) throw new Error("--repeat wants a whole number >= 1");
    } else if (arg === "--cpu-prof") {
      options.cpuProfDir = path.resolve(value());
    } else if (arg === "-h" || arg === "--help") {
      process.stdout.write("usage: npm run bench:state [-- --sizes 10,10000] [--repeat N] [--cpu-prof DIR]\n");
      process.exit(0);
    } else throw new Error(`unknown option ${arg} (see --help)`);
  }
  return options;
}

// --- addresses -----------------------------------------------------------------

const FIRST = ["anna", "bernd", "carla", "dieter", "eva", "frank", "gabi", "hans", "ines", "jan", "kim", "lena", "max", "nina", "olaf", "paula"];
const LAST = ["mueller", "schmidt", "schneider", "fischer", "weber", "meyer", "wagner", "becker", "schulz", "hoffmann"];

/** `count` unique ~35-byte addresses (as bench/cdb-validrcptto.ts makes them), one a line; the same every run. */
function addressList(count: number): string {
  const next = prng(20261126);
  const lines: string[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const first = FIRST[Math.floor(next() * FIRST.length)];
    const last = LAST[Math.floor(next() * LAST.length)];
    lines[i] = `${first}.${last}.${i.toString(36)}@mail-${Math.floor(next() * 400)}.example.net\n`;
  }
  return lines.join("");
}

/** The n-th address a one-address up adds; not one addressList makes. */
const addedAddress = (n: number) => `added.${n}@bench.example.org\n`;

// --- processes and their memory ----------------------------------------------------

const PAGE_SIZE = Number(spawnSync("getconf", ["PAGESIZE"], { encoding: "utf8" }).stdout.trim()) || 4096;

/** A process's memory figures (/proc/PID/statm) and parent, or undefined once it has ended. */
function memoryOf(pid: number): { statm: string; rss: number; ppid: number } | undefined {
  try {
    const statm = fs.readFileSync(`/proc/${pid}/statm`, "utf8");
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces): state, ppid, ...
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    return { statm, rss: Number(statm.split(" ")[1]) * PAGE_SIZE, ppid };
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
function removeCgroupParent(): void {
  const mount = cgroup2Mount();
  if (!mount) return;
  try {
    fs.rmdirSync(path.join(mount, "qmail-fleet-bench"));
  } catch {
    // absent, or a cgroup of another run still in it
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface MemoryPeak {
  /** Largest sum of RSS over one sample. */
  bytes: number;
  /** That sample, by process. */
  processes: Array<{ label: string; bytes: number }>;
  /** Largest RSS each process reached, by label. */
  maxByLabel: Map<string, number>;
  samples: number;
}

interface RunResult {
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

interface RunOptions {
  stdin?: string;
  /** Time it and sample its process tree's memory; in its own cgroup where one can be made. */
  measure?: boolean;
  env?: Record<string, string>;
}

/** Runs `sandbox/pulumi` in the bench project, on the bench stack. */
function pulumi(args: string[], options: RunOptions = {}): Promise<RunResult> {
  const stackArgs = args[0] === "stack" || args[0] === "config" ? [] : ["--stack", STACK];
  const env = { PULUMI_BACKEND_URL: `file://${path.join(PROJECT_DIR, "state")}`, ...options.env };
  return run([PULUMI, "--cwd", PROJECT_DIR, ...args, ...stackArgs], { ...options, env });
}

/**
 * Runs a command to its end. With `measure`, in its own cgroup, its process
 * tree's RSS sampled every SAMPLE_MS and its CPU time read at the end.
 */
function run(command: string[], options: RunOptions = {}): Promise<RunResult> {
  const env = { ...process.env, ...options.env };
  const cgroup = options.measure ? newCgroup() : undefined;
  // The shell joins the cgroup, then becomes the command: everything it starts is in it from its first instruction.
  const child = cgroup
    ? spawn("/bin/sh", ["-c", 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"', "sh", cgroup, ...command], { env, cwd: ROOT })
    : spawn(command[0], command.slice(1), { env, cwd: ROOT });
  if (options.measure) running = { child, cgroup };
  const started = process.hrtime.bigint();

  const peak: MemoryPeak = { bytes: 0, processes: [], maxByLabel: new Map(), samples: 0 };
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
      let cpuSeconds: number | undefined;
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

async function pulumiOk(args: string[], options: RunOptions = {}): Promise<RunResult> {
  const result = await pulumi(args, options);
  if (result.code !== 0) throw new Error(`pulumi ${args.join(" ")} failed (exit ${result.code}):\n${tail(result.stdout)}\n${tail(result.stderr)}`);
  return result;
}

const tail = (text: string, lines = 40) => text.trimEnd().split("\n").slice(-lines).join("\n");

// Node 20 refuses --cpu-prof in NODE_OPTIONS, and the engine starts the
// program and the provider itself: a preload (--require is allowed there)
// runs the same V8 profiler in each node process and writes its profile at exit.
const CPU_PROF_DIR_VARIABLE = "QMAIL_FLEET_BENCH_CPU_PROF_DIR";
const CPU_PROF_PRELOAD = `"use strict";
const dir = process.env.${CPU_PROF_DIR_VARIABLE};
if (dir) {
  const inspector = require("node:inspector");
  const fs = require("node:fs");
  const path = require("node:path");
  const session = new inspector.Session();
  session.connect();
  session.post("Profiler.enable");
  session.post("Profiler.start");
  process.on("exit", () => {
    // An in-process session answers at once, so this runs before the process ends.
    session.post("Profiler.stop", (error, result) => {
      if (error) return;
      const args = process.argv.slice(1).join(" ");
      const what = args.includes("provider/main.js") ? "provider" : args.includes("cmd/run") ? "program" : path.basename(process.argv[1] || "node");
      fs.writeFileSync(path.join(dir, what + "-" + process.pid + ".cpuprofile"), JSON.stringify(result.profile));
    });
  });
}
`;

function cpuProfilePreload(dir: string): string {
  const file = path.join(dir, "cpu-prof-preload.js");
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(file, CPU_PROF_PRELOAD);
  return file;
}

// --- sandbox hosts and the project ------------------------------------------------------

interface SandboxHost {
  name: string;
  address: string;
  sshPort: number;
  hostKey: string;
}

function mailhubs(...args: string[]): void {
  const result = spawnSync(MAILHUBS, args, { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`sandbox/mailhubs ${args.join(" ")} failed (${result.status}):\n${result.stderr}`);
}

/** Fresh, empty hosts: any earlier sandbox in SANDBOX_DIR is stopped and removed first. */
function startHosts(): SandboxHost[] {
  mailhubs("stop", "--dir", SANDBOX_DIR);
  fs.rmSync(SANDBOX_DIR, { recursive: true, force: true });
  mailhubs("start", "--dir", SANDBOX_DIR, "--count", String(HOSTS), "--first-address", FIRST_ADDRESS);
  return JSON.parse(fs.readFileSync(path.join(SANDBOX_DIR, "hosts.json"), "utf8"));
}

function stopHosts(): void {
  if (fs.existsSync(SANDBOX_DIR)) mailhubs("stop", "--dir", SANDBOX_DIR);
}

/** A throwaway TLS key and self-signed certificate for the submission service's STARTTLS. */
function makeCertificate(): { key: string; certificate: string } {
  const pem = spawnSync("openssl", [
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
    "-subj", "/CN=mail.bench.test", "-days", "2", "-keyout", "-", "-out", "-",
  ], { encoding: "utf8" });
  if (pem.status !== 0) throw new Error(`openssl could not make a certificate:\n${pem.stderr}`);
  const block = (label: string) => {
    const match = new RegExp(`-----BEGIN ${label}-----[\\s\\S]*?-----END ${label}-----\\n?`).exec(pem.stdout);
    if (!match) throw new Error(`no ${label} in openssl's output`);
    return match[0];
  };
  return { key: block("PRIVATE KEY"), certificate: block("CERTIFICATE") };
}

/** A new project dir (sources linked in, own state backend), its stack initialised and configured. */
async function newProject(hosts: SandboxHost[], tls: { key: string; certificate: string }, addresses: string): Promise<void> {
  fs.rmSync(PROJECT_DIR, { recursive: true, force: true });
  fs.mkdirSync(path.join(PROJECT_DIR, "state"), { recursive: true });
  for (const entry of LINKED) fs.symlinkSync(path.join(ROOT, entry), path.join(PROJECT_DIR, entry));
  fs.copyFileSync(path.join(ROOT, "Pulumi.yaml"), path.join(PROJECT_DIR, "Pulumi.yaml"));
  fs.writeFileSync(path.join(PROJECT_DIR, ADDRESS_FILE), addresses);
  await pulumiOk(["stack", "init", STACK]);

  const stackFile = path.join(PROJECT_DIR, `Pulumi.${STACK}.yaml`);
  const existing = (yaml.load(fs.readFileSync(stackFile, "utf8")) as Record<string, unknown> | undefined) ?? {};
  const config = {
    ssh: { user: "root", privateKeyFile: path.join(SANDBOX_DIR, "client_key") },
    sslCertificate: tls.certificate,
    authUsers: [{ user: "bench@bench.example.org", password: "(set as a secret)" }],
    validRcptTo: { files: [ADDRESS_FILE] },
    services: [
      { name: "smtpd", preset: "mx", validRcptTo: { cdbFile: `${CONTROL}/validrcptto.cdb` } },
      { name: "submission", preset: "submission", auth: { method: "cdb", cdbFile: `${CONTROL}/auth.cdb` } },
    ],
    hosts: hosts.map((host) => ({
      name: host.name,
      address: host.address,
      ssh: { knownHostsFile: path.join(SANDBOX_DIR, "known_hosts") },
      services: [
        { name: "smtpd", ip: host.address },
        { name: "submission", ip: host.address },
      ],
    })),
  };
  const document: Record<string, unknown> = {};
  if (existing.encryptionsalt) document.encryptionsalt = existing.encryptionsalt;
  document.config = Object.fromEntries(Object.entries(config).map(([k, v]) => [`qmail-fleet:${k}`, v]));
  fs.writeFileSync(stackFile, yaml.dump(document, { lineWidth: -1 }));
  // Secrets on stdin, never in argv.
  await pulumiOk(["config", "set", "--secret", "qmail-fleet:sslKey"], { stdin: tls.key });
  await pulumiOk(["config", "set", "--secret", "qmail-fleet:saltSecret"], { stdin: SALT_SECRET });
  await pulumiOk(["config", "set", "--secret", "--path", "qmail-fleet:authUsers[0].password"], { stdin: PASSWORD });
}

// --- one size ---------------------------------------------------------------------

type UpKind = "cold" | "one-address" | "no-change";

interface UpMeasurement {
  kind: UpKind;
  wallSeconds: number;
  cpuSeconds?: number;
  memory: MemoryPeak;
}

interface SizeResult {
  addresses: number;
  stateBytes: number;
  stateBytesAfterCold: number;
  stateResources: number;
  hostConfigurationBytes: number;
  ups: UpMeasurement[];
  cdbBuildSeconds: number[];
  cdbBuildCpuSeconds: Array<number | undefined>;
  cdbBuildPeakBytes: number;
  cdbBytes: number;
  cdbMatchesProgram: boolean;
  addressFileBytes: number;
}

const ofKind = (r: SizeResult, kind: UpKind) => r.ups.filter((u) => u.kind === kind);
const medianWall = (ups: UpMeasurement[]) => median(ups.map((u) => u.wallSeconds));
/** Median CPU time, or undefined where it could not be read (no cgroup). */
const medianCpu = (values: Array<number | undefined>) => (values.every((v) => v !== undefined) ? median(values as number[]) : undefined);
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const peakOf = (ups: UpMeasurement[]) => ups.reduce((best, u) => (u.memory.bytes > best.memory.bytes ? u : best));

/** `Resources:` counts of an up's output, e.g. { created: 19 } or { updated: 8, unchanged: 11 }. */
function resourceCounts(stdout: string): Record<string, number> {
  const counts: Record<string, number> = {};
  const section = stdout.slice(stdout.lastIndexOf("Resources:"));
  for (const match of section.matchAll(/^\s*[+~\-±]?\s*(\d+) (created|updated|deleted|replaced|unchanged)\b/gm)) counts[match[2]] = Number(match[1]);
  return counts;
}

async function up(size: number, kind: UpKind, run: number, options: Options, extra: string[] = []): Promise<UpMeasurement & { counts: Record<string, number> }> {
  const env: Record<string, string> = {};
  if (options.cpuProfDir) {
    const dir = path.join(options.cpuProfDir, `${size}-${kind}${run > 0 ? `-${run + 1}` : ""}`);
    fs.mkdirSync(dir, { recursive: true });
    env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ""} --require ${cpuProfilePreload(options.cpuProfDir)}`.trim();
    env[CPU_PROF_DIR_VARIABLE] = dir;
  }
  const result = await pulumi(["up", "--yes", "--skip-preview", "--non-interactive", ...extra], { measure: true, env });
  const log = path.join(LOG_DIR, `${size}-${kind}${run > 0 ? `-${run + 1}` : ""}.log`);
  fs.writeFileSync(log, `${result.stdout}\n--- stderr ---\n${result.stderr}`);
  if (result.code !== 0) throw new Error(`the ${kind} up at ${count(size)} addresses failed (exit ${result.code}); output in ${log}:\n${tail(result.stdout)}\n${tail(result.stderr)}`);
  const measurement = { kind, wallSeconds: result.wallSeconds, cpuSeconds: result.cpuSeconds, memory: result.memory!, counts: resourceCounts(result.stdout) };
  progress(`${count(size)} addresses, ${kind} up: ${measurement.wallSeconds.toFixed(2)} s (cpu ${cpu(measurement.cpuSeconds)}), peak ${mib(measurement.memory.bytes)} ` +
    `(${measurement.memory.samples} samples), resources ${JSON.stringify(measurement.counts)}`);
  return measurement;
}

async function measureSize(size: number, tls: { key: string; certificate: string }, options: Options): Promise<SizeResult> {
  progress(`${count(size)} addresses: fresh hosts and stack`);
  const hosts = startHosts();
  let addresses = addressList(size);
  await newProject(hosts, tls, addresses);
  const addressFile = path.join(PROJECT_DIR, ADDRESS_FILE);
  const ups: UpMeasurement[] = [];

  const cold = await up(size, "cold", 0, options);
  if ((cold.counts.created ?? 0) < HOSTS) throw new Error(`the cold up created ${cold.counts.created ?? 0} resources, fewer than the ${HOSTS} hosts`);
  ups.push(cold);
  const stateBytesAfterCold = Buffer.byteLength((await pulumiOk(["stack", "export", "--stack", STACK])).stdout);

  for (let run = 0; run < options.repeat; run++) {
    addresses += addedAddress(run + 1);
    fs.writeFileSync(addressFile, addresses);
    const one = await up(size, "one-address", run, options);
    // Each host's HostConfiguration changes (its validrcptto.cdb), nothing else.
    if (one.counts.updated !== HOSTS || one.counts.created || one.counts.deleted || one.counts.replaced)
      throw new Error(`the one-address up should update the ${HOSTS} hosts and nothing else; it did ${JSON.stringify(one.counts)}`);
    ups.push(one);
  }
  for (let run = 0; run < options.repeat; run++) ups.push(await up(size, "no-change", run, options, ["--expect-no-changes"]));

  const exported = (await pulumiOk(["stack", "export", "--stack", STACK])).stdout;
  const deployment = JSON.parse(exported).deployment as { resources?: Array<{ type: string }> };
  const resources = deployment.resources ?? [];
  const hostConfigurationBytes = resources
    .filter((r) => r.type === "qmail:index:HostConfiguration")
    .reduce((sum, r) => sum + Buffer.byteLength(JSON.stringify(r, null, 4)), 0);

  // The same cdb as the last up, built by the CLI alone: process start included, as for the ups.
  const cdbOut = path.join(PROJECT_DIR, "bench-validrcptto.cdb");
  const cdbBuilds: RunResult[] = [];
  for (let i = 0; i < options.repeat; i++) {
    const built = await run([process.execPath, CLI, "cdb", "validrcptto", addressFile, "-o", cdbOut], { measure: true });
    if (built.code !== 0) throw new Error(`qmail-fleet cdb validrcptto failed (${built.code}):\n${built.stderr}`);
    cdbBuilds.push(built);
  }
  const cdbBuildSeconds = cdbBuilds.map((b) => b.wallSeconds);
  const cdb = fs.readFileSync(cdbOut);
  const cdbMatchesProgram = fs.existsSync(path.join(PROJECT_DIR, ".qmail-fleet", "build", createHash("sha256").update(cdb).digest("hex")));
  progress(`${count(size)} addresses: state ${count(Buffer.byteLength(exported))} bytes, cdb build ${cdbBuildSeconds.map((s) => s.toFixed(2)).join(", ")} s`);

  return {
    addresses: size,
    stateBytes: Buffer.byteLength(exported),
    stateBytesAfterCold,
    stateResources: resources.length,
    hostConfigurationBytes,
    ups,
    cdbBuildSeconds,
    cdbBuildCpuSeconds: cdbBuilds.map((b) => b.cpuSeconds),
    cdbBuildPeakBytes: Math.max(...cdbBuilds.map((b) => b.memory!.bytes)),
    cdbBytes: cdb.length,
    cdbMatchesProgram,
    addressFileBytes: Buffer.byteLength(addresses),
  };
}

// --- report -------------------------------------------------------------------------

const count = (n: number) => n.toLocaleString("en-US");
const mib = (bytes: number) => `${(bytes / 1048576).toFixed(0)} MiB`;
const secs = (s: number) => `${s.toFixed(2)} s`;
const cpu = (s: number | undefined) => (s === undefined ? "n/a" : `${s.toFixed(1)} s`);
const verdict = (ok: boolean) => (ok ? "ok" : "MISSED");
const loadavg = () => os.loadavg().map((l) => l.toFixed(2)).join(" ");
const progress = (line: string) => process.stderr.write(`  [${new Date().toISOString().slice(11, 19)}] ${line}\n`);

function report(results: SizeResult[], options: Options, loadAtStart: string): void {
  const rows = results.map((r) => [
    count(r.addresses),
    count(r.stateBytes),
    mib(peakOf(r.ups).memory.bytes),
    secs(ofKind(r, "cold")[0].wallSeconds),
    secs(medianWall(ofKind(r, "one-address"))),
    secs(medianWall(ofKind(r, "no-change"))),
    secs(median(r.cdbBuildSeconds)),
  ]);
  const header = ["addresses", "state bytes", "peak memory", "cold up", "one-address up", "no-change up", "cdb build"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => "  " + cells.map((c, i) => (i === 0 ? c.padStart(widths[i]) : c.padStart(widths[i]))).join("  ");

  console.log(`\nstate size, memory and up times: ${HOSTS} sandbox hosts (${FIRST_ADDRESS}-${HOSTS + Number(FIRST_ADDRESS.split(".")[3]) - 1}), ` +
    `MX :25 + submission :587 (auth cdb), ${os.cpus().length} CPUs, ${mib(os.totalmem())} RAM` +
    `${options.repeat > 1 ? `, one-address and no-change ups ${options.repeat} times each (median)` : ""}`);
  console.log(`  load average (1, 5, 15 min) at start: ${loadAtStart}; at end: ${loadavg()}`);
  console.log(line(header));
  for (const row of rows) console.log(line(row));
  console.log("  state bytes: `pulumi stack export` after the three ups; peak memory: largest sum of RSS of the up's processes over its three ups;");
  console.log("  times: wall, `pulumi up --yes --skip-preview` through sandbox/pulumi; cdb build: `qmail-fleet cdb validrcptto` of the same list.");

  console.log("\n  each up: wall time, CPU time of its processes (user + system), peak memory (sum of RSS; at that sample, by process),");
  console.log("  and the largest RSS each kind of process reached:");
  for (const r of results) {
    for (const u of r.ups) {
      const at = u.memory.processes.map((p) => `${p.label} ${mib(p.bytes)}`).join(", ");
      console.log(`    ${count(r.addresses).padStart(9)} ${u.kind.padEnd(11)} wall ${secs(u.wallSeconds).padStart(8)}  cpu ${cpu(u.cpuSeconds).padStart(7)}  ` +
        `peak ${mib(u.memory.bytes).padStart(8)}  [${at}]`);
    }
    const byLabel = new Map<string, number>();
    for (const u of r.ups) for (const [label, bytes] of u.memory.maxByLabel) byLabel.set(label, Math.max(byLabel.get(label) ?? 0, bytes));
    const large = [...byLabel].filter(([, b]) => b >= 10 * 1048576).sort((a, b) => b[1] - a[1]);
    console.log(`    ${"".padStart(9)} max by process: ${large.map(([l, b]) => `${l} ${mib(b)}`).join(", ")}` +
      `${byLabel.size > large.length ? ` (${byLabel.size - large.length} kinds under 10 MiB)` : ""}`);
  }

  console.log("\n  state and cdb:");
  for (const r of results) {
    const changed = r.stateBytes !== r.stateBytesAfterCold ? ` (after the cold up: ${count(r.stateBytesAfterCold)})` : "";
    console.log(`    ${count(r.addresses).padStart(9)}: state ${count(r.stateBytes)} bytes${changed}, ${r.stateResources} resources, ` +
      `the ${HOSTS} HostConfigurations ${count(r.hostConfigurationBytes)} bytes; address file ${count(r.addressFileBytes)} bytes, ` +
      `validrcptto.cdb ${count(r.cdbBytes)} bytes${r.cdbMatchesProgram ? "" : " (NOT the bytes the program built: no such build file)"}, ` +
      `its build: cpu ${cpu(medianCpu(r.cdbBuildCpuSeconds))}, peak ${mib(r.cdbBuildPeakBytes)}` +
      `${r.cdbBuildSeconds.length > 1 ? `; cdb builds ${r.cdbBuildSeconds.map((s) => s.toFixed(2)).join(", ")} s` : ""}` +
      `${options.repeat > 1 ? `; one-address ups ${ofKind(r, "one-address").map((u) => u.wallSeconds.toFixed(2)).join(", ")} s, no-change ups ${ofKind(r, "no-change").map((u) => u.wallSeconds.toFixed(2)).join(", ")} s` : ""}`);
  }

  console.log("\n  goals:");
  // Peak memory under 1 GiB at every size.
  let memoryOk = true;
  for (const r of results) {
    const peak = peakOf(r.ups);
    const ok = peak.memory.bytes < MEMORY_GOAL;
    memoryOk &&= ok;
    console.log(`    peak memory, ${count(r.addresses)} addresses: ${mib(peak.memory.bytes)} (${peak.kind} up) (goal < 1024 MiB) ${verdict(ok)}`);
  }

  const base = results.find((r) => r.addresses === BASE_SIZE);
  let oneAddressVerdict = `not measured (${count(GOAL_SIZE)} not in --sizes)`;
  let noChangeOk = true;
  if (!base) {
    console.log(`    one-address and no-change goals: not measured (they compare with the ${BASE_SIZE}-address run; add ${BASE_SIZE} to --sizes)`);
    oneAddressVerdict = `not measured (${BASE_SIZE} not in --sizes)`;
    noChangeOk = false;
  } else {
    const baseOne = medianWall(ofKind(base, "one-address"));
    const baseNoChange = medianWall(ofKind(base, "no-change"));
    for (const r of results) {
      if (r === base) continue;
      const one = medianWall(ofKind(r, "one-address"));
      const cdb = median(r.cdbBuildSeconds);
      const limit = ONE_ADDRESS_FACTOR * (baseOne + cdb);
      const strict = ONE_ADDRESS_FACTOR * baseOne + cdb;
      const ok = one <= limit;
      console.log(`    one-address up, ${count(r.addresses)} addresses: ${secs(one)} (goal <= 2 x (${secs(baseOne)} at ${BASE_SIZE} + ${secs(cdb)} cdb build) = ${secs(limit)}) ` +
        `${verdict(ok)}${r.addresses === GOAL_SIZE ? "" : " (the goal is set for 1,000,000)"}; ratio ${(one / (baseOne + cdb)).toFixed(2)}; ` +
        `read as 2 x ${secs(baseOne)} + ${secs(cdb)} = ${secs(strict)}: ${verdict(one <= strict)}`);
      const oneCpu = medianCpu(ofKind(r, "one-address").map((u) => u.cpuSeconds));
      const baseOneCpu = medianCpu(ofKind(base, "one-address").map((u) => u.cpuSeconds));
      const cdbCpu = medianCpu(r.cdbBuildCpuSeconds);
      if (oneCpu !== undefined && baseOneCpu !== undefined && cdbCpu !== undefined)
        console.log(`      the same in CPU time (not the goal; a check that does not depend on the machine's load): ${cpu(oneCpu)} vs ` +
          `2 x (${cpu(baseOneCpu)} + ${cpu(cdbCpu)}) = ${cpu(ONE_ADDRESS_FACTOR * (baseOneCpu + cdbCpu))}: ${verdict(oneCpu <= ONE_ADDRESS_FACTOR * (baseOneCpu + cdbCpu))}`);
      if (r.addresses === GOAL_SIZE) oneAddressVerdict = verdict(ok);
    }
    for (const r of results) {
      if (r === base) continue;
      const noChange = medianWall(ofKind(r, "no-change"));
      const limit = NO_CHANGE_FACTOR * baseNoChange;
      const ok = noChange <= limit;
      noChangeOk &&= ok;
      console.log(`    no-change up, ${count(r.addresses)} addresses: ${secs(noChange)} (goal <= 1.2 x ${secs(baseNoChange)} at ${BASE_SIZE} = ${secs(limit)}) ` +
        `${verdict(ok)}; ratio ${(noChange / baseNoChange).toFixed(2)}`);
      const noChangeCpu = medianCpu(ofKind(r, "no-change").map((u) => u.cpuSeconds));
      const baseNoChangeCpu = medianCpu(ofKind(base, "no-change").map((u) => u.cpuSeconds));
      if (noChangeCpu !== undefined && baseNoChangeCpu !== undefined)
        console.log(`      the same in CPU time (not the goal): ${cpu(noChangeCpu)} vs 1.2 x ${cpu(baseNoChangeCpu)} = ${cpu(NO_CHANGE_FACTOR * baseNoChangeCpu)}: ` +
          `${verdict(noChangeCpu <= NO_CHANGE_FACTOR * baseNoChangeCpu)}; ratio ${(noChangeCpu / baseNoChangeCpu).toFixed(2)}`);
    }
  }

  const sizes = results.map((r) => count(r.addresses)).join(", ");
  console.log(`\n  verdict: peak memory under 1 GiB at every size (${sizes}): ${verdict(memoryOk)}; ` +
    `one-address up at ${count(GOAL_SIZE)}: ${oneAddressVerdict}; ` +
    `no-change up within 1.2 x at every size: ${base ? verdict(noChangeOk) : "not measured"}`);
}

// --- main ---------------------------------------------------------------------------

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  if (!fs.existsSync(path.join(ROOT, "dist", "provider", "main.js")) || !fs.existsSync(path.join(ROOT, "dist", "cli", "main.js")))
    throw new Error("dist/ is missing: run `npm run build` first");
  const loadAtStart = loadavg();
  const started = Date.now();
  progress(`sizes ${options.sizes.map(count).join(", ")}; load average at start ${loadAtStart}; each up's output in ${LOG_DIR}`);
  fs.rmSync(LOG_DIR, { recursive: true, force: true });
  fs.mkdirSync(LOG_DIR, { recursive: true });

  let interrupted: string | undefined;
  for (const signal of ["SIGINT", "SIGTERM"] as const)
    process.on(signal, () => {
      interrupted = signal;
      progress(`${signal}: ending the running up, then stopping the hosts`);
      if (running?.cgroup) {
        try {
          fs.writeFileSync(path.join(running.cgroup, "cgroup.kill"), "1");
        } catch {
          running.child.kill("SIGTERM");
        }
      } else running?.child.kill("SIGTERM");
    });

  const results: SizeResult[] = [];
  let failure: Error | undefined;
  try {
    const tls = makeCertificate();
    for (const size of options.sizes) {
      if (interrupted) throw new Error(`interrupted (${interrupted})`);
      results.push(await measureSize(size, tls, options));
    }
    if (interrupted) throw new Error(`interrupted (${interrupted})`);
  } catch (error) {
    failure = error as Error;
  } finally {
    try {
      stopHosts();
    } catch (error) {
      failure ??= new Error(`could not stop the sandbox hosts: ${(error as Error).message}`);
    }
    removeCgroupParent();
  }
  if (results.length > 0) {
    if (failure) console.log(`\n  (figures of the sizes measured before the failure)`);
    report(results, options, loadAtStart);
  }
  console.log(`  bench took ${((Date.now() - started) / 60000).toFixed(1)} min`);
  if (failure) throw failure;
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    process.stderr.write(`bench/state-size: FAILED: ${error.message}\n`);
    process.exit(1);
  },
);
