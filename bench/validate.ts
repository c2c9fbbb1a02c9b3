// Benchmark: `qmail-fleet validate` as a user runs it, `node bin/qmail-fleet
// validate <file>`, process start included.
//
//   1. the largest example config (goal: median under 0.3 s), beside node's
//      own start-up (`node -e 0`) measured the same way, so a loaded machine
//      shows in both;
//   2. crafted files that must be refused (goal: each in under 2 s and
//      200 MB peak RSS, exit 1 with a message and no stack trace): an alias
//      bomb, deep nesting, a file just under the size limit full of tiny
//      values, one over it, a long line, and a JSON file nested deeply.
//
// Prints wall time (median and every run), CPU time, peak RSS and the load
// average before and after. Exit 0; BENCH_STRICT=1 makes a missed goal exit 1.
//
// Run: npm run bench:validate   (builds dist/ first; needs GNU time)
// Env: BENCH_RUNS (default 15).
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "..");
const CLI = path.join(ROOT, "bin", "qmail-fleet");
const GNU_TIME = "/usr/bin/time";
const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const VALIDATE_GOAL_SECONDS = 0.3;
const CRAFTED_GOAL_SECONDS = 2;
const CRAFTED_GOAL_BYTES = 200 * 1024 * 1024;
const MAX_CONFIG_BYTES = 8 * 1024 * 1024;
const BUNDLE = path.join(ROOT, "dist", "bundle", "qmail-fleet.js");

interface Run {
  wall: number;
  cpu: number;
  rss: number;
  status: number | null;
  stderr: string;
  stdout: string;
}

