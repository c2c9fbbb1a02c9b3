// Issue 11 on the real engine: the first `pulumi up` on a mailhub that already
// runs hand-written services (no state yet) takes them over. Files that hold
// the declared bytes are left alone, run and log/run scripts are rewritten in
// the project's layout, and a service restarts only when what it runs changes
// (programs, arguments, environment): the SMTP test double reports the same
// argv and environment, tcpserver the same command line, and supervise the same
// pid. A refresh afterwards finds no drift ("running an older run script").
//
// Part 1 takes over a service whose hand-written scripts say what the
// config says in an admin's own words, and one whose scripts differ from it.
// Part 2 does it for every corpus script (test/import), with the config that
// `qmail-fleet import` writes from the host's own files.
import { copyFileSync, cpSync, rmSync, mkdirSync, readFileSync, readdirSync, existsSync } from "node:fs";
import { join } from "node:path";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import * as yaml from "js-yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseFleetConfig, formatIssues } from "../../lib/config";
import { renderLogScript } from "../../lib/render/log-script";
import { renderRunScript } from "../../lib/render/run-script";
import { shellQuote } from "../../lib/render/shell-quote";
import { meaningSummary, runScriptMeaning } from "../../lib/import/run-script-meaning";
import { corpusEntries, scriptForAddress, type CorpusEntry } from "../import/corpus";
import { Mailhubs, REPO, smtpConversation, type SandboxHost } from "./sandbox";
import { PulumiProject } from "./pulumi-project";
import { eventually, installService, SUPERVISE } from "./hand-written-service";

const run = promisify(execFile);
const TCP_SMTP = "/var/qmail/control/tcp.smtp";

/** What a service runs, as the outside world sees it. */
interface Observed {
  /** supervise's pid of the service and of its log: a restart changes them. */
  pid: number;
  logPid: number;
  uptime: number;
  /** The test double's argv and environment (minus the client's own port). */
  argv: string[];
  env: Record<string, string>;
  /** tcpserver's command line (/proc/<pid>/cmdline): the whole chain it runs per connection. */
  tcpserver: string[];
}

async function observe(hubs: Mailhubs, host: SandboxHost, service: string, port: number): Promise<Observed> {
  const dir = `${SUPERVISE}/${service}`;
  const status = await hubs.ssh(host, `svstat ${dir} ${dir}/log`);
  const [main, log] = [...status.matchAll(/: up \(pid (\d+)\) (\d+) seconds/g)];
  if (!main || !log) throw new Error(`${host.name} ${service} is not up: ${status}`);
  const lines = await smtpConversation(host.address, port, ["EHLO client.e2e.test", "XENV"], 30_000);
  const argv: string[] = [];
  const env: Record<string, string> = {};
  for (const line of lines) {
    const arg = /^250-argv\[(\d+)\]=(.*)$/.exec(line);
    if (arg) argv[Number(arg[1])] = arg[2];
    const pair = /^250-env:([^=]+)=(.*)$/.exec(line);
    if (pair && pair[1] !== "TCPREMOTEPORT") env[pair[1]] = pair[2];
  }
  if (argv.length === 0) throw new Error(`${host.name} ${service} gave no XENV report on port ${port}: ${JSON.stringify(lines.slice(0, 3))}`);
  const servers = await hubs.processes(host, new RegExp(`^\\d+ tcpserver .* ${host.address.replace(/\./g, "\\.")} `));
  const tcpserver = servers.length === 1 ? readFileSync(`/proc/${servers[0].split(" ")[0]}/cmdline`, "utf8").split("\0").slice(0, -1) : [];
  return { pid: Number(main[1]), uptime: Number(main[2]), logPid: Number(log[1]), argv, env, tcpserver };
}

/** Installs a corpus entry on its host: run, log/run, envdir and files, the address made the host's. */
async function installEntry(hubs: Mailhubs, host: SandboxHost, entry: CorpusEntry): Promise<void> {
  const read = (path: string) => readFileSync(join(entry.dir, path), "utf8");
  const envDir = join(entry.dir, "env");
  const envdir = existsSync(envDir) ? Object.fromEntries(readdirSync(envDir).map((name) => [name, read(`env/${name}`)])) : undefined;
  const files = Object.fromEntries(entry.files.map((path) => [path, read(`files${path}`)]));
  await installService(hubs, host, entry.service, { run: scriptForAddress(read("run"), host.address), logRun: read("log/run") }, { files, envdir });
}

