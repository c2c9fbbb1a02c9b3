// Issue 11, a stack that already has state: an update that adds a service
// whose directory already holds a hand-written one takes it over as the first
// up does. The preview says so, service by service, and the service and its
// log keep running where the new scripts run what the old ones ran. The
// hand-written log runs `multilog t ./main`, ours `multilog t s99999 n10
// ./main`: multilog's defaults spelt out, the same program and arguments.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { installService, SUPERVISE } from "./hand-written-service";
import { PulumiProject } from "./pulumi-project";
import { Mailhubs, type SandboxHost } from "./sandbox";

const PATH = "/var/qmail/bin:/usr/local/bin:/usr/bin:/bin";

async function pids(hubs: Mailhubs, host: SandboxHost, service: string): Promise<{ service: number; log: number }> {
  const dir = `${SUPERVISE}/${service}`;
  const status = await hubs.ssh(host, `svstat ${dir} ${dir}/log`);
  const [main, log] = [...status.matchAll(/: up \(pid (\d+)\)/g)];
  if (!main || !log) throw new Error(`${host.name} ${service} is not up: ${status}`);
  return { service: Number(main[1]), log: Number(log[1]) };
}

describe("an update that adds a service over a hand-written one", () => {
  let hubs: Mailhubs;
  let project: PulumiProject;
  let host: SandboxHost;
  let before: { service: number; log: number };

  // The log at multilog's own defaults, which the rendered log script spells out.
  const service = (name: string, port: number) => ({ name, preset: "mx", ip: host.address, port, maxConnections: 30, dataBytes: 20971520, log: { maxFileSize: 99999, maxFiles: 10 } });
  const fleet = (services: Array<Record<string, unknown>>) => ({
    ssh: { user: "root", privateKeyFile: hubs.clientKey },
    hosts: [{ name: host.name, address: host.address, ssh: { knownHostsFile: hubs.knownHosts }, services }],
  });

  afterAll(() => hubs?.stop());

  beforeAll(async () => {
    hubs = Mailhubs.start("e2e-import-takeover-added", 1, "127.0.4.1");
    host = hubs.hosts[0];
    project = new PulumiProject("import-takeover-added");
    await project.init();
    project.writeConfig(fleet([service("smtpd", 25)]));
    await project.up();
    // Written by hand beside the managed service: what `service("smtpd2525", 2525)` renders, in an admin's words.
    await installService(hubs, host, "smtpd2525", {
      run: [
        "#!/bin/sh",
        "exec 2>&1",
        `PATH=${PATH}; export PATH`,
        "DATABYTES=20971520; export DATABYTES",
        `exec tcpserver -vR -c 30 -l "$(head -1 /var/qmail/control/me)" -u \`id -u qmaild\` -g \`id -g qmaild\` ${host.address} 2525 /var/qmail/bin/qmail-smtpd`,
        "",
      ].join("\n"),
      logRun: `#!/bin/sh\nPATH=${PATH}\nexport PATH\nexec setuidgid qmaill multilog t ./main\n`,
    });
    before = await pids(hubs, host, "smtpd2525");
    project.writeConfig(fleet([service("smtpd", 25), service("smtpd2525", 2525)]));
  });

  it("preview: the added service is taken over, and keeps running with its log", async () => {
    const preview = await project.run(["preview", "--diff", "--non-interactive"]);
    const output = preview.stdout + preview.stderr;
    expect(output).toContain(`${host.name}: taking over service smtpd2525 already on the host`);
    expect(output).toContain(`written: ${SUPERVISE}/smtpd2525/log/run (bytes differ; runs the same programs, arguments and environment)`);
    expect(output).toContain("service smtpd2525: keeps running, no restart");
    expect(output).not.toMatch(/service smtpd:/);
  });

  it("up: our scripts, the same service and log processes", async () => {
    await project.up();
    expect(await hubs.ssh(host, `cat ${SUPERVISE}/smtpd2525/log/run`)).toContain("multilog t s99999 n10 ./main");
    expect(await pids(hubs, host, "smtpd2525")).toEqual(before);
  });
});