function run(command: string, args: string[]): Run {
  const started = process.hrtime.bigint();
  const result = spawnSync(GNU_TIME, ["-f", "%U %S %M", command, ...args], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  const wall = Number(process.hrtime.bigint() - started) / 1e9;
  if (result.error) throw new Error(`${GNU_TIME} could not run (${result.error.message}); install the Debian package 'time'`);
  const lines = result.stderr.trimEnd().split("\n");
  const [user, sys, rssKb] = (lines.pop() ?? "").split(" ").map(Number);
  return { wall, cpu: user + sys, rss: rssKb * 1024, status: result.status, stderr: lines.join("\n"), stdout: result.stdout };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const mib = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MiB`;
const load = () => os.loadavg().map((l) => l.toFixed(2)).join(" ");

/** Example directories that hold no fleet config: CI pipelines, a library program's project files. */
const NOT_CONFIGS = new Set(["ci", "program"]);

/** The largest config among the examples: what a user's real fleet file looks like at most. */
function largestExample(): string {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (!NOT_CONFIGS.has(entry.name)) walk(full);
      }
      else if (/\.(ya?ml|json)$/.test(entry.name)) files.push(full);
    }
  };
  walk(path.join(ROOT, "examples"));
  return files.sort((a, b) => fs.statSync(b).size - fs.statSync(a).size)[0];
}

const HOST = 'hosts:\n- name: mx1\n  address: 192.0.2.10\n  ssh: {hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKREcv9w/RBTq8tGL0tCpFgM07bu1UoHQJLyD4sT+RgM"}\n  services: [{name: smtpd, ip: "0"}]\n';

/** Files crafted to exhaust a reader; each must be refused quickly and in little memory. */
function craftedFiles(dir: string): Array<[string, string]> {
  const write = (name: string, text: string | Buffer) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, text);
    return file;
  };
  let bomb = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
  for (let i = 0; i < 9; i++) {
    const [name, prev] = [String.fromCharCode(98 + i), String.fromCharCode(97 + i)];
    bomb += `${name}: &${name} [${Array(10).fill(`*${prev}`).join(", ")}]\n`;
  }
  // Just under the size limit: a flow list of single-character values, about 4 million of them.
  const head = Buffer.from(`${HOST}validRcptTo: {addresses: [`);
  const tail = Buffer.from("1]}\n");
  const nearLimit = Buffer.concat([head, Buffer.alloc(MAX_CONFIG_BYTES - 1024 - head.length - tail.length, "1,"), tail]);
  return [
    ["alias bomb (10^10 values once expanded)", write("bomb.yaml", bomb + HOST)],
    ["nesting 100,000 levels deep", write("deep.yaml", `x: ${"[".repeat(100_000)}${"]".repeat(100_000)}\n${HOST}`)],
    ["JSON nested 1,000,000 levels deep", write("deep.json", `{"hosts": ${"[".repeat(1_000_000)}${"]".repeat(1_000_000)}}`)],
    [`${mib(nearLimit.length)} of tiny values (just under the limit)`, write("near-limit.yaml", nearLimit)],
    [`one line of ${mib(MAX_CONFIG_BYTES - 1024)}`, write("long-line.yaml", `${HOST}x: "${"y".repeat(MAX_CONFIG_BYTES - 1024)}"\n`)],
    [`${mib(MAX_CONFIG_BYTES + 1)} (over the limit)`, write("too-big.yaml", Buffer.alloc(MAX_CONFIG_BYTES + 1, "#"))],
  ];
}

/** Whether V8 takes the bundle's code cache in a process like the bin's (else every run compiles the bundle). */
function codeCacheState(): string {
  const cache = `${BUNDLE}.cache`;
  if (!fs.existsSync(cache)) return "missing (npm run build makes it)";
  // This process runs under ts-node, whose flags V8 does not see; a plain node is what the bin runs in.
  const probe = `const s = new (require("node:vm").Script)(require("node:fs").readFileSync(${JSON.stringify(BUNDLE)}, "utf8"), { filename: ${JSON.stringify(BUNDLE)}, cachedData: require("node:fs").readFileSync(${JSON.stringify(cache)}) }); process.stdout.write(String(s.cachedDataRejected))`;
  const rejected = spawnSync(process.execPath, ["-e", probe], { encoding: "utf8" }).stdout;
  return rejected === "false" ? `accepted (${mib(fs.statSync(cache).size)})` : "REFUSED by this node: rebuild with npm run build";
}

function main(): number {
  if (!fs.existsSync(BUNDLE)) throw new Error("dist/bundle/qmail-fleet.js is missing: run `npm run build` first");
  let missed = 0;
  const before = load();
  console.log(`qmail-fleet validate, ${RUNS} runs each (median), ${os.cpus().length} CPUs, node ${process.version}, load average ${before}`);

  console.log(`  the CLI bundle's code cache: ${codeCacheState()}`);
  const example = largestExample();
  const node = Array.from({ length: RUNS }, () => run(process.execPath, ["-e", "0"]));
  const ours = Array.from({ length: RUNS }, () => run(process.execPath, [CLI, "validate", example]));
  const failed = ours.find((r) => r.status !== 0);
  if (failed) throw new Error(`validate ${example} failed (${failed.status}):\n${failed.stderr}`);
  const show = (name: string, runs: Run[]) =>
    console.log(
      `  ${name.padEnd(52)} wall ${median(runs.map((r) => r.wall)).toFixed(3)} s  cpu ${median(runs.map((r) => r.cpu)).toFixed(3)} s  peak RSS ${mib(median(runs.map((r) => r.rss)))}  (wall: ${runs.map((r) => r.wall.toFixed(2)).join(" ")})`,
    );
  show("node -e 0 (node's own start-up)", node);
  show(`node bin/qmail-fleet validate ${path.relative(ROOT, example)} (${fs.statSync(example).size} bytes)`, ours);
  const wall = median(ours.map((r) => r.wall));
  const ok = wall < VALIDATE_GOAL_SECONDS;
  if (!ok) missed++;
  console.log(`  median ${wall.toFixed(3)} s (goal < ${VALIDATE_GOAL_SECONDS} s) ${ok ? "ok" : "MISSED"}; of it node's start-up ${median(node.map((r) => r.wall)).toFixed(3)} s`);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "qmail-fleet-bench-validate-"));
  try {
    console.log(`crafted files, refused with exit 1 and one message (goal: under ${CRAFTED_GOAL_SECONDS} s and ${mib(CRAFTED_GOAL_BYTES)} each)`);
    for (const [name, file] of craftedFiles(dir)) {
      const r = run(process.execPath, [CLI, "validate", file]);
      const refused = r.status === 1 && r.stderr.trim() !== "" && !/\n\s+at |Error:/.test(r.stderr);
      const fast = r.wall < CRAFTED_GOAL_SECONDS && r.rss < CRAFTED_GOAL_BYTES;
      if (!refused || !fast) missed++;
      const message = r.stderr.trim().split("\n")[0].replace(dir + "/", "").slice(0, 110);
      console.log(`  ${name.padEnd(44)} wall ${r.wall.toFixed(3)} s  peak RSS ${mib(r.rss).padStart(9)}  ${refused && fast ? "ok" : "MISSED"}  ${message}`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  console.log(`load average after: ${load()}`);
  return missed > 0 && process.env.BENCH_STRICT === "1" ? 1 : 0;
}

process.exitCode = main();
