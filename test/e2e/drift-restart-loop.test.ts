// `qmail-fleet drift` on a service that dies at start: supervise restarts it
// every second, so each svstat alone may read "up 0 seconds". The refresh reads
// such a service again a few seconds later and reports it restarting; one
// restarted once on purpose a moment before is not drift.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SUPERVISE } from "./hand-written-service";
import { PulumiProject } from "./pulumi-project";
import { Mailhubs, type SandboxHost } from "./sandbox";

describe("drift on a service in a restart loop", () => {
  let hubs: Mailhubs;
  let project: PulumiProject;
  let host: SandboxHost;
  const dir = `${SUPERVISE}/smtpd`;

  afterAll(() => hubs?.stop());

  beforeAll(async () => {
    hubs = Mailhubs.start("e2e-drift-restart-loop", 1, "127.0.4.2");
    host = hubs.hosts[0];
    project = new PulumiProject("drift-restart-loop");
    await project.init();
    project.writeConfig({
      ssh: { user: "root", privateKeyFile: hubs.clientKey },
      hosts: [{ name: host.name, address: host.address, ssh: { knownHostsFile: hubs.knownHosts }, services: [{ name: "smtpd", preset: "mx", ip: host.address }] }],
    });
    await project.up();
  });

  it("restarted once a moment ago: no drift", async () => {
    await hubs.ssh(host, `svc -t ${dir}`);
    const drift = project.drift();
    expect(drift.code, drift.stdout + drift.stderr).toBe(0);
  });

  it("dying at start (control/me gone, so the run script exits 111): restarting again and again", async () => {
    await hubs.ssh(host, `mv /var/qmail/control/me /var/qmail/control/me.away && svc -t ${dir}`);
    try {
      const drift = project.drift();
      expect(drift.code, drift.stdout + drift.stderr).toBe(2);
      expect(drift.stdout).toMatch(/smtpd.*restarting again and again/);
    } finally {
      await hubs.ssh(host, "mv /var/qmail/control/me.away /var/qmail/control/me");
    }
  });
});
