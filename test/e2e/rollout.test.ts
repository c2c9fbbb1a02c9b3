// Safe rollout on the real engine with four sandbox mailhubs, canary 1 and
// batches of 2: a daemon that cannot start on the canary (its new port is
// taken there) is rolled back and stops the rollout; the same change healthy
// everywhere goes canary, batch, batch; a failure in the second batch stops
// the third; an SMTP session survives a restart; a new service that never
// comes up is left stopped and unlinked. In parallel, a failed host is rolled
// back while the others take the change, and the run fails; within
// maxFailures, a failure that a later batch waits on is only a warning.
import { createServer, type Server } from "node:net";
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PulumiProject } from "./pulumi-project";
import { Mailhubs, readBanner, type SandboxHost } from "./sandbox";

const SERVICE = "/var/qmail/supervise/smtpd";

/** Holds address:port so that a tcpserver cannot bind it: the fault injected on one host. */
function occupy(address: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer((socket) => socket.destroy());
    server.once("error", reject);
    server.listen(port, address, () => resolve(server));
  });
}

const release = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()));

describe("rollout: canary 1, batches of 2, on four mailhubs", () => {
  let hubs: Mailhubs;
  let project: PulumiProject;
  let port = 25;
  let greeting = (host: string) => `${host}.rollout.test`;

  const config = (extra: Record<string, unknown> = {}) => ({
    ssh: { user: "root", privateKeyFile: hubs.clientKey },
    rollout: { canary: 1, batchSize: 2, maxFailures: 0, settleSeconds: 2, healthTimeoutSeconds: 10 },
    services: [{ name: "smtpd", preset: "mx", port }],
    hosts: hubs.hosts.map((host) => ({
      name: host.name,
      address: host.address,
      ssh: { knownHostsFile: hubs.knownHosts },
      services: [{ name: "smtpd", ip: host.address, smtpGreeting: greeting(host.name) }],
    })),
    ...extra,
  });

  const runSums = () => Promise.all(hubs.hosts.map((h) => hubs.ssh(h, `sha256sum < ${SERVICE}/run`)));
  const uptimes = () => Promise.all(hubs.hosts.map((h) => hubs.uptime(h, SERVICE)));
  /** When each host's run script was last written, in nanoseconds (host clock = this machine's). */
  const runWritten = () => Promise.all(hubs.hosts.map(async (h) => BigInt((await hubs.ssh(h, `stat -c %.9Y ${SERVICE}/run`)).trim().replace(".", ""))));
  const failingUp = async () => {
    const result = await project.run(["up", "--yes", "--skip-preview", "--non-interactive"], { allowFailure: true });
    return { code: result.code, output: `${result.stdout}\n${result.stderr}` };
  };
  const host = (i: number): SandboxHost => hubs.hosts[i];

  beforeAll(async () => {
    hubs = Mailhubs.start("e2e-rollout", 4, "127.0.0.101");
    project = new PulumiProject("rollout");
    await project.init();
    project.writeConfig(config());
    await project.up();
    for (const h of hubs.hosts) expect(await readBanner(h.address)).toBe(`220 ${h.name}.rollout.test ESMTP`);
  });

  afterAll(() => hubs?.stop());

  it("1. a daemon that cannot start on the canary: the canary is rolled back and healthy, no other host is touched, up fails saying why", async () => {
    // Give uptimes room to show a restart.
    await new Promise((r) => setTimeout(r, 2000));
    const sumsBefore = await runSums();
    const uptimesBefore = await uptimes();
    const blocker = await occupy(host(0).address, 2525);
    try {
      port = 2525;
      project.writeConfig(config());
      const { code, output } = await failingUp();
      expect(code).not.toBe(0);
      expect(output).toMatch(/host mailhub1 \(root@127\.0\.0\.101\): service smtpd failed its health check/);
      expect(output).toMatch(/last lines of \/var\/qmail\/supervise\/smtpd\/log\/main\/current:/);
      expect(output).toMatch(/back on its previous configuration, and healthy there/);

      // The canary runs its old script again, and answers on the old port.
      expect(await runSums()).toEqual(sumsBefore);
      expect(await hubs.ssh(host(0), `ls -a ${SERVICE} | grep qmail-fleet || true`)).toBe("");
      expect(await readBanner(host(0).address, 25)).toBe("220 mailhub1.rollout.test ESMTP");
      expect(await hubs.uptime(host(0), SERVICE)).toBeGreaterThanOrEqual(1);
      // The others were never restarted.
      const after = await uptimes();
      for (const i of [1, 2, 3]) expect(after[i]).toBeGreaterThanOrEqual(uptimesBefore[i]!);
      // The state still records the old configuration: a preview wants the change on every host.
      const preview = await project.run(["preview", "--json"]);
      const updates = JSON.parse(preview.stdout).steps.filter((s: { op: string }) => s.op === "update");
      expect(updates).toHaveLength(4);
    } finally {
      await release(blocker);
    }
    // The host fixed, the next up converges.
    await project.up();
    for (const h of hubs.hosts) expect(await readBanner(h.address, 2525)).toBe(`220 ${h.name}.rollout.test ESMTP`);
  });

  it("2. a healthy change goes canary, then batch 2, then batch 3", async () => {
    greeting = (h) => `${h}.second.rollout.test`;
    project.writeConfig(config());
    const result = await project.up();
    expect(result.stdout + result.stderr).toMatch(/rollout: canary mailhub1; batch 2: mailhub2, mailhub3; batch 3: mailhub4/);
    const [canary, b1, b2, b3] = await runWritten();
    // Each batch starts only once the one before is healthy (2 s settle): its writes come after.
    expect(b1).toBeGreaterThan(canary + 2_000_000_000n);
    expect(b2).toBeGreaterThan(canary + 2_000_000_000n);
    expect(b3).toBeGreaterThan((b1 > b2 ? b1 : b2) + 2_000_000_000n);
    for (const h of hubs.hosts) expect(await readBanner(h.address, 2525)).toBe(`220 ${h.name}.second.rollout.test ESMTP`);
  });

  it("3. a failure in the second batch stops the third", async () => {
    const sumsBefore = await runSums();
    const blocker = await occupy(host(2).address, 2526);
    try {
      port = 2526;
      project.writeConfig(config());
      const { code, output } = await failingUp();
      expect(code).not.toBe(0);
      expect(output).toMatch(/host mailhub3 \(root@127\.0\.0\.103\): service smtpd failed its health check/);
      const sums = await runSums();
      expect(sums[0]).not.toBe(sumsBefore[0]); // the canary moved on
      expect(sums[2]).toBe(sumsBefore[2]); // the failed host is back
      expect(sums[3]).toBe(sumsBefore[3]); // the third batch was never touched
      expect(await readBanner(host(3).address, 2525)).toBe("220 mailhub4.second.rollout.test ESMTP");
    } finally {
      await release(blocker);
    }
    await project.up();
    for (const h of hubs.hosts) expect(await readBanner(h.address, 2526)).toBe(`220 ${h.name}.second.rollout.test ESMTP`);
  });

  it("4. an SMTP session opened before a greeting change completes after the restart", async () => {
    const session = connect({ host: host(3).address, port: 2526 });
    let received = "";
    session.on("data", (chunk) => (received += chunk.toString()));
    await new Promise((r) => session.once("data", r));
    expect(received).toMatch(/^220 mailhub4\.second\.rollout\.test/);

    greeting = (h) => `${h}.third.rollout.test`;
    project.writeConfig(config());
    await project.up();
    expect(await readBanner(host(3).address, 2526)).toBe("220 mailhub4.third.rollout.test ESMTP");

    // The old session still talks to the daemon it was given, which was not cut by the restart.
    const closed = new Promise((r) => session.once("close", r));
    session.write("EHLO still-here\r\nQUIT\r\n");
    await closed;
    expect(received).toMatch(/250[- ]/);
    expect(received).toMatch(/221 /);
  });

  it("5. a new service that never becomes healthy is left stopped and unlinked", async () => {
    const blocker = await occupy(host(0).address, 2626);
    try {
      const base = config();
      project.writeConfig({
        ...base,
        hosts: base.hosts.map((h) => (h.name === "mailhub1" ? { ...h, services: [...h.services, { name: "extra", ip: h.address, port: 2626, preset: "mx" }] } : h)),
      });
      const { code, output } = await failingUp();
      expect(code).not.toBe(0);
      expect(output).toMatch(/service extra failed its health check/);
      expect(await hubs.ssh(host(0), "ls /service")).toBe("smtpd\n");
      expect(await hubs.ssh(host(0), "test -e /var/qmail/supervise/extra && echo present || echo gone")).toBe("gone\n");
      expect(await hubs.processes(host(0), /supervise extra/)).toEqual([]);
      expect(await readBanner(host(0).address, 2526)).toBe("220 mailhub1.third.rollout.test ESMTP");
    } finally {
      await release(blocker);
    }
  });

  it("6. in parallel: the failed host is rolled back, every other host takes the change, and up fails", async () => {
    const sumsBefore = await runSums();
    const blocker = await occupy(host(1).address, 2527);
    try {
      port = 2527;
      project.writeConfig(config({ rollout: "parallel" }));
      const { code, output } = await failingUp();
      expect(code).not.toBe(0);
      expect(output).toMatch(/host mailhub2 \(root@127\.0\.0\.102\): service smtpd failed its health check/);
      expect(output).toMatch(/back on its previous configuration, and healthy there/);
      const sums = await runSums();
      expect(sums[1]).toBe(sumsBefore[1]);
      for (const i of [0, 2, 3]) expect(await readBanner(host(i).address, 2527)).toBe(`220 ${host(i).name}.third.rollout.test ESMTP`);
      expect(await readBanner(host(1).address, 2526)).toBe("220 mailhub2.third.rollout.test ESMTP");
    } finally {
      await release(blocker);
    }
    await project.up();
    expect(await readBanner(host(1).address, 2527)).toBe("220 mailhub2.third.rollout.test ESMTP");
  });

  it("7. within maxFailures, a canary that fails is a warning: the later batches take the change", async () => {
    const sumsBefore = await runSums();
    const blocker = await occupy(host(0).address, 2528);
    try {
      port = 2528;
      project.writeConfig(config({ rollout: { canary: 1, batchSize: 2, maxFailures: 1, settleSeconds: 2, healthTimeoutSeconds: 10 } }));
      const { code, output } = await failingUp();
      expect(output).toMatch(/host mailhub1 \(root@127\.0\.0\.101\): service smtpd failed its health check/);
      expect(output).toMatch(/1 of at most 1 failed hosts in this run; the rollout goes on/);
      expect(code).toBe(0);
      expect((await runSums())[0]).toBe(sumsBefore[0]);
      for (const i of [1, 2, 3]) expect(await readBanner(host(i).address, 2528)).toBe(`220 ${host(i).name}.third.rollout.test ESMTP`);
    } finally {
      await release(blocker);
    }
    await project.up();
    expect(await readBanner(host(0).address, 2528)).toBe("220 mailhub1.third.rollout.test ESMTP");
  });
});
