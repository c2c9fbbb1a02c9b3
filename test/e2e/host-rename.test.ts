// A host renamed in the stack file, same machine: the engine creates the new
// resource (which takes the host over, changing nothing) and deletes the old
// one afterwards. The delete must leave alone what the new resource holds:
// the service stays linked, running and answering, without a restart, and
// the next run has nothing to do.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PulumiProject } from "./pulumi-project";
import { Mailhubs, readBanner, type SandboxHost } from "./sandbox";

const SMTPD = "/var/qmail/supervise/smtpd";

describe("a host renamed in the config", () => {
  let hubs: Mailhubs;
  let project: PulumiProject;
  let host: SandboxHost;

  /** Every file and link under /var/qmail and /service (supervise's own status files left out). */
  const managedFiles = () => hubs.ssh(host, "find /var/qmail /service -name supervise -prune -o ! -type d -print | sort");

  const config = (name: string) => ({
    ssh: { user: "root", privateKeyFile: hubs.clientKey },
    services: [{ name: "smtpd", preset: "mx" }],
    hosts: [{ name, address: host.address, ssh: { knownHostsFile: hubs.knownHosts }, services: [{ name: "smtpd", ip: host.address, smtpGreeting: "rename.e2e.test" }] }],
  });

  beforeAll(async () => {
    hubs = Mailhubs.start("e2e-host-rename", 1, "127.0.5.60");
    host = hubs.hosts[0];
    project = new PulumiProject("host-rename");
    await project.init();
    project.writeConfig(config("mx-old-name"));
    await project.up();
    expect(await readBanner(host.address)).toBe("220 rename.e2e.test ESMTP");
  });

  afterAll(() => hubs?.stop());

  it("keeps the host's service and files: the old resource's delete removes nothing the new one holds", async () => {
    // Give the uptime room to show a restart.
    await new Promise((r) => setTimeout(r, 2000));
    const uptimeBefore = await hubs.uptime(host, SMTPD);
    const filesBefore = await managedFiles();
    project.writeConfig(config("mx-new-name"));
    const result = await project.up();
    expect(result.stdout).toMatch(/\+ +qmail:index:HostConfiguration +mx-new-name +created/);
    expect(result.stdout).toMatch(/- +qmail:index:HostConfiguration +mx-old-name +deleted/);

    expect(await hubs.ssh(host, "readlink /service/smtpd")).toBe(`${SMTPD}\n`);
    expect(await managedFiles()).toEqual(filesBefore);
    expect(await readBanner(host.address)).toBe("220 rename.e2e.test ESMTP");
    expect(await hubs.uptime(host, SMTPD)).toBeGreaterThanOrEqual(uptimeBefore! + 1);

    // The state and the host agree: nothing to do, nothing drifted.
    await project.up(["--expect-no-changes"]);
    await project.run(["preview", "--refresh", "--expect-no-changes"]);
  });
});