/** tcpserver's command line as what it runs: options in canonical order, a port name as its number. */
function chainOf(cmdline: string[]): string[][] {
  return meaningSummary(runScriptMeaning(`exec ${cmdline.map(shellQuote).join(" ")}\n`)).chain;
}

/**
 * Adds one imported host to a stack's config when their fleet-wide parts agree
 * (same value, or only one sets it; tcpRules per cdb path). False, and nothing
 * changed, when they do not.
 */
function mergeFleet(into: Record<string, unknown>, config: Record<string, unknown>): boolean {
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  for (const [key, value] of Object.entries(config)) {
    if (key === "hosts" || key === "ssh" || !(key in into)) continue;
    if (key === "tcpRules") {
      const rules = into.tcpRules as Record<string, unknown>;
      for (const [path, set] of Object.entries(value as Record<string, unknown>)) if (path in rules && !same(rules[path], set)) return false;
    } else if (!same(into[key], value)) return false;
  }
  for (const [key, value] of Object.entries(config)) {
    if (key === "hosts") into.hosts = [...((into.hosts as unknown[]) ?? []), ...(value as unknown[])];
    else if (key === "tcpRules") into.tcpRules = { ...(into.tcpRules as object), ...(value as object) };
    else if (key !== "ssh") into[key] = value;
  }
  return true;
}

const mtime = async (hubs: Mailhubs, host: SandboxHost, path: string) => Number((await hubs.ssh(host, `stat -c %Y ${path}`)).trim());

