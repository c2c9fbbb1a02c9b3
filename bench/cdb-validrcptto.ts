// Benchmark: validrcptto.cdb for 1,000,000 addresses, built by our CLI from a
// plain list vs tinycdb's `cdb -c` from the same records, in the same run.
// Prints wall time (process start included), CPU time and peak RSS of each,
// for unsorted and for sorted input: the time ratio to cdb -c (goal <= 1.5),
// our peak memory vs the output size (goal <= 2x), the machine's load average
// before and after, and checks that both outputs are byte-identical.
// tinycdb's cdb -c renames its output into place without fsync; ours (like
// cdbmake and tcprules) syncs it first, so that a crash cannot leave a short
// validrcptto.cdb that qmail-smtpd reads. The like-for-like reference, cdb -c
// followed by an fsync of its output (sync FILE), is timed and compared too.
//
// Run: npm run bench:cdb   (builds dist/ first; needs cdb from tinycdb and GNU time)
// Env: BENCH_ADDRESSES (default 1000000), BENCH_RUNS (default 3, median reported).
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { prng } from "../test/prng";

const ADDRESSES = Number(process.env.BENCH_ADDRESSES ?? 1_000_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const ROOT = path.resolve(__dirname, "..");
const CLI = path.join(ROOT, "bin", "qmail-fleet");
const GNU_TIME = "/usr/bin/time";


const FIRST = ["anna", "bernd", "carla", "dieter", "eva", "frank", "gabi", "hans", "ines", "jan", "kim", "lena", "max", "nina", "olaf", "paula"];
const LAST = ["mueller", "schmidt", "schneider", "fischer", "weber", "meyer", "wagner", "becker", "schulz", "hoffmann"];

/** ~30-byte addresses like anna.weber.4711@mail-17.example.net, unique, in generation (unsorted) order. */
function generateAddresses(count: number): string[] {
  const next = prng(20261126);
  const out: string[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const first = FIRST[Math.floor(next() * FIRST.length)];
    const last = LAST[Math.floor(next() * LAST.length)];
    out[i] = `${first}.${last}.${i.toString(36)}@mail-${Math.floor(next() * 400)}.example.net`;
  }
  return out;
}

interface Measurement {
  wallSeconds: number;
  cpuSeconds: number;
  peakRssBytes: number;
}

function measure(command: string, args: string[]): Measurement {
  const started = process.hrtime.bigint();
  const result = spawnSync(GNU_TIME, ["-v", command, ...args], { encoding: "utf8" });
  const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (result.error) throw new Error(`${GNU_TIME} could not run (${result.error.message}); install the Debian package 'time'`);
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} failed (${result.status}):\n${result.stderr}`);
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(result.stderr);
  const user = /User time \(seconds\): ([\d.]+)/.exec(result.stderr);
  const system = /System time \(seconds\): ([\d.]+)/.exec(result.stderr);
  if (!rss || !user || !system) throw new Error(`no peak RSS or CPU time in ${GNU_TIME} output:\n${result.stderr}`);
  return { wallSeconds, cpuSeconds: Number(user[1]) + Number(system[1]), peakRssBytes: Number(rss[1]) * 1024 };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const mib = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MiB`;
const loadAverage = () => os.loadavg().map((l) => l.toFixed(2)).join(" ");

function main(): void {
  if (!fs.existsSync(path.join(ROOT, "dist", "cli", "main.js"))) throw new Error("dist/ is missing: run `npm run build` first");
  const loadBefore = loadAverage();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "qmail-fleet-bench-"));
  try {
    const addresses = generateAddresses(ADDRESSES);
    const shuffledList = path.join(dir, "addresses-unsorted.txt");
    fs.writeFileSync(shuffledList, addresses.join("\n") + "\n");
    // All generated addresses are lower-case ASCII and unique, so plain string
    // order is the byte order our builder writes; cdb -c gets the records in it.
    addresses.sort();
    const sortedList = path.join(dir, "addresses-sorted.txt");
    fs.writeFileSync(sortedList, addresses.join("\n") + "\n");
    const records = path.join(dir, "records.cdbmake");
    fs.writeFileSync(records, addresses.map((a) => `+${a.length},0:${a}->\n`).join("") + "\n");
    addresses.length = 0;

    const theirsOut = path.join(dir, "theirs.cdb");
    const oursOut = path.join(dir, "ours.cdb");
    const theirs: Measurement[] = [];
    const theirsSynced: Measurement[] = [];
    const oursUnsorted: Measurement[] = [];
    const oursSorted: Measurement[] = [];
    const nodeStart: Measurement[] = [];
    for (let run = 0; run < RUNS; run++) {
      nodeStart.push(measure(process.execPath, ["-e", "0"]));
      theirs.push(measure("cdb", ["-c", theirsOut, records]));
      theirsSynced.push(measure("sh", ["-c", 'cdb -c "$1" "$2" && sync "$1"', "sh", theirsOut, records]));
      oursUnsorted.push(measure(CLI, ["cdb", "validrcptto", shuffledList, "-o", oursOut]));
      if (!fs.readFileSync(oursOut).equals(fs.readFileSync(theirsOut))) throw new Error("MISMATCH: our validrcptto.cdb differs from cdb -c output (unsorted input)");
      oursSorted.push(measure(CLI, ["cdb", "validrcptto", sortedList, "-o", oursOut]));
      if (!fs.readFileSync(oursOut).equals(fs.readFileSync(theirsOut))) throw new Error("MISMATCH: our validrcptto.cdb differs from cdb -c output (sorted input)");
    }
    const outputBytes = fs.statSync(theirsOut).size;
    const report = (name: string, m: Measurement[]) => {
      const wall = median(m.map((x) => x.wallSeconds));
      const cpu = median(m.map((x) => x.cpuSeconds));
      const rss = Math.max(...m.map((x) => x.peakRssBytes));
      console.log(`  ${name.padEnd(40)} wall ${wall.toFixed(3)} s (runs: ${m.map((x) => x.wallSeconds.toFixed(2)).join(", ")})  CPU ${cpu.toFixed(2)} s  peak RSS ${mib(rss)}`);
      return { wall, cpu, rss };
    };
    console.log(`validrcptto.cdb, ${ADDRESSES.toLocaleString("en-US")} addresses, ${RUNS} runs each interleaved (median), ${os.cpus().length} CPUs`);
    console.log(`  load average (1, 5, 15 min) before: ${loadBefore}; after: ${loadAverage()}`);
    console.log(`  input list ${mib(fs.statSync(shuffledList).size)}, output ${mib(outputBytes)} (${outputBytes.toLocaleString("en-US")} bytes)`);
    const base = report("cdb -c (records in final order)", theirs);
    const baseSynced = report("cdb -c, then sync of its output", theirsSynced);
    const unsorted = report("qmail-fleet cdb validrcptto, unsorted list", oursUnsorted);
    const sorted = report("qmail-fleet cdb validrcptto, sorted list", oursSorted);
    // Part of every figure of ours: what starting Node costs on this machine, in this environment.
    report("node -e 0 (a Node process doing nothing)", nodeStart);
    if (process.env.NODE_EXTRA_CA_CERTS) console.log(`  (NODE_EXTRA_CA_CERTS is set: every Node process reads ${process.env.NODE_EXTRA_CA_CERTS} as it starts)`);
    console.log(`  byte-identical to cdb -c: yes (checked after every run)`);
    const verdict = (ok: boolean) => (ok ? "ok" : "MISSED");
    for (const [name, m] of [["unsorted list", unsorted], ["sorted list", sorted]] as const) {
      const ratio = m.wall / base.wall;
      const ratioSynced = m.wall / baseSynced.wall;
      console.log(`  ${name}: time ${ratio.toFixed(2)}x cdb -c (goal <= 1.5x) ${verdict(ratio <= 1.5)}   [CPU time ${(m.cpu / base.cpu).toFixed(2)}x]`);
      console.log(`  ${name}: time ${ratioSynced.toFixed(2)}x cdb -c + sync (goal <= 1.5x) ${verdict(ratioSynced <= 1.5)}`);
    }
    for (const [name, m] of [["unsorted list", unsorted], ["sorted list", sorted]] as const) {
      const memory = m.rss / outputBytes;
      console.log(`  ${name}: peak RSS ${mib(m.rss)} = ${memory.toFixed(2)}x the output (goal <= 2x) ${verdict(memory <= 2)}`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main();
