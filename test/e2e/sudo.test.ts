// A non-root SSH user with sudo, on the real engine: one sandbox mailhub, the
// deploy user qmailfleet-deploy (made by sandbox/install-deps, allowed
// `/bin/sh` as root without a password) pushes an MX service and a
// validrcptto.cdb through `sudo -n sh -c ...`; every file is owned as
// declared, no root login happens; the same user without sudo fails clearly;
// destroy through sudo leaves nothing running.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseFleetConfig } from "../../lib/config";
import type { HostPlan } from "../../lib/host-plan";
import { planFleet } from "../../lib/plan";
import { PulumiProject } from "./pulumi-project";
import { Mailhubs, readBanner, type SandboxHost } from "./sandbox";

const DEPLOY_USER = "qmailfleet-deploy";
const ADDRESS = "127.0.0.51";
const CONTROL = "/var/qmail/control";
const SERVICE = "/var/qmail/supervise/smtpd";
const run = promisify(execFile);

describe("a non-root SSH user with sudo", () => {
  let hubs: Mailhubs;
  let host: SandboxHost;
  let project: PulumiProject;

  const config = (sudo: boolean, addresses: string[]) => ({
    ssh: { user: DEPLOY_USER, sudo, privateKeyFile: hubs.clientKey },
    validRcptTo: { addresses },
    services: [{ name: "smtpd", preset: "mx", maxConnections: 10, validRcptTo: { cdbFile: `${CONTROL}/validrcptto.cdb` } }],
    hosts: [
      {
        name: host.name,
        address: host.address,
        ssh: { knownHostsFile: hubs.knownHosts },
        services: [{ name: "smtpd", ip: ADDRESS, smtpGreeting: "sudo.e2e.test" }],
      },
    ],
  });

  function plan(addresses: string[]): HostPlan {
    const parsed = parseFleetConfig(config(true, addresses));
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
    return planFleet(parsed.config).hosts[0];
  }

  const sshdLog = () => readFileSync(join(host.root, "sshd.log"), "utf8");
  const logins = (log: string) => [...log.matchAll(/Accepted publickey for (\S+)/g)].map((m) => m[1]);

  /** Runs a command as the deploy user with the real OpenSSH client. */
  async function sshAsDeployUser(command: string): Promise<string> {
    const { stdout } = await run("ssh", [
      "-n", "-i", hubs.clientKey, "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
      "-o", `UserKnownHostsFile=${hubs.knownHosts}`, `${DEPLOY_USER}@${host.address}`, command,
    ]);
    return stdout;
  }

  beforeAll(async () => {
    hubs = Mailhubs.start("e2e-sudo", 1, ADDRESS);
    host = hubs.hosts[0];
    project = new PulumiProject("sudo");
    await project.init();
  });

  afterAll(() => hubs?.stop());

  it("the deploy user logs in with the sandbox key and is not root", async () => {
    expect(await sshAsDeployUser("id -un")).toBe(`${DEPLOY_USER}\n`);
    expect(await sshAsDeployUser("sudo -n sh -c 'id -un'")).toBe("root\n");
  });

  it("up with sudo: files owned as declared, service up, every login by the deploy user", async () => {
    const logBefore = sshdLog().length;
    project.writeConfig(config(true, ["postmaster@e2e.test"]));
    const result = await project.up();
    expect(result.stdout).toMatch(/created/);

    // Only the up's logins, before the checks below log in as root.
    const upLogins = logins(sshdLog().slice(logBefore));
    expect(upLogins.length).toBeGreaterThan(0);
    expect(upLogins.filter((user) => user !== DEPLOY_USER)).toEqual([]);

    const expected = plan(["postmaster@e2e.test"]);
    const entries = [...expected.files, ...expected.directories];
    const stats = await hubs.ssh(host, entries.map((e) => `stat -c '%n %U:%G:%a' ${e.path}`).join("; "));
    expect(stats.trim().split("\n")).toEqual(entries.map((e) => `${e.path} ${e.owner}:${e.group}:${e.mode.toString(8)}`));
    // What matters most under sudo: not left owned by the deploy user.
    expect(stats).not.toContain(DEPLOY_USER);
    expect(stats).toContain(`${CONTROL}/validrcptto.cdb root:nofiles:644`);
    expect(stats).toContain(`${SERVICE}/log/main qmaill:nofiles:750`);

    expect(await hubs.uptime(host, "/service/smtpd")).toBeGreaterThanOrEqual(1);
    expect(await readBanner(ADDRESS)).toBe("220 sudo.e2e.test ESMTP");
  });

  it("the same user without sudo fails, saying permission was denied on the file it could not write", async () => {
    const logBefore = sshdLog().length;
    project.writeConfig(config(false, ["postmaster@e2e.test", "abuse@e2e.test"]));
    const result = await project.run(["up", "--yes", "--skip-preview", "--non-interactive"], { allowFailure: true });
    expect(result.code).not.toBe(0);
    const output = `${result.stdout}\n${result.stderr}`;
    expect(output).toContain(
      `host ${host.name} (${DEPLOY_USER}@${ADDRESS}): staging ${CONTROL}/validrcptto.cdb failed (exit 2): `,
    );
    expect(output).toMatch(/Permission denied/);
    expect(output).toContain(`${DEPLOY_USER} is not root and ssh.sudo is off: set ssh.sudo: true`);
    expect(output).toContain(`No file on ${host.name} went live`);
    expect(logins(sshdLog().slice(logBefore)).filter((user) => user !== DEPLOY_USER)).toEqual([]);
    // Nothing was written: the cdb on the host is still the first one.
    const first = plan(["postmaster@e2e.test"]).files.find((f) => f.path === `${CONTROL}/validrcptto.cdb`)!;
    expect(await hubs.ssh(host, `sha256sum < ${CONTROL}/validrcptto.cdb`)).toBe(
      `${createHash("sha256").update(first.content).digest("hex")}  -\n`,
    );
  });

  it("with sudo again the change goes through", async () => {
    project.writeConfig(config(true, ["postmaster@e2e.test", "abuse@e2e.test"]));
    await project.up();
    expect(await hubs.ssh(host, `stat -c '%U:%G:%a' ${CONTROL}/validrcptto.cdb`)).toBe("root:nofiles:644\n");
    expect(await readBanner(ADDRESS)).toBe("220 sudo.e2e.test ESMTP");
  });

  it("destroy through sudo: service unlinked and stopped, no supervise left", async () => {
    const logBefore = sshdLog().length;
    await project.run(["destroy", "--yes", "--skip-preview", "--non-interactive"]);
    expect(logins(sshdLog().slice(logBefore)).filter((user) => user !== DEPLOY_USER)).toEqual([]);
    expect(await hubs.ssh(host, "ls -A /service")).toBe("");
    expect(await hubs.ssh(host, `test -e ${SERVICE} && echo present || echo gone`)).toBe("gone\n");
    expect(await hubs.ssh(host, `test -e ${CONTROL}/validrcptto.cdb && echo present || echo gone`)).toBe("gone\n");
    expect(await hubs.processes(host, /supervise|tcpserver|multilog/)).toEqual([]);
  });
});
