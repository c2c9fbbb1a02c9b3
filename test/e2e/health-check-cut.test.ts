// The SSH connection cut after the new files went live, while the health check
// waits for the restarted service to settle, on one sandbox mailhub under a
// rollout that tolerates a failed host: a lost connection is no verdict on the
// service and nothing can be put back over it, so `pulumi up` fails naming the
// host and the cut (not a failed health check, a rollback over a dead
// connection, and the state on the old configuration while the host runs the
// new one), and the next `pulumi up` converges. Then a
// refresh of the converged host shows no change at all.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PulumiProject, type PulumiResult } from "./pulumi-project";
import { Mailhubs, readBanner, REPO, type SandboxHost } from "./sandbox";

const SMTPD = "/var/qmail/supervise/smtpd";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("connection cut during the health check", () => {
  let hubs: Mailhubs;
  let project: PulumiProject;
  let host: SandboxHost;

  const config = (greeting: string) => ({
    ssh: { user: "root", privateKeyFile: hubs.clientKey },
    // Tolerates a failed host; a long settle keeps the health check open.
    rollout: { maxFailures: 1, settleSeconds: 8, healthTimeoutSeconds: 30 },
    services: [{ name: "smtpd", preset: "mx" }],
    hosts: [{ name: host.name, address: host.address, ssh: { knownHostsFile: hubs.knownHosts }, services: [{ name: "smtpd", ip: host.address, smtpGreeting: greeting }] }],
  });

  /** The host's sshd session processes ("sshd: root@notty"): the provider's connection. */
  const sshSessions = (): number[] => {
    const cgroup = readFileSync(join(host.root, "cgroup"), "utf8").trim();
    return readFileSync(join(cgroup, "cgroup.procs"), "utf8")
      .split("\n")
      .filter(Boolean)
      .map(Number)
      .filter((pid) => {
        try {
          return readFileSync(`/proc/${pid}/cmdline`, "utf8").startsWith("sshd: root");
        } catch {
          return false;
        }
      });
  };

  beforeAll(async () => {
    hubs = Mailhubs.start("e2e-health-check-cut", 1, "127.0.3.20");
    host = hubs.hosts[0];
    project = new PulumiProject("health-check-cut");
    await project.init();
    project.writeConfig(config("before.cut.e2e.test"));
    await project.up();
    expect(await readBanner(host.address)).toBe("220 before.cut.e2e.test ESMTP");
  });

  afterAll(() => hubs?.stop());

  it("up fails naming the host and the lost connection; the next up converges with no previous copy left", async () => {
    project.writeConfig(config("after.cut.e2e.test"));
    const child = spawn(join(REPO, "sandbox", "pulumi"), ["--cwd", project.dir, "up", "--yes", "--skip-preview", "--non-interactive", "--stack", project.stack], {
      env: { ...process.env, PULUMI_BACKEND_URL: `file://${project.stateDir}` },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (c: Buffer) => (output += c.toString()));
    child.stderr.on("data", (c: Buffer) => (output += c.toString()));
    const done = new Promise<PulumiResult>((resolve) => child.on("close", (code) => resolve({ code: code ?? 1, stdout: output, stderr: "" })));

    // The service answers with the new greeting: the files are live, it restarted, and the health check waits out its 8 s.
    const deadline = Date.now() + 60_000;
    while ((await readBanner(host.address).catch(() => "")) !== "220 after.cut.e2e.test ESMTP") {
      expect(Date.now() < deadline, `no restart on the new run script:\n${output}`).toBe(true);
      await sleep(100);
    }
    const sessions = sshSessions();
    expect(sessions.length, "sshd session processes").toBeGreaterThanOrEqual(1);
    for (const pid of sessions) process.kill(pid, "SIGKILL");

    const result = await done;
    expect(result.code, result.stdout).not.toBe(0);
    // How the cut shows depends on the moment (a lost connection, or no answer to the next command); either way it is
    // reported as a cut after the switch, not as a failed health check followed by a rollback that fails too.
    expect(result.stdout).toMatch(/error: host mailhub1 \(root@127\.0\.3\.20\)[^\n]*after the new files went live/);
    expect(result.stdout).not.toMatch(/failed its health check|Putting the previous configuration back/);
    expect(result.stdout).not.toMatch(/the rollout goes on/);

    await project.up();
    expect(await hubs.ssh(host, `find /var/qmail /service -name '.*.qmail-fleet-*'`)).toBe("");
    expect(await readBanner(host.address)).toBe("220 after.cut.e2e.test ESMTP");
    await project.up(["--expect-no-changes"]);
  });

  it("a refresh of the converged host shows no change: the rollout settings are not read from the host, and stay", async () => {
    const preview = await project.run(["preview", "--refresh", "--diff"]);
    expect(preview.stdout).not.toMatch(/^\s*[-+~] rollout/m);
    expect(preview.stdout).not.toMatch(/~ qmail:index:HostConfiguration: \(refresh\)/);
  });
});
