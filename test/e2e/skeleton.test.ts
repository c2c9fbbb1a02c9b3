// The walking skeleton on the real engine: two sandbox mailhubs, `pulumi up`,
// a no-op second up, a greeting change that restarts one host only, destroy.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Mailhubs, readBanner } from "./sandbox";
import { PulumiProject } from "./pulumi-project";

const SERVICE = "/var/qmail/supervise/smtpd";

describe("skeleton: two mailhubs on the real Pulumi engine", () => {
  let hubs: Mailhubs;
  let project: PulumiProject;

  const config = (greeting1: string) => ({
    ssh: { user: "root", privateKeyFile: hubs.clientKey },
    services: [{ name: "smtpd", preset: "mx", maxConnections: 10 }],
    hosts: hubs.hosts.map((host) => ({
      name: host.name,
      address: host.address,
      ssh: { knownHostsFile: hubs.knownHosts },
      services: [
        { name: "smtpd", ip: host.address, smtpGreeting: host.name === "mailhub1" ? greeting1 : `${host.name}.e2e.test` },
      ],
    })),
  });

  beforeAll(async () => {
    hubs = Mailhubs.start("e2e-skeleton", 2, "127.0.0.21");
    project = new PulumiProject("skeleton");
    await project.init();
  });

  afterAll(() => hubs?.stop());

  it("up: both services run and answer with their banner", async () => {
    project.writeConfig(config("mailhub1.e2e.test"));
    const result = await project.up();
    expect(result.stdout).toMatch(/created/);
    for (const host of hubs.hosts) {
      expect(await hubs.uptime(host, `/service/smtpd`)).toBeGreaterThanOrEqual(1);
      expect(await readBanner(host.address)).toBe(`220 ${host.name}.e2e.test ESMTP`);
    }
  });

  it("second up: no changes", async () => {
    const result = await project.up(["--expect-no-changes"]);
    expect(result.stdout).not.toMatch(/\b(created|updated|replaced|deleted)\b/);
  });

  it("a new greeting on one host changes and restarts that host only", async () => {
    const [one, two] = [hubs.host("mailhub1"), hubs.host("mailhub2")];
    const runBefore = { one: await hubs.ssh(one, `sha256sum ${SERVICE}/run`), two: await hubs.ssh(two, `sha256sum ${SERVICE}/run`) };
    // Give the uptimes room to tell a restart from a running service.
    await new Promise((r) => setTimeout(r, 3000));
    const uptimeBefore = { one: (await hubs.uptime(one, SERVICE))!, two: (await hubs.uptime(two, SERVICE))! };

    project.writeConfig(config("welcome.e2e.test"));
    const result = await project.up();
    expect(result.stdout).toMatch(/HostConfiguration mailhub1 updated/);
    expect(result.stdout).not.toMatch(/mailhub2[^\n]* updated/);

    expect(await hubs.ssh(one, `sha256sum ${SERVICE}/run`)).not.toBe(runBefore.one);
    expect(await hubs.ssh(two, `sha256sum ${SERVICE}/run`)).toBe(runBefore.two);
    expect(await hubs.uptime(one, SERVICE)).toBeLessThan(uptimeBefore.one);
    expect(await hubs.uptime(two, SERVICE)).toBeGreaterThanOrEqual(uptimeBefore.two);
    expect(await readBanner(one.address)).toBe("220 welcome.e2e.test ESMTP");
  });

  it("destroy: services unlinked and stopped, no supervise left", async () => {
    await project.run(["destroy", "--yes", "--skip-preview", "--non-interactive"]);
    for (const host of hubs.hosts) {
      expect(await hubs.ssh(host, "ls -A /service")).toBe("");
      expect(await hubs.ssh(host, `test -e ${SERVICE} && echo present || echo gone`)).toBe("gone\n");
      expect(await hubs.processes(host, /supervise|tcpserver|multilog/)).toEqual([]);
    }
  });
});
