// A stack file's config of any size reaches the program. Linux limits one
// environment string to 128 KiB (MAX_ARG_STRLEN), and the language host once
// passed the whole config in one (PULUMI_CONFIG): a validrcptto list of some
// 20,000 addresses written inline stopped the engine with "argument list too
// long" before the program started. Here 50,000 inline addresses go through a
// preview on the real engine, which starts the program, reads the config and
// plans the fleet; then `up` puts the cdb on the host, which must hold every
// one of the 50,000 addresses, and destroy takes it away. One sandbox host.
import { execFileSync } from "node:child_process";
import { statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Mailhubs } from "./sandbox";
import { PulumiProject } from "./pulumi-project";

const ADDRESSES = 50_000;
const CDB = "/var/qmail/control/validrcptto.cdb";
const MAX_ARG_STRLEN = 128 * 1024;

describe("inline config larger than one environment string", () => {
  let hubs: Mailhubs;
  let project: PulumiProject;
  const addresses = Array.from({ length: ADDRESSES }, (_, i) => `user${i}@inline.e2e.test`);

  beforeAll(async () => {
    hubs = Mailhubs.start("e2e-inline-config", 1, "127.0.0.221");
    project = new PulumiProject("inline-config");
    await project.init();
  });

  afterAll(() => hubs?.stop());

  it(`preview with ${ADDRESSES} inline validRcptTo addresses starts the program and plans the fleet`, async () => {
    project.writeConfig({
      ssh: { user: "root", privateKeyFile: hubs.clientKey },
      services: [
        { name: "smtpd", preset: "mx", maxConnections: 10, validRcptTo: { cdbFile: CDB } },
      ],
      validRcptTo: { addresses },
      hosts: hubs.hosts.map((host) => ({
        name: host.name,
        address: host.address,
        ssh: { knownHostsFile: hubs.knownHosts },
        services: [{ name: "smtpd", ip: host.address, smtpGreeting: `${host.name}.inline.e2e.test` }],
      })),
    });
    // The addresses alone are far more than one environment string may hold.
    expect(statSync(project.stackFile).size).toBeGreaterThan(4 * MAX_ARG_STRLEN);

    const result = await project.run(["preview", "--diff", "--non-interactive"], { allowFailure: true });
    const output = `${result.stdout}\n${result.stderr}`;
    expect(output).not.toMatch(/argument list too long/i);
    expect(result.code, output).toBe(0);
    expect(result.stdout).toMatch(/\+ \d+ to create/);
    // Every address arrived: the plan's summary of the cdb counts them all.
    expect(result.stdout).toContain(`validrcptto.cdb: ${ADDRESSES.toLocaleString("en-US")} addresses`);
  });

  it(`up puts all ${ADDRESSES} addresses into validrcptto.cdb on the host; destroy takes it away`, async () => {
    const host = hubs.hosts[0];
    await project.up();
    // Every key of the host's cdb (its /var/qmail is a directory of the sandbox), listed by tinycdb:
    // exactly the addresses of the stack file.
    const keys = execFileSync("cdb", ["-l", join(host.root, "root", CDB)], { maxBuffer: 64 * 1024 * 1024 })
      .toString()
      .split("\n")
      .filter((line) => line !== "")
      .map((line) => {
        const match = /^\+(\d+):(.*)$/.exec(line);
        if (!match || Number(match[1]) !== Buffer.byteLength(match[2])) throw new Error(`unexpected cdb -l line ${JSON.stringify(line)}`);
        return match[2];
      });
    expect(keys).toHaveLength(ADDRESSES);
    expect([...keys].sort()).toEqual([...addresses].sort());
    expect(await hubs.ssh(host, `cdb -q ${CDB} user49999@inline.e2e.test >/dev/null; echo $?`)).toBe("0\n");
    expect(await hubs.ssh(host, `cdb -q ${CDB} user50000@inline.e2e.test >/dev/null; echo $?`)).toBe("100\n");

    await project.run(["destroy", "--yes", "--skip-preview", "--non-interactive"]);
    expect(await hubs.ssh(host, `test -e ${CDB} && echo present || echo gone`)).toBe("gone\n");
    expect(await hubs.ssh(host, "ls -A /service")).toBe("");
  });
});
