// Faults and repairs on the real engine, three sandbox mailhubs: an SSH
// connection cut while a 10+ MB validrcptto.cdb streams, the same cut once the
// first of two changed files is staged, a host unreachable from the start,
// hand edits (run script, down file, log/main removed) found and repaired,
// and `pulumi up` killed with SIGKILL mid-run. After each fault the hosts hold
// only whole files, old or new, and the next run converges.
import { execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, readlinkSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseFleetConfig } from "../../lib/config";
import type { HostPlan } from "../../lib/host-plan";
import { planFleet } from "../../lib/plan";
import { serviceStatus } from "../../provider/change-plan";
import { HostSession, inspect, stagedPath } from "../../provider/host-operations";
import { SshConnection } from "../../provider/ssh-connection";
import { PulumiProject, type PulumiResult } from "./pulumi-project";
import { Mailhubs, readBanner, REPO, type SandboxHost } from "./sandbox";

const CONTROL = "/var/qmail/control";
const SMTPD = "/var/qmail/supervise/smtpd";
const CDB = `${CONTROL}/validrcptto.cdb`;
const BIG = 300_000;
const SMALL = 1_000;

interface Options {
  /** How many addresses validrcptto.cdb holds, and a tag that makes each list's bytes its own. */
  list: { count: number; tag: string };
  greetings: Record<string, string>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

describe("faults and repairs on three mailhubs", () => {
  let hubs: Mailhubs;
  let project: PulumiProject;
  let options: Options;

  /** A list file in the project directory, named after its content, so every config reads the list it was written for. */
  const listFile = (list: Options["list"]) => {
    const name = `validrcptto-${list.count}-${list.tag}.txt`;
    const path = join(project.dir, name);
    if (!existsSync(path)) {
      const lines: string[] = [];
      for (let i = 0; i < list.count; i++) lines.push(`${list.tag}-user${i}@faults.e2e.test`);
      writeFileSync(path, `${lines.join("\n")}\n`);
    }
    return name;
  };

  const greeting = (o: Options, host: SandboxHost) => o.greetings[host.name] ?? `${host.name}.faults.e2e.test`;

  const stackConfig = (o: Options) => ({
    ssh: { user: "root", privateKeyFile: hubs.clientKey },
    validRcptTo: { files: [listFile(o.list)] },
    services: [{ name: "smtpd", preset: "mx", maxConnections: 10, validRcptTo: { cdbFile: CDB } }],
    hosts: hubs.hosts.map((host) => ({
      name: host.name,
      address: host.address,
      ssh: { knownHostsFile: hubs.knownHosts },
      services: [{ name: "smtpd", ip: host.address, smtpGreeting: greeting(o, host) }],
    })),
  });

  function configure(o: Options): void {
    options = o;
    project.writeConfig(stackConfig(o));
  }

  const plans = new Map<string, HostPlan[]>();
  /** The fleet's plan for these options, as the program makes it (lists read from the project directory). */
  function plan(o: Options): HostPlan[] {
    const key = JSON.stringify(o);
    if (!plans.has(key)) {
      const parsed = parseFleetConfig(stackConfig(o));
      if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
      plans.set(key, planFleet(parsed.config, { readFile: (path) => readFileSync(resolve(project.dir, path)) }).hosts);
    }
    return plans.get(key)!;
  }

  /** What each host must hold for these options: path → sha256. */
  const planned = (o: Options) => new Map(plan(o).map((h) => [h.name, new Map(h.files.map((f) => [f.path, sha256(f.content)]))]));

  const cdbSize = (o: Options) => plan(o)[0].files.find((f) => f.path === CDB)!.content.length;

  /** The sha256 of each path on the host ("missing" when absent), and every staging file or previous copy left under /var/qmail and /service. */
  async function onHost(host: SandboxHost, paths: string[]): Promise<{ sums: Map<string, string>; staged: string[] }> {
    const quoted = paths.map((p) => `'${p}'`).join(" ");
    const out = await hubs.ssh(
      host,
      `for p in ${quoted}; do if [ -f "$p" ]; then s=$(sha256sum < "$p"); echo "\${s%% *}"; else echo missing; fi; done; ` +
        `echo --; find /var/qmail /service -name '.*.qmail-fleet-*' | sort`,
    );
    const [sumsPart, stagedPart] = out.split("--\n");
    const sums = sumsPart.trim().split("\n");
    return { sums: new Map(paths.map((p, i) => [p, sums[i]])), staged: stagedPart.split("\n").filter((l) => l !== "") };
  }

  /** Every managed file of the host, each labelled `old`, `new`, `same` (old and new are alike and it has them) or `OTHER <sha256>`. */
  async function fileVersions(host: SandboxHost, before: Options, after: Options): Promise<Record<string, string>> {
    const old = planned(before).get(host.name)!;
    const next = planned(after).get(host.name)!;
    const paths = [...new Set([...old.keys(), ...next.keys()])].sort();
    const { sums } = await onHost(host, paths);
    return Object.fromEntries(
      paths.map((p) => {
        const sum = sums.get(p)!;
        if (old.get(p) === next.get(p) && sum === old.get(p)) return [p, "same"];
        return [p, sum === old.get(p) ? "old" : sum === next.get(p) ? "new" : `OTHER ${sum}`];
      }),
    );
  }

  /** Asserts that every host holds exactly the planned files and no staging file. */
  async function expectConverged(o: Options): Promise<void> {
    const plan = planned(o);
    for (const host of hubs.hosts) {
      const files = plan.get(host.name)!;
      const { sums, staged } = await onHost(host, [...files.keys()]);
      for (const [path, sum] of files) expect(`${host.name} ${path} ${sums.get(path)}`).toBe(`${host.name} ${path} ${sum}`);
      expect(staged, `${host.name}: staging files left`).toEqual([]);
      expect(await readBanner(host.address)).toBe(`220 ${greeting(o, host)} ESMTP`);
    }
  }

  /** `pulumi <args>` started in the background, its pid known (sandbox/pulumi execs the engine in place). */
  function startPulumi(args: string[]): { pid: number; done: Promise<PulumiResult> } {
    const child = spawn(join(REPO, "sandbox", "pulumi"), ["--cwd", project.dir, ...args, "--stack", project.stack], {
      env: { ...process.env, PULUMI_BACKEND_URL: `file://${project.stateDir}` },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const done = new Promise<PulumiResult>((resolveDone) =>
      child.on("close", (code, signal) => resolveDone({ code: code ?? (signal ? 128 : 1), stdout, stderr })),
    );
    return { pid: child.pid!, done };
  }

  /** Polls `probe` (every `intervalMs`) until it gives a value; fails at the deadline, or when `running` ends first. */
  async function waitFor<T>(
    what: string,
    probe: () => T | undefined | Promise<T | undefined>,
    { timeoutMs, intervalMs = 1, running }: { timeoutMs: number; intervalMs?: number; running?: Promise<PulumiResult> },
  ): Promise<T> {
    let settled: PulumiResult | undefined;
    void running?.then((r) => (settled = r));
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      if (settled) throw new Error(`pulumi ended (${settled.code}) before ${what}:\n${settled.stdout}\n${settled.stderr}`);
      if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs} ms`);
      await sleep(intervalMs);
    }
  }

  /** Where a path of the host lies on this machine (its /var/qmail is a directory of the sandbox). */
  const onDisk = (host: SandboxHost, path: string) => join(host.root, "root", path);

  const stagedStat = (host: SandboxHost, path: string) => {
    try {
      return statSync(onDisk(host, stagedPath(path)));
    } catch {
      return undefined;
    }
  };

  /** Every process of the host: its cgroup's list, read at once (a cut must follow within a millisecond), else `mailhubs pids`. */
  function hostPids(host: SandboxHost): number[] {
    let listed: string;
    try {
      const cgroup = readFileSync(join(host.root, "cgroup"), "utf8").trim();
      listed = readFileSync(join(cgroup, "cgroup.procs"), "utf8");
    } catch {
      listed = execFileSync(join(REPO, "sandbox", "mailhubs"), ["pids", "--dir", hubs.dir, "--host", host.name]).toString();
    }
    return listed.split("\n").filter(Boolean).map(Number);
  }

  /** The host's sshd session processes (for root, one "sshd: root@notty" per connection): the provider's connection when the test holds none. */
  function sshSessions(host: SandboxHost): number[] {
    return hostPids(host).filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, "utf8").startsWith("sshd: root");
      } catch {
        return false;
      }
    });
  }

  const signal = (pids: number[], name: NodeJS.Signals) => {
    for (const pid of pids) {
      try {
        process.kill(pid, name);
      } catch {
        // already gone
      }
    }
  };

  const processState = (pid: number) => {
    try {
      return readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ")[0];
    } catch {
      return "gone";
    }
  };

  /** The provider plugins this project's engine started: node running dist/provider/main.js in the project directory. */
  function providerProcesses(): number[] {
    const found: number[] = [];
    for (const entry of execFileSync("ps", ["-eo", "pid=,args="]).toString().split("\n")) {
      const line = entry.trim();
      if (!/dist\/provider\/main\.js/.test(line)) continue;
      const pid = Number(line.split(/\s+/)[0]);
      try {
        if (readlinkSync(`/proc/${pid}/cwd`) === project.dir) found.push(pid);
      } catch {
        // ended meanwhile
      }
    }
    return found;
  }

  const smtpdUptime = (host: SandboxHost) => hubs.uptime(host, SMTPD);

  /** `<host> <path>` or `<host> service <name>` for each file, directory or service a preview would change on a host. */
  const changedItems = (previewJson: string): string[] => {
    const items = new Set<string>();
    for (const step of JSON.parse(previewJson).steps ?? []) {
      if (["same", "read", "refresh"].includes(step.op) || !step.urn.includes("qmail:index:HostConfiguration::")) continue;
      const host = step.urn.split("::").pop();
      for (const key of Object.keys(step.detailedDiff ?? { "(no detail)": {} })) {
        const match = /^(files|directories|services)\["([^"]+)"\]/.exec(key);
        items.add(`${host} ${match ? `${match[1] === "services" ? "service " : ""}${match[2]}` : key}`);
      }
    }
    return [...items].sort();
  };

  /** `qmail-fleet drift --json`: its exit code and one `<host> <path or service> <finding>` line per finding. */
  function drift(): { code: number; findings: string[]; output: string } {
    let code = 0;
    let stdout = "";
    let stderr = "";
    try {
      stdout = execFileSync(join(REPO, "sandbox", "qmail-fleet"), ["drift", "--stack", project.stack, "--cwd", project.dir, "--json"], {
        env: { ...process.env, PULUMI_BACKEND_URL: `file://${project.stateDir}` },
        stdio: ["ignore", "pipe", "pipe"],
        timeout: 300_000,
      }).toString();
    } catch (error) {
      const e = error as { status: number; stdout?: Buffer; stderr?: Buffer };
      code = e.status;
      stdout = e.stdout?.toString() ?? "";
      stderr = e.stderr?.toString() ?? "";
    }
    const findings: string[] = [];
    if (code === 0 || code === 2) {
      const report = JSON.parse(stdout) as {
        hosts: Array<{ host: string; drift: Array<{ resource: string; name: string; findings: Array<{ kind: string; found?: string }> }> }>;
      };
      for (const host of report.hosts)
        for (const item of host.drift)
          for (const f of item.findings)
            findings.push(`${host.host} ${item.resource === "service" ? "service " : ""}${item.name} ${f.kind}${f.found ? `: ${f.found}` : ""}`);
    }
    return { code, findings: findings.sort(), output: `${stdout}\n${stderr}` };
  }

