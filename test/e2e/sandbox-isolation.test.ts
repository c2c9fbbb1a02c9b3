// Two sandboxes side by side, as when two test suites, a benchmark and the demo
// run at once: stopping one set of hosts must never end a process of another.
//
// The kernel hands a freed namespace number (or pid) to the next one created,
// so the dangerous moment is a start landing just after a stop freed what its
// hosts had. Each round therefore restarts both sets at once, the second after
// an offset that sweeps across the first one's stop; afterwards every host must
// still run the first process its own start recorded and answer SSH with its
// pinned host key. Once with cgroups (where the machine has a usable cgroup
// v2), once the way a machine without them goes.
import { execFile } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Mailhubs, REPO, type SandboxHost } from "./sandbox";

const run = promisify(execFile);
const ROUNDS = 20;
// 0 to 360 ms: a whole stop of two hosts, and the start of the first host after it.
const OFFSET_STEP_MS = 40;

interface FirstProcess {
  pid: number;
  startTime: string; // field 22 of /proc/PID/stat: tells a reused pid apart
}

interface SandboxSet {
  name: string;
  count: number;
  firstAddress: string;
  hubs?: Mailhubs;
  firstProcesses: Map<string, FirstProcess>;
}

/** Start time and state of a process, or undefined once it is gone. */
function procStat(pid: number): { startTime: string; state: string } | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: fields 3 on follow its last ')'.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { state: fields[0], startTime: fields[19] };
}

function hubsOf(set: SandboxSet): Mailhubs {
  if (!set.hubs) throw new Error(`${set.name} was not started`);
  return set.hubs;
}

function recordFirstProcesses(set: SandboxSet): void {
  for (const host of hubsOf(set).hosts) {
    const pid = Number(readFileSync(join(host.root, "init.pid"), "utf8").trim());
    const stat = procStat(pid);
    if (!stat) throw new Error(`${set.name}/${host.name}: first process ${pid} gone right after start`);
    set.firstProcesses.set(host.name, { pid, startTime: stat.startTime });
  }
}

async function mailhubs(set: SandboxSet, command: "start" | "stop"): Promise<void> {
  const args = [command, "--dir", hubsOf(set).dir];
  if (command === "start") args.push("--count", String(set.count), "--first-address", set.firstAddress);
  try {
    await run(join(REPO, "sandbox", "mailhubs"), args);
  } catch (err) {
    const { stderr } = err as { stderr?: string };
    throw new Error(`mailhubs ${command} ${set.name} failed: ${stderr ?? err}`);
  }
}

async function restart(set: SandboxSet): Promise<void> {
  await mailhubs(set, "stop");
  set.firstProcesses.clear();
  await mailhubs(set, "start");
  recordFirstProcesses(set);
}

/** Why a host is not the one its start left running, or undefined when it is. */
async function problemWith(set: SandboxSet, host: SandboxHost): Promise<string | undefined> {
  const recorded = set.firstProcesses.get(host.name);
  if (!recorded) return "no first process recorded";
  const now = procStat(recorded.pid);
  if (!now || now.state === "Z") return `first process ${recorded.pid} has ended`;
  if (now.startTime !== recorded.startTime) return `pid ${recorded.pid} is another process now`;
  try {
    await hubsOf(set).ssh(host, "true");
  } catch (err) {
    return `sshd does not answer: ${(err as Error).message}`;
  }
  return undefined;
}

async function problemsOf(sets: SandboxSet[], when: string): Promise<string[]> {
  const checks = sets.flatMap((set) =>
    hubsOf(set).hosts.map(async (host) => {
      const problem = await problemWith(set, host);
      return problem && `${when}, ${set.name}/${host.name}: ${problem}`;
    }),
  );
  return (await Promise.all(checks)).filter((problem): problem is string => problem !== undefined);
}

const modes: { title: string; tag: string; env: Record<string, string> }[] = [
  { title: "hosts in cgroups of their own", tag: "cgroup", env: {} },
  { title: "hosts told by first process and start time", tag: "tree", env: { MAILHUBS_NO_CGROUP: "1" } },
];

describe.each(modes)("sandbox sets side by side: $title", ({ tag, env }) => {
  const sets: SandboxSet[] = [
    { name: `e2e-isolation-${tag}-a`, count: 2, firstAddress: "127.0.0.201", firstProcesses: new Map() },
    { name: `e2e-isolation-${tag}-b`, count: 2, firstAddress: "127.0.0.211", firstProcesses: new Map() },
  ];
  const savedEnv = { ...process.env };

  beforeAll(() => {
    // mailhubs start reads it; stop, status and pids follow what start recorded.
    Object.assign(process.env, env);
    for (const set of sets) {
      set.hubs = Mailhubs.start(set.name, set.count, set.firstAddress);
      recordFirstProcesses(set);
    }
  });

  afterAll(() => {
    for (const set of sets) set.hubs?.stop();
    for (const name of Object.keys(env)) {
      if (savedEnv[name] === undefined) delete process.env[name];
      else process.env[name] = savedEnv[name];
    }
  });

  it(`each set restarted ${ROUNDS} times while the other restarts: no host of the other is touched`, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate which set stops first, so each set's stop meets the other's start.
      const [first, second] = round % 2 === 0 ? sets : [sets[1], sets[0]];
      const offsetMs = Math.floor(round / 2) * OFFSET_STEP_MS;
      await Promise.all([restart(first), sleep(offsetMs).then(() => restart(second))]);
      expect(await problemsOf(sets, `round ${round + 1}`)).toEqual([]);
    }
  });

  it("each host's processes are its own", async () => {
    for (const set of sets) {
      const hubs = hubsOf(set);
      for (const host of hubs.hosts) {
        const sshds = await hubs.processes(host, /sshd -D -f /);
        expect(sshds).toEqual([expect.stringContaining(`${host.root}/ssh/sshd_config`)]);
        const initPid = set.firstProcesses.get(host.name)?.pid;
        const inits = await hubs.processes(host, /host-init /);
        expect(inits).toEqual([`${initPid} /bin/bash ${REPO}/sandbox/host-init ${host.root}`]);

        // root's home is the host's own, not the machine's /root (whose .bashrc bash would run for every SSH command).
        const home = statSync(join(host.root, "root", "root"));
        expect(await hubs.ssh(host, 'stat -c %d:%i "$HOME"')).toBe(`${home.dev}:${home.ino}\n`);

        const record = join(host.root, "cgroup");
        if (env.MAILHUBS_NO_CGROUP) {
          expect(existsSync(record)).toBe(false);
        } else if (existsSync(record)) {
          // /proc/PID/cgroup names the cgroup v2 one ("0::") from the hierarchy's root.
          const own = readFileSync(`/proc/${initPid}/cgroup`, "utf8").split("\n").find((line) => line.startsWith("0::"));
          expect(readFileSync(record, "utf8").trim()).toMatch(new RegExp(`${own?.slice(3)}$`));
        }
      }
    }
  });

  it("stop leaves nothing of its hosts and nothing of the other set's", async () => {
    const [stopped, running] = sets;
    const cgroups = hubsOf(stopped).hosts
      .map((host) => join(host.root, "cgroup"))
      .filter((record) => existsSync(record))
      .map((record) => readFileSync(record, "utf8").trim());
    await mailhubs(stopped, "stop");
    for (const host of hubsOf(stopped).hosts) {
      expect(await hubsOf(stopped).processes(host, /./)).toEqual([]);
    }
    for (const cgroup of cgroups) expect(existsSync(cgroup)).toBe(false);
    expect(await problemsOf([running], "after the other set's stop")).toEqual([]);
  });
});
