// A take-over whose health check fails: the host goes back to the hand-written
// service it ran before, not to "no service". No earlier run put the service
// there, yet it is not this run's to remove: its directory, its own run and
// log/run scripts, its link and its logs stay, and it keeps answering.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { installService, SUPERVISE } from "./hand-written-service";
import { PulumiProject } from "./pulumi-project";
import { Mailhubs, readBanner, type SandboxHost } from "./sandbox";

const TCP_SMTP = "/var/qmail/control/tcp.smtp.cdb";

describe("a take-over that fails its health check", () => {
  let hubs: Mailhubs;
  let project: PulumiProject;
  let host: SandboxHost;
  const dir = `${SUPERVISE}/smtpd`;
  const handWritten = () => ({
    run: [
      "#!/bin/sh",
      "exec 2>&1",
      "echo hand-written smtpd starting",
      `exec tcpserver -v -R -c 20 -l "$(head -1 /var/qmail/control/me)" -u \`id -u qmaild\` -g \`id -g qmaild\` ${host.address} 25 /var/qmail/bin/qmail-smtpd`,
      "",
    ].join("\n"),
    logRun: "#!/bin/sh\nexec setuidgid qmaill multilog t ./main\n",
  });

  afterAll(() => hubs?.stop());

  beforeAll(async () => {
    hubs = Mailhubs.start("e2e-import-takeover-rollback", 1, "127.0.5.12");
    host = hubs.hosts[0];
    project = new PulumiProject("import-takeover-rollback");
    await project.init();
    await installService(hubs, host, "smtpd", handWritten());
    // The declared service refuses every client, the health check's connection too.
    project.writeConfig({
      ssh: { user: "root", privateKeyFile: hubs.clientKey },
      tcpRules: { [TCP_SMTP]: { rules: [{ address: "", action: "deny" }] } },
      hosts: [{ name: host.name, address: host.address, ssh: { knownHostsFile: hubs.knownHosts }, services: [{ name: "smtpd", preset: "mx", ip: host.address, accessRules: TCP_SMTP }] }],
    });
  });

  it("up fails, and the hand-written service is back, running and answering", async () => {
    const result = await project.run(["up", "--yes", "--skip-preview", "--non-interactive"], { allowFailure: true });
    const output = result.stdout + result.stderr;
    expect(result.code).not.toBe(0);
    expect(output).toMatch(/service smtpd failed its health check/);
    expect(output).toMatch(/back on its previous configuration, and healthy there/);

    expect(await hubs.ssh(host, "readlink /service/smtpd")).toBe(`${dir}\n`);
    expect(await hubs.ssh(host, `cat ${dir}/run`)).toBe(handWritten().run);
    expect(await hubs.ssh(host, `cat ${dir}/log/run`)).toBe(handWritten().logRun);
    expect(await hubs.ssh(host, `ls -a ${dir} ${dir}/log | grep qmail-fleet || true`)).toBe("");
    expect(await hubs.ssh(host, `cat ${dir}/log/main/current`)).toContain("hand-written smtpd starting");
    expect(await hubs.uptime(host, dir)).toBeGreaterThanOrEqual(1);
    expect(await readBanner(host.address, 25)).toBe(`220 ${host.name}.sandbox.test ESMTP`);
  });
});
