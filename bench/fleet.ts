// Benchmark: qmail-fleet beside Ansible on a fleet of sandbox mailhubs.
//
// For each fleet size (1, 8, 20 and 50 hosts by default, on 127.0.2.1 on),
// each host with an MX service on :25 and a submission service on :587 (auth
// cdb, STARTTLS) and a validrcptto list of 10,000 addresses, both tools run
// the same sequence on freshly started, empty hosts:
//   - cold: the first run, everything installed and the services started;
//   - no-change: the same again;
//   - one-address: one address appended to the list; besides the run's time,
//     the time until every host's validrcptto.cdb holds it, read on the hosts;
//   - preview --refresh: what differs on the hosts, nothing changed.
// qmail-fleet runs `pulumi up` / `pulumi preview --refresh` (sandbox/pulumi);
// Ansible runs bench/ansible/mailhubs.yml on `qmail-fleet render` output, so
// the bytes, owners, modes and restarts are the same (its times include the
// render, the step that builds its cdbs; the render alone is shown too), and
// --check for the preview. The two tools alternate which goes first from one
// repetition to the next, so a busy machine weighs on both alike.
//
// Printed per size and run kind: median and range of the wall times, the
// ratio qmail-fleet / Ansible, SSH logins per host (sshd's log), peak memory
// (sum of RSS of the whole process tree) and CPU time; then each goal of
// issue 15 beside its figure:
//   - cold up at most 0.5 x Ansible's cold run;
//   - no-change up at most 0.15 x Ansible's, with no SSH login;
//   - one new address live on 8 hosts within 5 s;
//   - preview --refresh on 20 hosts at most 2 x the 1-host time;
//   - peak memory of the `pulumi up` process tree under 1 GiB at 50 hosts.
// Goals missed are reported, not errors: exit 0 when the benchmark ran, 1 when
// something failed. The hosts are stopped at the end, also on failure.
//
// Run: npm run bench:fleet   (builds dist/ first; needs root, the engine from
//      sandbox/build-engine, ansible-core from sandbox/install-bench-deps)
// Environment:
//   FLEETBENCH_HOSTS=1,8        the fleet sizes (at most 60 hosts), for a quick run
//   FLEETBENCH_REPEAT=N         repetitions of each sequence (default 3)
//   FLEETBENCH_ADDRESSES=N      validrcptto addresses (default 10000)
//   FLEETBENCH_TOOLS=qmail-fleet  one tool only (qmail-fleet or ansible)
//   FLEETBENCH_PULUMI_ARGS="--parallel 64"  extra arguments to every pulumi up and preview
//   FLEETBENCH_FIRST_ADDRESS=127.0.2.51  the first host's address (default 127.0.2.1), for a second bench beside the first
//   FLEETBENCH_CPU_PROF=DIR     V8 CPU profiles of the program and the provider of every qmail-fleet run
//   FLEETBENCH_KEEP_HOSTS=1     leave the last fleet running with its stack, to profile runs on it by hand
//                               (sandbox/pulumi --cwd .state/bench/fleet/project ... --stack bench;
//                               stop with sandbox/mailhubs stop --dir .sandbox/bench-fleet)
// PULUMI_* variables set in the environment reach the engine (sandbox/engine-env keeps them).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { addedAddress, addressList } from "./support/addresses";
import { BenchStack, resourceCounts, writePlainConfig } from "./support/bench-stack";
import { CPU_PROF_DIR_VARIABLE, cpuProfilePreload } from "./support/cpu-profile";
import { count, cpu, loadavg, median, mib, progress, secs, verdict } from "./support/figures";
import { endRunning, removeCgroupParent, run, tail, type RunResult } from "./support/measured-run";
import { makeCertificate, startHosts, stopHosts, type SandboxHost, type TlsPair } from "./support/sandbox-hosts";