describe("take-over of hand-written services on the real engine", () => {
  describe("part 1: scripts in an admin's own words", () => {
    let hubs: Mailhubs;
    let project: PulumiProject;
    let same: SandboxHost;
    let other: SandboxHost;
    const before: Record<string, Observed> = {};
    const runMtime: Record<string, number> = {};

    const rules = "127.:allow,RELAYCLIENT=\"\"\n:allow\n";
    const fleet = () => ({
      ssh: { user: "root", privateKeyFile: hubs.clientKey },
      tcpRules: { [`${TCP_SMTP}.cdb`]: { rules: [{ address: "127.", action: "allow", env: { RELAYCLIENT: "" } }, { address: "", action: "allow" }] } },
      hosts: [same, other].map((host) => ({
        name: host.name,
        address: host.address,
        ssh: { knownHostsFile: hubs.knownHosts },
        services: [{ name: "smtpd", preset: "mx", ip: host.address, maxConnections: 30, accessRules: `${TCP_SMTP}.cdb`, dataBytes: 20971520 }],
      })),
    });

    /** The renderer's scripts for a host, as the program will write them. */
    function rendered(host: SandboxHost) {
      const parsed = parseFleetConfig(fleet());
      if (!parsed.ok) throw new Error(formatIssues(parsed.errors));
      const config = parsed.config.hosts.find((h) => h.name === host.name)!;
      return { run: renderRunScript(config.services[0], config), logRun: renderLogScript(config.services[0], config) };
    }

    /**
     * The same service as an admin wrote it: no header, ids in backquotes,
     * `head -1`, a start-up check, the settings in another order and form.
     */
    function handWritten(host: SandboxHost, maxConnections: number) {
      return {
        run: [
          "#!/bin/sh",
          "QMAILDUID=`id -u qmaild`",
          "NOFILESGID=`id -g qmaild`",
          "LOCAL=`head -1 /var/qmail/control/me`",
          'if [ -z "$LOCAL" ]; then echo "no control/me"; exit 1; fi',
          "PATH=/var/qmail/bin:/usr/local/bin:/usr/bin:/bin",
          "export PATH",
          "DATABYTES=20971520; export DATABYTES",
          "exec 2>&1",
          `exec tcpserver -v -R -x ${TCP_SMTP}.cdb -c ${maxConnections} -l "$LOCAL" -u "$QMAILDUID" -g "$NOFILESGID" ${host.address} 25 /var/qmail/bin/qmail-smtpd`,
          "",
        ].join("\n"),
        logRun: "#!/bin/sh\nexport PATH=/var/qmail/bin:/usr/local/bin:/usr/bin:/bin\nexec setuidgid qmaill \\\n  multilog t s1000000 n20 ./main\n",
      };
    }

    afterAll(() => hubs?.stop());

    beforeAll(async () => {
      hubs = Mailhubs.start("e2e-import-takeover-1", 2, "127.0.0.181");
      [same, other] = [hubs.hosts[0], hubs.hosts[1]];
      project = new PulumiProject("import-takeover");
      await project.init();
      project.writeConfig(fleet());
      // One host runs what the config says; the other allows 20 connections where the config says 30.
      await installService(hubs, same, "smtpd", handWritten(same, 30), { files: { [TCP_SMTP]: rules } });
      await installService(hubs, other, "smtpd", handWritten(other, 20), { files: { [TCP_SMTP]: rules } });
      // Old enough that a restart shows as a drop in uptime.
      await new Promise((r) => setTimeout(r, 3000));
      for (const host of [same, other]) {
        expect(handWritten(host, 30).run).not.toBe(rendered(host).run);
        before[host.name] = await observe(hubs, host, "smtpd", 25);
        runMtime[host.name] = await mtime(hubs, host, `${SUPERVISE}/smtpd/run`);
      }
    });

    it("preview names what differs on each host and which service restarts", async () => {
      const preview = await project.run(["preview", "--diff", "--non-interactive"]);
      const output = preview.stdout + preview.stderr;
      for (const host of [same, other]) expect(output).toContain(`${host.name} has no state yet: taking over what is there`);
      // The tcprules cdb built by the host's tcprules is byte for byte ours: left alone.
      expect(output).toMatch(new RegExp(`already as declared, left alone: ${TCP_SMTP}\\.cdb`));
      expect(output).toContain(`written: ${SUPERVISE}/smtpd/run (bytes differ; runs the same programs, arguments and environment)`);
      expect(output).toMatch(/service smtpd: keeps running, no restart/);
      expect(output).toMatch(/exec chain: tcpserver .* -c 20 .* → tcpserver .* -c 30 /);
      expect(output).toMatch(/service smtpd: restarted/);
    });

    it("up: the scripts are ours; the service that runs the same thing keeps running, the other restarts", async () => {
      await project.up();
      for (const host of [same, other]) {
        expect(await hubs.ssh(host, `cat ${SUPERVISE}/smtpd/run`)).toBe(rendered(host).run);
        expect(await hubs.ssh(host, `cat ${SUPERVISE}/smtpd/log/run`)).toBe(rendered(host).logRun);
      }
      const kept = await observe(hubs, same, "smtpd", 25);
      expect({ pid: kept.pid, logPid: kept.logPid }).toEqual({ pid: before[same.name].pid, logPid: before[same.name].logPid });
      expect(kept.uptime).toBeGreaterThanOrEqual(before[same.name].uptime);
      expect({ argv: kept.argv, env: kept.env, tcpserver: kept.tcpserver }).toEqual({
        argv: before[same.name].argv,
        env: before[same.name].env,
        tcpserver: before[same.name].tcpserver,
      });
      // Written without a restart: the run script keeps the time of what the service runs.
      expect(await mtime(hubs, same, `${SUPERVISE}/smtpd/run`)).toBe(runMtime[same.name]);

      const restarted = await observe(hubs, other, "smtpd", 25);
      expect(restarted.pid).not.toBe(before[other.name].pid);
      expect(restarted.logPid).toBe(before[other.name].logPid);
      expect(before[other.name].tcpserver).toContain("20");
      expect(restarted.tcpserver).toEqual(before[other.name].tcpserver.map((arg) => (arg === "20" ? "30" : arg)));
    });

    it("a refresh finds nothing to put back, and a second up changes nothing", async () => {
      const drift = project.drift();
      expect(drift.code, drift.stdout + drift.stderr).toBe(0);
      expect(drift.stdout).not.toMatch(/older run script|older log\/run/);
      const second = await project.up(["--refresh", "--expect-no-changes"]);
      expect(second.stdout).not.toMatch(/\b(created|updated|replaced|deleted)\b/);
      expect((await observe(hubs, same, "smtpd", 25)).pid).toBe(before[same.name].pid);
    });

    it("restarted by hand on our scripts, the service runs exactly what the hand-written one ran", async () => {
      const dir = `${SUPERVISE}/smtpd`;
      await hubs.ssh(same, `svc -t ${dir}`);
      const after = await eventually("a new smtpd", async () => {
        const seen = await observe(hubs, same, "smtpd", 25);
        return seen.pid !== before[same.name].pid && seen.tcpserver.length > 0 ? seen : undefined;
      });
      expect({ argv: after.argv, env: after.env, tcpserver: after.tcpserver }).toEqual({
        argv: before[same.name].argv,
        env: before[same.name].env,
        tcpserver: before[same.name].tcpserver,
      });
    });
  });
  describe("part 2: every corpus script, imported with qmail-fleet import", () => {
    const available = (program: string) => ["/usr/bin", "/usr/local/bin", "/bin"].some((dir) => existsSync(join(dir, program)));
    const entries = corpusEntries().filter((entry) => entry.needs.every(available));
    let hubs: Mailhubs;
    const hostOf = new Map<CorpusEntry, SandboxHost>();
    const before = new Map<CorpusEntry, Observed>();
    const warnings = new Map<CorpusEntry, string[]>();
    /** Why an entry could not be installed, started or imported: its own test fails with it. */
    const problems = new Map<CorpusEntry, Error>();
    const projects: PulumiProject[] = [];
    const failedUps = new Set<PulumiProject>();
    const logsRestarted: string[] = [];

    afterAll(() => hubs?.stop());

    beforeAll(async () => {
      hubs = Mailhubs.start("e2e-import-takeover-2", entries.length, "127.0.0.181");
      entries.forEach((entry, i) => hostOf.set(entry, hubs.hosts[i]));
      await Promise.all(entries.map((entry) => installEntry(hubs, hostOf.get(entry)!, entry).catch((error: Error) => problems.set(entry, error))));
      // Old enough that a restart shows as a drop in uptime.
      await new Promise((r) => setTimeout(r, 3000));
      await Promise.all(
        entries
          .filter((e) => !problems.has(e))
          .map((entry) =>
            observe(hubs, hostOf.get(entry)!, entry.service, entry.port).then(
              (seen) => before.set(entry, seen),
              (error: Error) => problems.set(entry, error),
            ),
          ),
      );

      // qmail-fleet import --from-dir; one stack file per host.
      const imports = join(REPO, ".state", "e2e", "import-takeover-imports");
      mkdirSync(imports, { recursive: true });
      const stacks: Array<{ config: Record<string, unknown>; sideFiles: string[]; entries: CorpusEntry[] }> = [];
      for (const entry of entries.filter((e) => !problems.has(e))) {
        const host = hostOf.get(entry)!;
        const out = join(imports, `Pulumi.${host.name}.yaml`);
        // A copy of the host's files, as an admin would rsync it: its /var/qmail and /service, and /etc/passwd (the sandbox shares the machine's).
        const copy = join(imports, host.name);
        rmSync(copy, { recursive: true, force: true });
        cpSync(join(host.root, "root"), copy, {
          recursive: true,
          verbatimSymlinks: true,
          // Not supervise's own state (its fifos), which rsync would be told to skip too.
          filter: (path) => !/\/supervise\/[^/]+(\/log)?\/supervise$/.test(path),
        });
        mkdirSync(join(copy, "etc"));
        copyFileSync("/etc/passwd", join(copy, "etc", "passwd"));
        const imported = await run(join(REPO, "bin", "qmail-fleet"), [
          "import", "--from-dir", copy, "--address", host.address, "--host-key", host.hostKey, "--name", host.name, "-o", out,
        ]).catch((error: Error) => problems.set(entry, error));
        if (imported instanceof Map) continue;
        const { stderr } = imported;
        warnings.set(entry, stderr.split("\n").filter((line) => line.startsWith("warning: ")));
        // A config that does not validate fails its own entry, not the stack it would share.
        const invalid = await run(join(REPO, "bin", "qmail-fleet"), ["validate", out]).then(
          () => undefined,
          (error: Error & { stdout?: string; stderr?: string }) => new Error(`the imported config does not validate:\n${error.stdout ?? ""}${error.stderr ?? ""}`),
        );
        if (invalid) {
          problems.set(entry, invalid);
          continue;
        }
        const document = yaml.load(readFileSync(out, "utf8")) as { config: Record<string, unknown> };
        const config = Object.fromEntries(Object.entries(document.config).map(([key, value]) => [key.replace(/^qmail-fleet:/, ""), value]));
        const sideFiles = readdirSync(imports).filter((name) => name.startsWith(`${host.name}-`));
        // Hosts whose fleet-wide parts agree (tcpRules by path, validRcptTo, ...) share a stack: fewer engine runs.
        const stack = stacks.find((candidate) => mergeFleet(candidate.config, config));
        if (stack) {
          stack.sideFiles.push(...sideFiles);
          stack.entries.push(entry);
        } else stacks.push({ config: structuredClone(config), sideFiles, entries: [entry] });
      }
      for (const [i, stack] of stacks.entries()) {
        const project = new PulumiProject(`import-takeover-${i + 1}`);
        await project.init();
        for (const name of stack.sideFiles) copyFileSync(join(imports, name), join(project.dir, name));
        project.writeConfig({ ...stack.config, ssh: { user: "root", privateKeyFile: hubs.clientKey } });
        projects.push(project);
      }
      // The first pulumi up of each stack, a few at a time; a failed one fails its entries' tests.
      for (let i = 0; i < projects.length; i += 4)
        await Promise.all(
          projects.slice(i, i + 4).map((project, j) =>
            project.up().catch((error: Error) => {
              failedUps.add(project);
              stacks[i + j].entries.forEach((entry) => problems.set(entry, error));
            }),
          ),
        );
    });

    it.each(entries.map((entry) => [entry.id, entry] as const))("%s: runs what it ran before the take-over", async (_id, entry) => {
      if (problems.has(entry)) throw problems.get(entry);
      const host = hostOf.get(entry)!;
      const was = before.get(entry)!;
      const now = await observe(hubs, host, entry.service, entry.port);
      const entryWarnings = warnings.get(entry)!;
      for (const warning of entryWarnings) expect(warning).toMatch(/^warning: \S+(:\d+)?: /);
      // A line of run (or log/run) the config cannot express, named by the import: what runs may change there.
      const leftOut = (script: "run" | "log/run") =>
        entryWarnings.some((warning) => {
          const file = /^warning: (\S+?):\d+: /.exec(warning)?.[1];
          const isLogRun = file === "log/run" || file?.endsWith("/log/run");
          return file !== undefined && (script === "log/run" ? isLogRun : (file === "run" || file.endsWith("/run")) && !isLogRun);
        });

      // The take-over restarts the service only where the import left a line of run out (the log: see below).
      if (!leftOut("run")) expect(now.pid, "the service was restarted").toBe(was.pid);
      if (!leftOut("log/run") && now.logPid !== was.logPid) logsRestarted.push(entry.id);
      if (now.pid === was.pid) {
        expect(now.uptime).toBeGreaterThanOrEqual(was.uptime);
        // Not restarted: the scripts written must run exactly what was running. Restarted on them, they do.
        await hubs.ssh(host, `svc -t ${SUPERVISE}/${entry.service}`);
        const restarted = await eventually("the restarted service", async () => {
          const seen = await observe(hubs, host, entry.service, entry.port);
          return seen.pid !== was.pid && seen.tcpserver.length > 0 ? seen : undefined;
        });
        expect({ argv: restarted.argv, env: restarted.env }).toEqual({ argv: was.argv, env: was.env });
        expect(chainOf(restarted.tcpserver)).toEqual(chainOf(was.tcpserver));
      } else {
        // Restarted for a line left out: the rest of what it runs is still the same program and arguments
        // (argv[0] differs only where the import named the change).
        expect(now.argv.slice(1)).toEqual(was.argv.slice(1));
        if (now.argv[0] !== was.argv[0]) expect(entryWarnings.some((warning) => warning.includes(`argv[0] changes from ${was.argv[0]} to ${now.argv[0]}`))).toBe(true);
      }
    });

    it("no log restarts where the import left no line of log/run out", () => {
      // Run after every entry's test above. A log/run without PATH taken over by one that sets it gives multilog
      // another environment: a restart the import should name, or avoid by writing no PATH.
      expect(logsRestarted).toEqual([]);
    });

    it("a refresh of every stack taken over finds no drift", async () => {
      expect(projects.length).toBeGreaterThan(failedUps.size);
      for (const project of projects.filter((p) => !failedUps.has(p))) {
        const drift = project.drift();
        expect(drift.code, drift.stdout + drift.stderr).toBe(0);
      }
    });
  });
});
