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
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { addedAddress, addressList } from "./support/addresses";
import { BenchStack, resourceCounts } from "./support/bench-stack";
import { CPU_PROF_DIR_VARIABLE, cpuProfilePreload } from "./support/cpu-profile";
import { count, cpu, loadavg, median, mib, progress, secs, verdict } from "./support/figures";
import { endRunning, removeCgroupParent, run, tail, type MemoryPeak, type RunResult } from "./support/measured-run";
import { makeCertificate, startHosts as startSandbox, stopHosts as stopSandbox, type TlsPair } from "./support/sandbox-hosts";

const ROOT = path.resolve(__dirname, "..");
const CLI = path.join(ROOT, "bin", "qmail-fleet");
const SANDBOX_DIR = path.join(ROOT, ".sandbox", "bench-state-size");
const PROJECT_DIR = path.join(ROOT, ".state", "bench", "state-size");
/** Each up's output, kept after the run: <size>-<up>.log. */
const LOG_DIR = path.join(ROOT, ".state", "bench", "state-size-logs");

const HOSTS = 8;
const FIRST_ADDRESS = "127.0.0.81";
const STACK = "bench";
const DEFAULT_SIZES = [10, 10_000, 200_000, 1_000_000];
const BASE_SIZE = 10;
const GOAL_SIZE = 1_000_000;
const GIB = 1024 ** 3;
const MEMORY_GOAL = GIB;
const ONE_ADDRESS_FACTOR = 2;
const NO_CHANGE_FACTOR = 1.2;

const project = new BenchStack(PROJECT_DIR, SANDBOX_DIR, STACK);
const pulumiOk = (args: string[]) => project.pulumiOk(args);
const startHosts = () => startSandbox(SANDBOX_DIR, HOSTS, FIRST_ADDRESS);
const stopHosts = () => stopSandbox(SANDBOX_DIR);
const newProject = (hosts: ReturnType<typeof startHosts>, tls: TlsPair, addresses: string) => project.create(hosts, tls, addresses);

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
const peakOf = (ups: UpMeasurement[]) => ups.reduce((best, u) => (u.memory.bytes > best.memory.bytes ? u : best));

/** `Resources:` counts of an up's output, e.g. { created: 19 } or { updated: 8, unchanged: 11 }. */
async function up(size: number, kind: UpKind, run: number, options: Options, extra: string[] = []): Promise<UpMeasurement & { counts: Record<string, number> }> {
  const env: Record<string, string> = {};
  if (options.cpuProfDir) {
    const dir = path.join(options.cpuProfDir, `${size}-${kind}${run > 0 ? `-${run + 1}` : ""}`);
    fs.mkdirSync(dir, { recursive: true });
    env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ""} --require ${cpuProfilePreload(options.cpuProfDir)}`.trim();
    env[CPU_PROF_DIR_VARIABLE] = dir;
  }
  const result = await project.pulumi(["up", "--yes", "--skip-preview", "--non-interactive", ...extra], { measure: true, env });
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
  const addressFile = project.addressFile;
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
      endRunning();
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