const ROOT = path.resolve(__dirname, "..");
const CLI = path.join(ROOT, "bin", "qmail-fleet");
const DEFAULT_FIRST_ADDRESS = "127.0.2.1";
const FIRST_ADDRESS = process.env.FLEETBENCH_FIRST_ADDRESS ?? DEFAULT_FIRST_ADDRESS;
/** A second bench beside the first (profiling, say) on other addresses keeps its own hosts and files. */
const INSTANCE = FIRST_ADDRESS === DEFAULT_FIRST_ADDRESS ? "" : `-${FIRST_ADDRESS}`;
const SANDBOX_DIR = path.join(ROOT, ".sandbox", `bench-fleet${INSTANCE}`);
const WORK_DIR = path.join(ROOT, ".state", "bench", `fleet${INSTANCE}`);
const PROJECT_DIR = path.join(WORK_DIR, "project");
/** Every run's output, kept after the bench: <hosts>-<tool>-<kind>-<repetition>.log. */
const LOG_DIR = path.join(WORK_DIR, "logs");
const ANSIBLE_DIR = path.join(ROOT, "bench", "ansible");
const ANSIBLE_WORK = path.join(WORK_DIR, "ansible");
/** Short: ssh's control socket path must stay under 108 bytes. */
const CONTROL_DIR = path.join(os.tmpdir(), `fleetbench-ssh${INSTANCE}`);

const MAX_HOSTS = 60;
const VALIDRCPTTO = "/var/qmail/control/validrcptto.cdb";
const POLL_MS = 50;

const GOALS = {
  coldRatio: 0.5,
  noChangeRatio: 0.15,
  liveSeconds: 5,
  liveHosts: 8,
  previewFactor: 2,
  previewHosts: 20,
  memoryBytes: 1024 ** 3,
  memoryHosts: 50,
};

type Tool = "qmail-fleet" | "ansible";
const TOOLS: Tool[] = ["qmail-fleet", "ansible"];
type Kind = "cold" | "no-change" | "one-address" | "preview-refresh";
const KINDS: Kind[] = ["cold", "no-change", "one-address", "preview-refresh"];
const KIND_LABEL: Record<Kind, string> = {
  cold: "cold up",
  "no-change": "no-change up",
  "one-address": "one-address up",
  "preview-refresh": "preview --refresh",
};

// --- options -------------------------------------------------------------------------

interface Options {
  sizes: number[];
  repeat: number;
  addresses: number;
  tools: Tool[];
  pulumiArgs: string[];
  cpuProfDir?: string;
}

function wholeNumbers(name: string, text: string): number[] {
  const values = text.split(",").map((s) => Number(s.trim().replace(/_/g, "")));
  if (values.length === 0 || values.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`${name} wants positive whole numbers separated by commas, e.g. 1,8`);
  return values;
}

function readOptions(env: NodeJS.ProcessEnv): Options {
  const sizes = [...new Set(wholeNumbers("FLEETBENCH_HOSTS", env.FLEETBENCH_HOSTS ?? "1,8,20,50"))].sort((a, b) => a - b);
  if (sizes.some((n) => n > MAX_HOSTS)) throw new Error(`FLEETBENCH_HOSTS: at most ${MAX_HOSTS} hosts (the sandbox range 127.0.2.1-60)`);
  if (!/^127\.\d+\.\d+\.\d+$/.test(FIRST_ADDRESS)) throw new Error(`FLEETBENCH_FIRST_ADDRESS: a loopback address such as ${DEFAULT_FIRST_ADDRESS}`);
  const [repeat] = wholeNumbers("FLEETBENCH_REPEAT", env.FLEETBENCH_REPEAT ?? "3");
  const [addresses] = wholeNumbers("FLEETBENCH_ADDRESSES", env.FLEETBENCH_ADDRESSES ?? "10000");
  const tools = (env.FLEETBENCH_TOOLS ?? TOOLS.join(",")).split(",").map((t) => t.trim()) as Tool[];
  if (tools.length === 0 || tools.some((t) => !TOOLS.includes(t))) throw new Error(`FLEETBENCH_TOOLS: one or both of ${TOOLS.join(", ")}`);
  const pulumiArgs = (env.FLEETBENCH_PULUMI_ARGS ?? "").split(/\s+/).filter((a) => a !== "");
  return {
    sizes,
    repeat,
    addresses,
    tools,
    pulumiArgs,
    cpuProfDir: env.FLEETBENCH_CPU_PROF ? path.resolve(env.FLEETBENCH_CPU_PROF) : undefined,
  };
}

// --- on the hosts ----------------------------------------------------------------------

/** SSH logins so far, per host: sshd (LogLevel VERBOSE) logs one line per accepted login. */
function loginCounts(hosts: SandboxHost[]): number[] {
  return hosts.map((host) => {
    try {
      return fs.readFileSync(path.join(host.root, "sshd.log"), "utf8").split("\n").filter((l) => l.includes("Accepted publickey for ")).length;
    } catch {
      return 0;
    }
  });
}