  beforeAll(async () => {
    hubs = Mailhubs.start("e2e-faults", 3, "127.0.0.61");
    project = new PulumiProject("faults");
    await project.init();
    configure({ list: { count: SMALL, tag: "a" }, greetings: {} });
    await project.up();
    await expectConverged(options);
  });

  afterAll(() => hubs?.stop());

  it("1. the SSH connection cut while validrcptto.cdb streams: up fails naming host and file, only whole files on the host, the next up converges", async () => {
    const before = options;
    const after: Options = { ...before, list: { count: BIG, tag: "b" } };
    const full = cdbSize(after);
    expect(full).toBeGreaterThan(10 * 1024 * 1024);
    configure(after);
    const one = hubs.host("mailhub1");

    const started = Date.now();
    const run = startPulumi(["up", "--yes", "--skip-preview", "--non-interactive"]);
    // The connection's sshd is known as soon as the staging file is made; it is stopped once bytes arrive.
    await waitFor("staging file on mailhub1", () => stagedStat(one, CDB), { timeoutMs: 120_000, running: run.done });
    const sessions = sshSessions(one);
    const partial = await waitFor(
      "partial staging file on mailhub1",
      () => {
        const s = stagedStat(one, CDB);
        return s && s.size > 0 ? s.size : undefined;
      },
      { timeoutMs: 120_000, running: run.done },
    );
    signal(sessions, "SIGSTOP");
    const seen = Date.now() - started;
    expect(sessions.length, "sshd session processes of mailhub1").toBeGreaterThanOrEqual(1);
    await sleep(300);
    const frozenAt = stagedStat(one, CDB)?.size ?? 0;
    console.log(`cut: staging file at ${partial} bytes ${seen} ms after up started, ${frozenAt} of ${full} once sshd ${sessions.join(",")} stopped`);
    expect(frozenAt).toBeLessThan(full);
    signal(sessions, "SIGKILL");

    const result = await run.done;
    const output = result.stdout + result.stderr;
    expect(result.code, output).not.toBe(0);
    console.log(output.split("\n").filter((l) => /error|mailhub1/.test(l)).join("\n"));
    expect(output).toMatch(/host mailhub1 \(root@127\.0\.0\.61\)[^\n]*validrcptto\.cdb/);

    // Nothing but whole files: and as the cut came before the switch, every one is the old one.
    const versions = await fileVersions(one, before, after);
    for (const [path, version] of Object.entries(versions)) expect(`${path} ${version}`).toMatch(/ (old|new|same)$/);
    expect(versions[CDB]).toBe("old");
    // The other hosts went on and finished.
    for (const host of hubs.hosts.filter((h) => h !== one))
      for (const [path, version] of Object.entries(await fileVersions(host, before, after)))
        expect(`${host.name} ${path} ${version}`).toMatch(/ (new|same)$/);

    await project.up();
    await expectConverged(after);
  });

