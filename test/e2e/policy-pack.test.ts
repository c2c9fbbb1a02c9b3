// The policy pack on the real engine: four sandbox mailhubs deployed with a
// careful config, then `pulumi preview --policy-pack policy` on changes to it.
// A change breaking a mandatory rule stops the preview with the rule's
// message (an open relay the config acknowledges among them: the house rule
// stands), an advisory rule only warns, and a clean change passes. The
// rollout rule sees the fleet's batches as the engine does, through the
// hosts' dependencies.
//
// The sandbox's services listen on loopback addresses, which no rule counts
// as an MX; the changes the MX rules judge move one host's service to every
// address (ip "0"), which a preview never applies.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Mailhubs, readBanner } from "./sandbox";
import { PulumiProject } from "./pulumi-project";

const RULES = "/var/qmail/control/tcp.smtp.cdb";
const VALIDRCPTTO = "/var/qmail/control/validrcptto.cdb";
const RELAY_LOCAL = [{ address: "127.", action: "allow", env: { RELAYCLIENT: "" } }, { address: "", action: "allow" }];
const RELAY_TO_ALL = [{ address: "", action: "allow", env: { RELAYCLIENT: "" } }];
const BATCHES = { canary: 1, batchSize: 2, settleSeconds: 1, healthTimeoutSeconds: 30 };

interface Change {
  greeting?: string;
  /** Rules that let every client relay, acknowledged in the config. */
  openRelay?: boolean;
  /** The host whose service listens on every address (an MX), and whether it keeps validrcptto. */
  public?: { host: string; validRcptTo: boolean };
  rollout?: unknown;
}

describe("policy pack: pulumi preview --policy-pack policy on four mailhubs", () => {
  let hubs: Mailhubs;
  let project: PulumiProject;
  let policyConfig: string;

  const config = (change: Change = {}) => ({
    ssh: { user: "root", privateKeyFile: hubs.clientKey },
    services: [{ name: "smtpd", preset: "mx", maxConnections: 10, accessRules: RULES, ...(change.openRelay ? { acknowledge: ["open-relay"] } : {}) }],
    tcpRules: { [RULES]: { rules: change.openRelay ? RELAY_TO_ALL : RELAY_LOCAL } },
    validRcptTo: { addresses: ["postmaster@policy.test"] },
    rollout: change.rollout ?? BATCHES,
    hosts: hubs.hosts.map((host) => {
      const isPublic = change.public?.host === host.name;
      const validRcptTo = !isPublic || change.public!.validRcptTo;
      return {
        name: host.name,
        address: host.address,
        ssh: { knownHostsFile: hubs.knownHosts },
        services: [
          {
            name: "smtpd",
            ip: isPublic ? "0" : host.address,
            smtpGreeting: host.name === "mailhub1" && change.greeting ? change.greeting : `${host.name}.policy.test`,
            ...(validRcptTo ? { validRcptTo: { cdbFile: VALIDRCPTTO } } : {}),
          },
        ],
      };
    }),
  });

  /** A preview with the pack; the fleet counts as large from 4 hosts, so the rollout rule judges this one. */
  const preview = () =>
    project.run(["preview", "--non-interactive", "--diff", "--policy-pack", "policy", "--policy-pack-config", policyConfig], { allowFailure: true });

  beforeAll(async () => {
    hubs = Mailhubs.start("e2e-policy-pack", 4, "127.0.0.141");
    project = new PulumiProject("policy-pack");
    policyConfig = join(project.dir, "policy-config.json");
    writeFileSync(policyConfig, JSON.stringify({ "rollout-in-batches": { maxBatchHosts: 3 } }));
    await project.init();
    project.writeConfig(config());
    await project.up();
    for (const host of hubs.hosts) expect(await readBanner(host.address)).toBe(`220 ${host.name}.policy.test ESMTP`);
  });

  afterAll(() => hubs?.stop());

  it("a clean change passes every rule", async () => {
    project.writeConfig(config({ greeting: "welcome.policy.test" }));
    const result = await preview();
    const output = result.stdout + result.stderr;
    expect(result.code, output).toBe(0);
    expect(output).toMatch(/HostConfiguration: \(update\)\s+\[id=mailhub1\]/);
    expect(output).not.toMatch(/\[(mandatory|advisory)\]/);
  });

  it("an open relay on an MX stops the preview with the rule's message, though the config acknowledges the hazard", async () => {
    project.writeConfig(config({ openRelay: true, public: { host: "mailhub2", validRcptTo: true } }));
    const result = await preview();
    const output = result.stdout + result.stderr;
    expect(result.code, output).not.toBe(0);
    expect(output).toMatch(/\[mandatory\]\s+no-open-relay-on-mx\s+\(qmail:index:HostConfiguration: mailhub2\)/);
    expect(output).toContain(
      `host mailhub2: service smtpd (port 25 on 0) is an open relay: a rule of the tcprules at ${RULES} that matches every client (address "", "=" while tcpserver looks up host names, or one for each first octet such as 0-255.) sets RELAYCLIENT`,
    );
    // The loopback services of the other hosts are not MXs: only mailhub2 is named.
    expect(output).not.toMatch(/no-open-relay-on-mx\s+\(qmail:index:HostConfiguration: mailhub[134]\)/);
  });

  it("an MX without validrcptto only warns: the advisory rule does not stop the preview", async () => {
    project.writeConfig(config({ public: { host: "mailhub3", validRcptTo: false } }));
    const result = await preview();
    const output = result.stdout + result.stderr;
    expect(result.code, output).toBe(0);
    expect(output).toMatch(/\[advisory\]\s+validrcptto-on-mx\s+\(qmail:index:HostConfiguration: mailhub3\)/);
    expect(output).toContain("host mailhub3: MX service smtpd (port 25 on 0) accepts mail for any recipient");
  });

  it("rolling the whole fleet out at once breaks the batches rule set in the pack's config", async () => {
    project.writeConfig(config({ rollout: "parallel" }));
    const result = await preview();
    const output = result.stdout + result.stderr;
    expect(result.code, output).not.toBe(0);
    expect(output).toMatch(/\[mandatory\]\s+rollout-in-batches/);
    expect(output).toContain("the fleet: its 4 hosts would change all at once, more than 3 at once");
  });

  it("nothing the previews judged reached a host", async () => {
    for (const host of hubs.hosts) expect(await readBanner(host.address)).toBe(`220 ${host.name}.policy.test ESMTP`);
  });
});