/**
 * Watches every host's validrcptto.cdb, as the host sees it, for an address:
 * a cdb holds each key's bytes as they are, so a file that holds the
 * address's bytes has it. `liveAfter` is the time from `start` until the last
 * host had it, or undefined while one has not.
 */
function watchForAddress(hosts: SandboxHost[], address: string) {
  const needle = Buffer.from(address);
  const started = process.hrtime.bigint();
  const pending = new Map(hosts.map((h) => [h.name, { file: path.join(h.root, "root", VALIDRCPTTO), seen: "" }]));
  let liveAfter: number | undefined;
  const check = () => {
    for (const [name, watched] of pending) {
      let stamp: string;
      try {
        const stat = fs.statSync(watched.file);
        stamp = `${stat.ino}:${stat.size}:${stat.mtimeMs}`;
      } catch {
        continue;
      }
      if (stamp === watched.seen) continue;
      watched.seen = stamp;
      try {
        if (fs.readFileSync(watched.file).includes(needle)) pending.delete(name);
      } catch {
        // replaced between stat and read: the next look reads the new one
      }
    }
    if (pending.size === 0 && liveAfter === undefined) liveAfter = Number(process.hrtime.bigint() - started) / 1e9;
  };
  const timer = setInterval(check, POLL_MS);
  return {
    /** Stops watching; the seconds until every host had it, or undefined (with the hosts still without it). */
    stop(): { liveAfter?: number; missing: string[] } {
      clearInterval(timer);
      check();
      return { liveAfter, missing: [...pending.keys()] };
    },
  };
}

// --- the two tools ---------------------------------------------------------------------

interface Measurement {
  tool: Tool;
  hosts: number;
  kind: Kind;
  repetition: number;
  wallSeconds: number;
  /** one-address: from the start of the run until every host's cdb had the address. */
  liveSeconds?: number;
  /** Ansible: the part of wallSeconds `qmail-fleet render` took. */
  renderSeconds?: number;
  cpuSeconds?: number;
  peakBytes: number;
  /** SSH logins during the run, per host. */
  logins: number[];
  /** CPU time by kind of process (the engine, the language host, the program, the provider, ssh...). */
  cpuByProcess?: Map<string, number>;
  /** Something that makes this figure less than clean (a host failed its health check). */
  note?: string;
}

interface Run {
  hosts: SandboxHost[];
  repetition: number;
  options: Options;
}

function logRun(name: string, ...results: RunResult[]): string {
  const file = path.join(LOG_DIR, `${name}.log`);
  fs.writeFileSync(file, results.map((r) => `${r.stdout}\n--- stderr ---\n${r.stderr}\n`).join("\n=====\n"));
  return file;
}

function failed(what: string, log: string, result: RunResult): Error {
  return new Error(`${what} failed (exit ${result.code}); output in ${log}:\n${tail(result.stdout)}\n${tail(result.stderr)}`);
}

class QmailFleetRuns {
  private readonly stack = new BenchStack(PROJECT_DIR, SANDBOX_DIR);
  resourcesPerHost?: number;
  stateBytes?: number;

  constructor(
    private readonly tls: TlsPair,
    private readonly onRunning: (what: string) => void,
  ) {}

  async prepare(r: Run, addresses: string): Promise<void> {
    await this.stack.create(r.hosts, this.tls, addresses);
  }

  appendAddress(address: string): void {
    fs.appendFileSync(this.stack.addressFile, `${address}\n`);
  }