  it("2. the cut once the first of two changed files is staged: every file on the host stays the old one, the next up converges", async () => {
    const before = options;
    const after: Options = { list: { count: BIG + 1, tag: "c" }, greetings: { mailhub1: "second.faults.e2e.test" } };
    const full = cdbSize(after);
    configure(after);
    const one = hubs.host("mailhub1");
    const uptimeBefore = (await smtpdUptime(one))!;
    const started = Date.now();

    const run = startPulumi(["up", "--yes", "--skip-preview", "--non-interactive"]);
    // The files are staged in path order: validrcptto.cdb, then the run script.
    await waitFor("staging file on mailhub1", () => stagedStat(one, CDB), { timeoutMs: 120_000, running: run.done });
    const sessions = sshSessions(one);
    expect(sessions.length, "sshd session processes of mailhub1").toBeGreaterThanOrEqual(1);
    await waitFor("complete staging file", () => (stagedStat(one, CDB)?.size === full ? true : undefined), { timeoutMs: 120_000, running: run.done });
    signal(sessions, "SIGSTOP");
    const cdbStaged = stagedStat(one, CDB);
    const runStaged = stagedStat(one, `${SMTPD}/run`);
    console.log(
      `cut: staged cdb ${cdbStaged?.size} bytes mode ${cdbStaged?.mode.toString(8)}, staged run ${runStaged ? `${runStaged.size} bytes` : "absent"}`,
    );
    signal(sessions, "SIGKILL");

    const result = await run.done;
    const output = result.stdout + result.stderr;
    expect(result.code, output).not.toBe(0);
    expect(output).toMatch(/host mailhub1 \(root@127\.0\.0\.61\)[^\n]*staging/);

    const versions = await fileVersions(one, before, after);
    for (const [path, version] of Object.entries(versions)) expect(`${path} ${version}`).toMatch(/ (old|same)$/);
    expect(versions[CDB]).toBe("old");
    expect(versions[`${SMTPD}/run`]).toBe("old");
    expect(await readBanner(one.address)).toBe(`220 ${greeting(before, one)} ESMTP`);
    // Not restarted: up since before this run.
    expect(await smtpdUptime(one)).toBeGreaterThanOrEqual(uptimeBefore + Math.floor((Date.now() - started) / 1000) - 1);

    await project.up();
    await expectConverged(after);
  });
  it("3. one of three hosts unreachable from the start: the other two finish with every file new and their restarts done, up fails naming it", async () => {
    const before = options;
    const after: Options = {
      list: { count: SMALL, tag: "d" },
      greetings: { mailhub1: "third1.faults.e2e.test", mailhub2: "third2.faults.e2e.test", mailhub3: "third3.faults.e2e.test" },
    };
    configure(after);
    const three = hubs.host("mailhub3");
    // Its sshd stopped: connections are accepted by the kernel and never answered, as behind a dead route.
    const listeners = (await hubs.processes(three, /^\d+ sshd: \S*sshd -D .*\[listener\]/)).map((line) => Number(line.split(/\s+/)[0]));
    expect(listeners).toHaveLength(1);
    const started = Date.now();
    signal(listeners, "SIGSTOP");
    let result: PulumiResult;
    try {
      result = await project.run(["up", "--yes", "--skip-preview", "--non-interactive"], { allowFailure: true });
    } finally {
      signal(listeners, "SIGCONT");
    }
    const output = result.stdout + result.stderr;
    expect(result.code, output).not.toBe(0);
    expect(output).toMatch(/error: host mailhub3 \(root@127\.0\.0\.63\): SSH connection failed/);
    expect(output).not.toMatch(/error: host mailhub[12]/);
    const elapsed = (Date.now() - started) / 1000;

    for (const host of hubs.hosts.filter((h) => h !== three)) {
      for (const [path, version] of Object.entries(await fileVersions(host, before, after)))
        expect(`${host.name} ${path} ${version}`).toMatch(/ (new|same)$/);
      // The greeting is read at start: the new banner is the restart.
      expect(await readBanner(host.address)).toBe(`220 ${greeting(after, host)} ESMTP`);
      expect(await smtpdUptime(host)).toBeLessThan(elapsed);
    }
    for (const [path, version] of Object.entries(await fileVersions(three, before, after))) expect(`mailhub3 ${path} ${version}`).toMatch(/ (old|same)$/);
    expect(await readBanner(three.address)).toBe(`220 ${greeting(before, three)} ESMTP`);

    await project.up();
    await expectConverged(after);
  });