  async run(r: Run, kind: Kind): Promise<Measurement> {
    const env: Record<string, string> = {};
    const name = `${r.hosts.length}-qmail-fleet-${kind}-${r.repetition + 1}`;
    if (r.options.cpuProfDir) {
      const dir = path.join(r.options.cpuProfDir, name);
      fs.mkdirSync(dir, { recursive: true });
      env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ""} --require ${cpuProfilePreload(r.options.cpuProfDir)}`.trim();
      env[CPU_PROF_DIR_VARIABLE] = dir;
    }
    const args =
      kind === "preview-refresh"
        ? ["preview", "--refresh", "--expect-no-changes", "--non-interactive", ...r.options.pulumiArgs]
        : ["up", "--yes", "--skip-preview", "--non-interactive", ...(kind === "no-change" ? ["--expect-no-changes"] : []), ...r.options.pulumiArgs];
    this.onRunning(`qmail-fleet ${KIND_LABEL[kind]}`);
    const before = loginCounts(r.hosts);
    const result = await this.stack.pulumi(args, { measure: true, env });
    const after = loginCounts(r.hosts);
    const log = logRun(name, result);
    if (result.code !== 0) throw failed(`qmail-fleet's ${KIND_LABEL[kind]} on ${r.hosts.length} hosts`, log, result);
    const counts = resourceCounts(result.stdout);
    const n = r.hosts.length;
    if (kind === "cold" && (counts.created ?? 0) < n) throw new Error(`the cold up created ${counts.created ?? 0} resources, fewer than the ${n} hosts; output in ${log}`);
    if (kind === "one-address" && (counts.updated !== n || counts.created || counts.deleted || counts.replaced))
      throw new Error(`the one-address up should update the ${n} hosts and nothing else; it did ${JSON.stringify(counts)}; output in ${log}`);
    if (kind === "cold") await this.countResources(n);
    // A health check that timed out (a banner not read within 15 s on a saturated machine) leaves that host
    // recorded as before the run: the next runs would redo it. It is noted, and the stack brought level untimed.
    const unhealthy = new Set([...result.stdout.matchAll(/warning: host (\S+) .*failed its health check/g)].map((m) => m[1]));
    let note: string | undefined;
    if (unhealthy.size > 0 && kind !== "preview-refresh") {
      note = `${[...unhealthy].join(", ")} failed a health check (see ${log})`;
      progress(`  note: ${note}; bringing the stack level with an untimed up`);
      const level = await this.stack.pulumi(["up", "--yes", "--skip-preview", "--non-interactive", ...r.options.pulumiArgs]);
      if (level.code !== 0) throw failed(`the untimed up after ${KIND_LABEL[kind]}`, logRun(`${name}-level`, level), level);
    }
    return {
      note,
      tool: "qmail-fleet",
      hosts: n,
      kind,
      repetition: r.repetition,
      wallSeconds: result.wallSeconds,
      cpuSeconds: result.cpuSeconds,
      cpuByProcess: result.memory!.cpuByLabel,
      peakBytes: result.memory!.bytes,
      logins: after.map((a, i) => a - before[i]),
    };
  }

  /** Resources in state per host, and the state's size, after the cold up. */
  private async countResources(hosts: number): Promise<void> {
    const exported = (await this.stack.pulumiOk(["stack", "export"])).stdout;
    const resources = (JSON.parse(exported).deployment?.resources ?? []) as unknown[];
    this.resourcesPerHost = resources.length / hosts;
    this.stateBytes = Buffer.byteLength(exported);
  }
}

class AnsibleRuns {
  private readonly paths = new BenchStack(ANSIBLE_WORK, SANDBOX_DIR);
  private readonly config = path.join(ANSIBLE_WORK, "fleet.yaml");
  private readonly rendered = path.join(ANSIBLE_WORK, "rendered");
  private readonly inventory = path.join(ANSIBLE_WORK, "inventory.yml");

  constructor(
    private readonly tls: TlsPair,
    private readonly onRunning: (what: string) => void,
  ) {}

  async prepare(r: Run, addresses: string): Promise<void> {
    fs.rmSync(ANSIBLE_WORK, { recursive: true, force: true });
    fs.mkdirSync(ANSIBLE_WORK, { recursive: true });
    fs.writeFileSync(this.paths.addressFile, addresses);
    writePlainConfig(this.paths, r.hosts, this.tls, this.config);
    const inventory = {
      mailhubs: {
        hosts: Object.fromEntries(r.hosts.map((h) => [h.name, { ansible_host: h.address, ansible_port: h.sshPort }])),
        vars: {
          ansible_user: "root",
          ansible_ssh_private_key_file: path.join(SANDBOX_DIR, "client_key"),
          ansible_ssh_extra_args: `-o UserKnownHostsFile=${path.join(SANDBOX_DIR, "known_hosts")}`,
          render_dir: this.rendered,
        },
      },
    };
    fs.writeFileSync(this.inventory, JSON.stringify(inventory, null, 2));
  }

  appendAddress(address: string): void {
    fs.appendFileSync(this.paths.addressFile, `${address}\n`);
  }

  async run(r: Run, kind: Kind): Promise<Measurement> {
    const name = `${r.hosts.length}-ansible-${kind}-${r.repetition + 1}`;
    this.onRunning(`ansible ${KIND_LABEL[kind]}`);
    const before = loginCounts(r.hosts);
    const started = process.hrtime.bigint();
    const render = await run([process.execPath, CLI, "render", this.config, "--include-secrets", "--out", this.rendered], { measure: true });
    if (render.code !== 0) throw failed(`qmail-fleet render for Ansible on ${r.hosts.length} hosts`, logRun(name, render), render);
    const env = {
      ANSIBLE_CONFIG: path.join(ANSIBLE_DIR, "ansible.cfg"),
      ANSIBLE_SSH_CONTROL_PATH_DIR: CONTROL_DIR,
      ANSIBLE_LOCAL_TEMP: path.join(ANSIBLE_WORK, "tmp"),
      ANSIBLE_NOCOLOR: "1",
    };
    const check = kind === "preview-refresh" ? ["--check"] : [];
    const play = await run(["ansible-playbook", "-i", this.inventory, ...check, path.join(ANSIBLE_DIR, "mailhubs.yml")], {
      measure: true,
      env,
      // Each run logs in afresh, as one started from cron or by hand after a while would.
      afterExit: closeControlMasters,
    });
    const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    const after = loginCounts(r.hosts);
    const log = logRun(name, render, play);
    if (play.code !== 0) throw failed(`ansible-playbook (${KIND_LABEL[kind]}) on ${r.hosts.length} hosts`, log, play);
    const changed = [...play.stdout.matchAll(/changed=(\d+)/g)].map((m) => Number(m[1]));
    if (kind === "no-change" || kind === "preview-refresh") {
      if (changed.some((c) => c > 0)) throw new Error(`Ansible's ${KIND_LABEL[kind]} changed something (recap changed=${changed.join(",")}); output in ${log}`);
    } else if (changed.length !== r.hosts.length || changed.some((c) => c === 0))
      throw new Error(`Ansible's ${KIND_LABEL[kind]} should change every host (recap changed=${changed.join(",")}); output in ${log}`);
    const cpuSeconds = render.cpuSeconds !== undefined && play.cpuSeconds !== undefined ? render.cpuSeconds + play.cpuSeconds : undefined;
    return {
      tool: "ansible",
      hosts: r.hosts.length,
      kind,
      repetition: r.repetition,
      wallSeconds,
      renderSeconds: render.wallSeconds,
      cpuSeconds,
      peakBytes: Math.max(render.memory!.bytes, play.memory!.bytes),
      logins: after.map((a, i) => a - before[i]),
    };
  }
}

/** Ends the SSH control masters Ansible left (ControlPersist), the way ssh itself is told to. */
async function closeControlMasters(): Promise<void> {
  let sockets: string[] = [];
  try {
    sockets = fs.readdirSync(CONTROL_DIR).map((s) => path.join(CONTROL_DIR, s));
  } catch {
    return;
  }
  await Promise.all(sockets.map((socket) => run(["ssh", "-o", `ControlPath=${socket}`, "-O", "exit", "fleetbench"])));
}

/** One tool's sequence on fresh hosts: cold, no-change, one-address (watched on the hosts), preview --refresh. */
async function sequence(tool: QmailFleetRuns | AnsibleRuns, toolName: Tool, size: number, repetition: number, options: Options): Promise<Measurement[]> {
  progress(`${size} hosts, ${toolName}, repetition ${repetition + 1}: fresh hosts`);
  const hosts = startHosts(SANDBOX_DIR, size, FIRST_ADDRESS);
  const r: Run = { hosts, repetition, options };
  await tool.prepare(r, addressList(options.addresses));
  const measurements: Measurement[] = [];
  const note = (m: Measurement) => {
    measurements.push(m);
    const logins = m.logins.length > 0 ? `${Math.min(...m.logins)}-${Math.max(...m.logins)}` : "n/a";
    progress(`${size} hosts, ${toolName} ${KIND_LABEL[m.kind]}: ${secs(m.wallSeconds)}${m.liveSeconds !== undefined ? ` (live after ${secs(m.liveSeconds)})` : ""}` +
      `${m.renderSeconds !== undefined ? ` (render ${secs(m.renderSeconds)})` : ""}, cpu ${cpu(m.cpuSeconds)}${cpuBreakdown(m)}, peak ${mib(m.peakBytes)}, logins per host ${logins}`);
  };
  note(await tool.run(r, "cold"));
  note(await tool.run(r, "no-change"));
  const address = addedAddress(repetition + 1).trim();
  tool.appendAddress(address);
  const watch = watchForAddress(hosts, address);
  const one = await tool.run(r, "one-address");
  const seen = watch.stop();
  if (seen.liveAfter === undefined) throw new Error(`after ${toolName}'s one-address run, ${seen.missing.join(", ")} still lack ${address} in ${VALIDRCPTTO}`);
  note({ ...one, liveSeconds: seen.liveAfter });
  note(await tool.run(r, "preview-refresh"));
  return measurements;
}