  it("4. hand edits (run script edited and restarted on, down file, log/main removed) found by preview --refresh and drift, repaired by up --refresh", async () => {
    const [one, two, three] = ["mailhub1", "mailhub2", "mailhub3"].map((name) => hubs.host(name));
    await hubs.ssh(one, `sed -i 's/${greeting(options, one)}/hand.edit.e2e.test/' ${SMTPD}/run && grep -q hand.edit ${SMTPD}/run && svc -t ${SMTPD}`);
    await waitFor("the hand-edited banner", async () => ((await readBanner(one.address).catch(() => "")) === "220 hand.edit.e2e.test ESMTP" ? true : undefined), {
      timeoutMs: 15_000,
      intervalMs: 200,
    });
    await hubs.ssh(two, `touch ${SMTPD}/down && svc -d ${SMTPD}`);
    await waitFor("smtpd down on mailhub2", async () => (/: down /.test(await hubs.ssh(two, `svstat ${SMTPD}`)) ? true : undefined), {
      timeoutMs: 15_000,
      intervalMs: 200,
    });
    await hubs.ssh(three, `rm -rf ${SMTPD}/log/main`);

    const preview = await project.run(["preview", "--refresh", "--json"]);
    expect(changedItems(preview.stdout)).toEqual([`mailhub1 ${SMTPD}/run`, "mailhub2 service smtpd", `mailhub3 ${SMTPD}/log/main`, "mailhub3 service smtpd"]);

    const found = drift();
    expect(found.code, found.output).toBe(2);
    expect(found.findings).toEqual([
      `mailhub1 ${SMTPD}/run content`,
      "mailhub2 service smtpd service: down file present",
      `mailhub3 ${SMTPD}/log/main missing`,
      "mailhub3 service smtpd service: log directory missing",
    ]);

    const logBefore = await hubs.ssh(three, `cat ${SMTPD}/log/main/current 2>/dev/null | wc -l`);
    expect(logBefore.trim()).toBe("0");
    await project.up(["--refresh"]);

    expect(await readBanner(one.address)).toBe(`220 ${greeting(options, one)} ESMTP`);
    expect(await hubs.ssh(two, `test -e ${SMTPD}/down && echo present || echo gone`)).toBe("gone\n");
    expect(await hubs.ssh(two, `svstat ${SMTPD}`)).toMatch(/: up \(pid \d+\)/);
    expect(await readBanner(two.address)).toBe(`220 ${greeting(options, two)} ESMTP`);
    const plan3 = plan(options).find((h) => h.name === "mailhub3")!;
    const logMain = plan3.directories.find((d) => d.path === `${SMTPD}/log/main`)!;
    expect(await hubs.ssh(three, `stat -c '%U:%G:%a' ${SMTPD}/log/main`)).toBe(`${logMain.owner}:${logMain.group}:${logMain.mode.toString(8)}\n`);
    // A connection makes tcpserver log: the lines must reach the new log/main/current.
    const current = `${SMTPD}/log/main/current`;
    const linesBefore = Number((await hubs.ssh(three, `cat ${current} 2>/dev/null | wc -l`)).trim());
    expect(await readBanner(three.address)).toBe(`220 ${greeting(options, three)} ESMTP`);
    const logged = await waitFor(
      "new lines in log/main/current",
      async () => {
        const text = await hubs.ssh(three, `cat ${current} 2>/dev/null || true`);
        const lines = text.split("\n").filter(Boolean);
        return lines.length > linesBefore && lines.slice(linesBefore).some((l) => /tcpserver: (pid|ok|end)/.test(l)) ? lines.slice(linesBefore) : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 200 },
    );
    expect(logged.join("\n")).toMatch(/tcpserver: /);

    await expectConverged(options);
    const clean = drift();
    expect(clean.code, clean.output).toBe(0);
  });

  it("4b. a service restarted in the same second its run script was written reads as up, however long the host's inspection takes", async () => {
    const one = hubs.host("mailhub1");
    const connection = new SshConnection(
      { host: one.name, address: one.address, port: one.sshPort, user: "root", hostKey: one.hostKey, sudo: false },
      readFileSync(hubs.clientKey, "utf8"),
    );
    const session = new HostSession(connection, false);
    const slow = "/var/qmail/qmail-fleet-e2e-slow-to-hash";
    try {
      // A file that takes the host well over a second to hash, as a large cdb does on a busy host.
      const probe = await session.run("timing sha256sum", `truncate -s 64M ${slow}; s=$(date +%s%N); sha256sum < ${slow} >/dev/null; echo $(( $(date +%s%N) - s ))`, []);
      const nsPer64M = Math.max(1, Number(probe.toString().trim()));
      const bytes = Math.min(8 * 1024 ** 3, Math.ceil(((1.5e9 / nsPer64M) * 64 * 1024 ** 2) / 1024 ** 2) * 1024 ** 2);
      await session.run("growing the file", `truncate -s ${bytes} ${slow}`, []);

      // The run script written and the service restarted on it within one second, as a deploy does.
      let sameSecond = false;
      for (let attempt = 0; attempt < 5 && !sameSecond; attempt++) {
        const out = await session.run("touch and restart", `touch ${SMTPD}/run && svc -t ${SMTPD} && stat -c %Y ${SMTPD}/run && date +%s`, []);
        const [mtime, after] = out.toString().trim().split("\n");
        sameSecond = mtime === after;
      }
      expect(sameSecond, "run script written and service restarted within one second").toBe(true);
      await waitFor("smtpd up again", async () => (/: up /.test(await hubs.ssh(one, `svstat ${SMTPD}`)) ? true : undefined), { timeoutMs: 10_000, intervalMs: 50 });

      const started = Date.now();
      const observed = await inspect(session, { files: [`${SMTPD}/run`, slow], directories: [], services: [{ name: "smtpd", dir: SMTPD, link: "/service/smtpd" }] });
      const took = Date.now() - started;
      const found = observed.services.get("smtpd")!;
      expect(took, "the inspection took over a second").toBeGreaterThan(1000);
      expect(`${serviceStatus({ dir: SMTPD }, found)} (run written ${found.runMtime}, started ${found.service.startedAt})`).toMatch(/^up /);
    } finally {
      await session.run("removing the file", `rm -f ${slow}`, []).catch(() => undefined);
      connection.close();
    }
  });