// --- report ----------------------------------------------------------------------------

/** " (pulumi 3.1 s, node program 5.2 s, ...)": where a run's CPU went, by kind of process, largest first. */
function cpuBreakdown(m: Measurement): string {
  if (!m.cpuByProcess || m.cpuByProcess.size === 0) return "";
  const parts = [...m.cpuByProcess].filter(([, s]) => s >= 0.05).sort((a, b) => b[1] - a[1]);
  return ` (${parts.map(([label, s]) => `${label} ${s.toFixed(1)} s`).join(", ")})`;
}

const spread = (values: number[]) => (values.length > 1 ? ` (${Math.min(...values).toFixed(2)}-${Math.max(...values).toFixed(2)})` : "");
const figure = (values: number[]) => (values.length === 0 ? "n/a" : `${secs(median(values))}${spread(values)}`);

function report(all: Measurement[], options: Options, loadAtStart: string, extra: { resourcesPerHost?: number; stateBytes?: number }): void {
  const of = (tool: Tool, size: number, kind: Kind) => all.filter((m) => m.tool === tool && m.hosts === size && m.kind === kind);
  const wall = (tool: Tool, size: number, kind: Kind) => of(tool, size, kind).map((m) => m.wallSeconds);
  const live = (tool: Tool, size: number) => of(tool, size, "one-address").map((m) => m.liveSeconds!);
  const maxLogins = (ms: Measurement[]) => (ms.length === 0 ? undefined : Math.max(...ms.flatMap((m) => m.logins)));
  const minLogins = (ms: Measurement[]) => (ms.length === 0 ? undefined : Math.min(...ms.flatMap((m) => m.logins)));
  const loginsText = (ms: Measurement[]) => (ms.length === 0 ? "n/a" : minLogins(ms) === maxLogins(ms) ? `${maxLogins(ms)}` : `${minLogins(ms)}-${maxLogins(ms)}`);
  const sizes = [...new Set(all.map((m) => m.hosts))].sort((a, b) => a - b);

  console.log(`\nfleet: qmail-fleet beside Ansible (ansible-core, pipelining, forks 50, ControlPersist) on sandbox mailhubs from ${FIRST_ADDRESS}, ` +
    `MX :25 + submission :587 each, ${count(options.addresses)} addresses; ${os.cpus().length} CPUs, ${mib(os.totalmem())} RAM; ` +
    `each sequence ${options.repeat} time(s), the tools alternating; figures: median (min-max) of wall times`);
  console.log(`  load average (1, 5, 15 min) at start: ${loadAtStart}; at end: ${loadavg()}`);
  if (options.pulumiArgs.length > 0) console.log(`  extra pulumi arguments: ${options.pulumiArgs.join(" ")}`);
  const pulumiEnv = Object.entries(process.env).filter(([k]) => /^PULUMI_/.test(k) && !/PASSPHRASE/.test(k));
  if (pulumiEnv.length > 0) console.log(`  PULUMI_* set for this run: ${pulumiEnv.map(([k, v]) => `${k}=${v}`).join(" ")}`);

  const header = ["hosts", "run", "qmail-fleet", "ansible", "ratio", "logins/host q|a", "cpu q|a", "peak memory q|a"];
  const rows: string[][] = [];
  for (const size of sizes) {
    for (const kind of KINDS) {
      const q = of("qmail-fleet", size, kind);
      const a = of("ansible", size, kind);
      const qw = wall("qmail-fleet", size, kind);
      const aw = wall("ansible", size, kind);
      const ratio = qw.length && aw.length ? (median(qw) / median(aw)).toFixed(2) : "n/a";
      const cpuOf = (ms: Measurement[]) => (ms.length && ms.every((m) => m.cpuSeconds !== undefined) ? cpu(median(ms.map((m) => m.cpuSeconds!))) : "n/a");
      const peakOf = (ms: Measurement[]) => (ms.length ? mib(Math.max(...ms.map((m) => m.peakBytes))) : "n/a");
      rows.push([String(size), KIND_LABEL[kind], figure(qw), figure(aw), ratio, `${loginsText(q)} | ${loginsText(a)}`, `${cpuOf(q)} | ${cpuOf(a)}`, `${peakOf(q)} | ${peakOf(a)}`]);
      if (kind === "one-address")
        rows.push(["", "  new address live", figure(live("qmail-fleet", size)), figure(live("ansible", size)),
          live("qmail-fleet", size).length && live("ansible", size).length ? (median(live("qmail-fleet", size)) / median(live("ansible", size))).toFixed(2) : "n/a", "", "", ""]);
    }
    const renders = all.filter((m) => m.tool === "ansible" && m.hosts === size).map((m) => m.renderSeconds!);
    if (renders.length) rows.push(["", "  (ansible: render)", "", figure(renders), "", "", "", ""]);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => "  " + cells.map((c, i) => (i === 1 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  console.log(line(header));
  for (const row of rows) console.log(line(row));
  console.log("  ansible's times include `qmail-fleet render` (its cdb build); new address live: from the start of the run until every host's");
  console.log("  validrcptto.cdb holds it; logins: `Accepted publickey` lines in each host's sshd log during the run (min-max over hosts and runs);");
  console.log("  cpu: user + system of the run's whole process tree (median); peak memory: largest sum of RSS of that tree (max over runs).");
  console.log("  where qmail-fleet's CPU went, by process (median over repetitions):");
  for (const size of sizes)
    for (const kind of KINDS) {
      const runs = of("qmail-fleet", size, kind).filter((m) => m.cpuByProcess);
      if (runs.length === 0) continue;
      const labels = new Set(runs.flatMap((m) => [...m.cpuByProcess!.keys()]));
      const medians = [...labels].map((l) => [l, median(runs.map((m) => m.cpuByProcess!.get(l) ?? 0))] as const).filter(([, s]) => s >= 0.05).sort((a, b) => b[1] - a[1]);
      console.log(`    ${String(size).padStart(3)} hosts, ${KIND_LABEL[kind].padEnd(17)} ${medians.map(([l, s]) => `${l} ${s.toFixed(1)} s`).join(", ")}`);
    }
  for (const m of all.filter((m) => m.note)) console.log(`  note: ${m.hosts} hosts, ${m.tool} ${KIND_LABEL[m.kind]} (repetition ${m.repetition + 1}): ${m.note}`);
  if (extra.resourcesPerHost !== undefined)
    console.log(`  qmail-fleet state after a cold up (last measured): ${extra.resourcesPerHost.toFixed(2)} resources per host, ${count(extra.stateBytes ?? 0)} bytes exported`);

  console.log("\n  goals (issue 15):");
  const goalLine = (text: string, ok: boolean | undefined) => console.log(`    ${text} ${ok === undefined ? "not measured" : verdict(ok)}`);
  for (const size of sizes) {
    const qc = wall("qmail-fleet", size, "cold");
    const ac = wall("ansible", size, "cold");
    if (qc.length && ac.length) {
      const ratio = median(qc) / median(ac);
      goalLine(`cold up, ${size} hosts: ${secs(median(qc))} vs Ansible ${secs(median(ac))} = ${ratio.toFixed(2)}x (goal <= ${GOALS.coldRatio}x)`, ratio <= GOALS.coldRatio);
    }
  }
  for (const size of sizes) {
    const qn = wall("qmail-fleet", size, "no-change");
    const an = wall("ansible", size, "no-change");
    const logins = maxLogins(of("qmail-fleet", size, "no-change"));
    if (qn.length && an.length) {
      const ratio = median(qn) / median(an);
      goalLine(`no-change up, ${size} hosts: ${secs(median(qn))} vs Ansible ${secs(median(an))} = ${ratio.toFixed(2)}x (goal <= ${GOALS.noChangeRatio}x), ` +
        `at most ${logins} SSH login(s) per host (goal 0)`, ratio <= GOALS.noChangeRatio && logins === 0);
    }
  }
  const liveAtGoal = live("qmail-fleet", GOALS.liveHosts);
  goalLine(`one new address live on ${GOALS.liveHosts} hosts: ${liveAtGoal.length ? figure(liveAtGoal) : "-"} (goal <= ${GOALS.liveSeconds} s)`,
    liveAtGoal.length ? median(liveAtGoal) <= GOALS.liveSeconds : undefined);
  const preview1 = wall("qmail-fleet", 1, "preview-refresh");
  for (const size of sizes.filter((s) => s > 1)) {
    const p = wall("qmail-fleet", size, "preview-refresh");
    if (!preview1.length || !p.length) continue;
    const factor = median(p) / median(preview1);
    goalLine(`preview --refresh, ${size} hosts: ${secs(median(p))} = ${factor.toFixed(2)}x the 1-host ${secs(median(preview1))} ` +
      `(goal <= ${GOALS.previewFactor}x at ${GOALS.previewHosts} hosts${size === GOALS.previewHosts ? "" : "; shown for the trend"})`, size === GOALS.previewHosts || factor <= GOALS.previewFactor ? factor <= GOALS.previewFactor : false);
  }
  if (!preview1.length) goalLine(`preview --refresh at ${GOALS.previewHosts} hosts vs 1 host (needs 1 in FLEETBENCH_HOSTS):`, undefined);
  for (const size of sizes) {
    const ups = all.filter((m) => m.tool === "qmail-fleet" && m.hosts === size && m.kind !== "preview-refresh");
    if (!ups.length) continue;
    const peak = Math.max(...ups.map((m) => m.peakBytes));
    goalLine(`peak memory of the pulumi up process tree, ${size} hosts: ${mib(peak)} (goal < 1024 MiB at ${GOALS.memoryHosts} hosts` +
      `${size === GOALS.memoryHosts ? "" : "; shown for the trend"})`, peak < GOALS.memoryBytes);
  }
  const upLogins = maxLogins(all.filter((m) => m.tool === "qmail-fleet" && m.kind !== "preview-refresh"));
  goalLine(`SSH logins per host per qmail-fleet up: at most ${upLogins ?? "-"} (acceptance: at most 1)`, upLogins === undefined ? undefined : upLogins <= 1);
}

// --- main ------------------------------------------------------------------------------

async function main(): Promise<number> {
  const options = readOptions(process.env);
  if (!fs.existsSync(path.join(ROOT, "dist", "provider", "main.js")) || !fs.existsSync(path.join(ROOT, "dist", "cli", "main.js")))
    throw new Error("dist/ is missing: run `npm run build` first");
  if (options.tools.includes("ansible") && !fs.existsSync("/usr/bin/ansible-playbook"))
    throw new Error("ansible-playbook is missing: run sandbox/install-bench-deps (make bench does)");
  const loadAtStart = loadavg();
  const started = Date.now();
  progress(`hosts ${options.sizes.join(", ")}; ${options.repeat} repetition(s); ${options.tools.join(" and ")}; load average ${loadAtStart}; logs in ${LOG_DIR}`);
  fs.rmSync(LOG_DIR, { recursive: true, force: true });
  fs.mkdirSync(LOG_DIR, { recursive: true });
  fs.mkdirSync(CONTROL_DIR, { recursive: true, mode: 0o700 });

  let interrupted: string | undefined;
  for (const signal of ["SIGINT", "SIGTERM"] as const)
    process.on(signal, () => {
      interrupted = signal;
      progress(`${signal}: ending the running command, then stopping the hosts`);
      endRunning();
    });

  const tls = makeCertificate();
  const onRunning = () => {
    if (interrupted) throw new Error(`interrupted (${interrupted})`);
  };
  const qmailFleet = new QmailFleetRuns(tls, onRunning);
  const ansible = new AnsibleRuns(tls, onRunning);
  const all: Measurement[] = [];
  let failure: Error | undefined;
  try {
    for (const size of options.sizes) {
      for (let repetition = 0; repetition < options.repeat; repetition++) {
        const order = repetition % 2 === 0 ? options.tools : [...options.tools].reverse();
        for (const tool of order) all.push(...(await sequence(tool === "ansible" ? ansible : qmailFleet, tool, size, repetition, options)));
      }
    }
  } catch (error) {
    failure = error as Error;
  } finally {
    await closeControlMasters();
    try {
      if (process.env.FLEETBENCH_KEEP_HOSTS === "1") progress(`hosts left running: stop them with sandbox/mailhubs stop --dir ${SANDBOX_DIR}`);
      else stopHosts(SANDBOX_DIR);
    } catch (error) {
      failure ??= new Error(`could not stop the sandbox hosts: ${(error as Error).message}`);
    }
    removeCgroupParent();
  }
  if (all.length > 0) {
    if (failure) console.log("\n  (figures of the runs before the failure)");
    report(all, options, loadAtStart, { resourcesPerHost: qmailFleet.resourcesPerHost, stateBytes: qmailFleet.stateBytes });
  }
  console.log(`  bench took ${((Date.now() - started) / 60000).toFixed(1)} min`);
  if (failure) throw failure;
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    process.stderr.write(`bench/fleet: FAILED: ${error.message}\n`);
    process.exit(1);
  },
);