  it("5. pulumi up killed with SIGKILL mid-run: no provider process and no SSH session left within seconds; cancel and up converge", async () => {
    const after: Options = { list: { count: BIG, tag: "e" }, greetings: options.greetings };
    const full = cdbSize(after);
    configure(after);
    const one = hubs.host("mailhub1");
    const run = startPulumi(["up", "--yes", "--skip-preview", "--non-interactive"]);
    await waitFor(
      "partial staging file on mailhub1",
      () => {
        const s = stagedStat(one, CDB);
        return s && s.size > 0 && s.size < full ? true : undefined;
      },
      { timeoutMs: 120_000, running: run.done },
    );
    expect(readFileSync(`/proc/${run.pid}/comm`, "utf8")).toBe("pulumi\n");
    const providers = providerProcesses();
    expect(providers.length, "provider processes of this project").toBeGreaterThanOrEqual(1);
    const children = execFileSync("ps", ["--ppid", String(run.pid), "-o", "pid=,args="]).toString().trim();
    process.kill(run.pid, "SIGKILL");
    const killed = Date.now();

    await waitFor("the provider to end", () => (providerProcesses().length === 0 ? true : undefined), { timeoutMs: 5_000, intervalMs: 100 });
    const providerGone = Date.now() - killed;
    for (const host of hubs.hosts)
      await waitFor(`no SSH session on ${host.name}`, () => (sshSessions(host).length === 0 ? true : undefined), { timeoutMs: 5_000, intervalMs: 100 });
    const sessionsGone = Date.now() - killed;
    // What else the engine had started outlives it; recorded, then ended (the language host has no watch on its engine).
    const left = children
      .split("\n")
      .map((line) => Number(line.trim().split(/\s+/)[0]))
      .filter((pid) => !["gone", "Z"].includes(processState(pid)));
    console.log(`engine's children:\n${children}\nprovider gone after ${providerGone} ms, SSH sessions after ${sessionsGone} ms; still running: ${left.join(" ") || "none"}`);
    signal(left, "SIGTERM");
    await run.done;

    const cancel = await project.run(["cancel", "--yes"], { allowFailure: true });
    console.log(`pulumi cancel --yes: exit ${cancel.code}\n${cancel.stdout}${cancel.stderr}`);
    const up = await project.up();
    console.log(up.stdout.split("\n").filter((l) => /pending|warning|interrupted/i.test(l)).join("\n"));
    await expectConverged(after);
  });
});
