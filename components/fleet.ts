// Fleet: mailhubs described together, as a stack file describes them:
// services every host runs, per-host overrides, the files they share and the
// rollout. Checked in the constructor with the CLI's rules and messages, then
// built as one Mailhub per host, its services and shared files given in
// MailhubArgs (two resources per host: the Mailhub and its HostConfiguration),
// all through one qmail provider (one SSH key), rolled out in batches: canary
// hosts first, then batches, each starting only when the one before is healthy.
import * as pulumi from "./pulumi-sdk";
import type { z } from "zod";
import { formatIssues, parseFleetConfig, type FleetConfig, type HostConfig } from "../lib/config";
import { certificatePathOf } from "../lib/plan-files";
import { rolloutBatches, type RolloutPolicy } from "../lib/rollout";
import type { fleetSchema } from "../lib/schema/fleet";
import type { AuthCdbArgs } from "./auth-cdb";
import { Mailhub, type MailhubArgs, type MailhubSummary } from "./mailhub";
import type { SmtpServiceOptions } from "./options";
import { QmailProvider } from "./qmail-provider";

/** The fleet as a stack file writes it (without the `qmail-fleet:` prefix): lib/schema/fleet.ts, examples/OPTIONS.md. */
export type FleetOptions = z.input<typeof fleetSchema>;

export interface FleetArgs extends FleetOptions {
  /**
   * OpenSSH private key for every host, held once in the fleet's qmail provider.
   * @default sshPrivateKey, else ssh-agent
   */
  privateKey?: pulumi.Input<string>;
  /**
   * Prefix of each Mailhub's resource name (and of its HostConfiguration's),
   * so that two fleets in one program do not collide.
   * @default `${name}-`
   */
  mailhubNamePrefix?: string;
}

export class Fleet extends pulumi.ComponentResource {
  /** The mailhubs in rollout order. */
  readonly mailhubs: Mailhub[] = [];
  /** Per host: its address, each service's listen address and banner, and the files it holds. */
  readonly summary: pulumi.Output<Record<string, MailhubSummary>>;

  constructor(name: string, args: FleetArgs, opts?: pulumi.ComponentResourceOptions) {
    super("qmail-fleet:index:Fleet", name, {}, opts);
    const { privateKey, mailhubNamePrefix = `${name}-`, ...options } = args;
    const parsed = parseFleetConfig(options);
    if (!parsed.ok) throw new pulumi.RunError(`Fleet ${name} has errors; nothing was changed:\n${formatIssues(parsed.errors)}`);
    for (const warning of parsed.warnings) void pulumi.log.warn(formatIssues([warning]), this);
    const { config } = parsed;

    const key = privateKey ?? (typeof config.sshPrivateKey === "string" ? config.sshPrivateKey : undefined);
    const provider = new QmailProvider(name, { privateKey: key }, { parent: this });
    const hostNames = config.hosts.map((h) => h.name);
    const policy = config.rollout;
    const batches = rolloutBatches(hostNames, policy);
    if (batches.length > 1) void pulumi.log.info(describeBatches(batches, policy.canary > 0), this);

    const rollout = { settleSeconds: policy.settleSeconds, healthTimeoutSeconds: policy.healthTimeoutSeconds, maxFailures: policy.maxFailures };
    const byName = new Map(config.hosts.map((h) => [h.name, h]));
    let previousBatch: Mailhub[] = [];
    batches.forEach((batch, index) => {
      const after = previousBatch.map((m) => m.configuration);
      // A later batch waits on these hosts: a failure within maxFailures is then a warning, so that it still runs.
      // In the last batch (every host, in parallel) a failed host fails the run.
      const batchRollout = index < batches.length - 1 ? { ...rollout, laterHostsWait: true } : rollout;
      const current = batch.map(
        (host) =>
          new Mailhub(`${mailhubNamePrefix}${host}`, { ...mailhubArgsOf(byName.get(host)!, config), rollout: batchRollout, after }, { parent: this, providers: [provider] }),
      );
      this.mailhubs.push(...current);
      previousBatch = current;
    });
    const rolledOut = batches.flat();
    this.summary = pulumi
      .all(this.mailhubs.map((m) => m.summary))
      .apply((summaries) => Object.fromEntries(hostNames.map((host) => [host, summaries[rolledOut.indexOf(host)]])));
    this.registerOutputs({ summary: this.summary });
  }
}

/** One host of the checked fleet as Mailhub Args: its services, and the shared files its services read. */
export function mailhubArgsOf(host: HostConfig, config: FleetConfig): MailhubArgs {
  const { services } = host;
  const reads = (test: (service: HostConfig["services"][number]) => boolean) => services.some(test);
  const tcpRules = Object.entries(config.tcpRules ?? {}).filter(([path]) => reads((s) => s.accessRules === path));
  const authUsers = host.authUsers;
  return {
    hostName: host.name,
    connection: { host: host.address, port: host.ssh.port, user: host.ssh.user, ...(host.ssh.hostKey ? { hostKey: host.ssh.hostKey } : {}) },
    ...(host.ssh.knownHostsFile ? { knownHostsFile: host.ssh.knownHostsFile } : {}),
    sudo: host.ssh.sudo,
    qmailDir: host.qmailDir,
    serviceDir: host.serviceDir,
    superviseDir: host.superviseDir,
    reportWarnings: false,
    // A checked service is a valid service input: every default filled in.
    services: services as unknown as Array<SmtpServiceOptions & { name: string }>,
    ...(host.ssl && reads((s) => certificatePathOf(s) !== undefined)
      ? { sslKeyFile: { key: host.ssl.key as string, certificate: host.ssl.certificate as string } }
      : {}),
    ...(authUsers && Array.isArray(authUsers) && reads((s) => s.auth.method === "cdb")
      ? { authCdb: { users: authUsers as AuthCdbArgs["users"], ...(typeof config.saltSecret === "string" ? { saltSecret: config.saltSecret } : {}) } }
      : {}),
    ...(config.validRcptTo && reads((s) => s.validRcptTo.cdbFile !== undefined) ? { validRcptToCdb: config.validRcptTo } : {}),
    tcpRulesCdbs: tcpRules.map(([path, set]) => ({ path, ...set })),
  };
}

/** `rollout: canary mx1; batch 2: mx2, mx3; batch 3: mx4`, shown when the program runs. */
export function describeBatches(batches: string[][], canary: boolean): string {
  const parts = batches.map((hosts, i) => `${i === 0 && canary ? "canary" : `batch ${i + 1}:`} ${hosts.join(", ")}`);
  return `rollout: ${parts.join("; ")}`;
}

export type { RolloutPolicy };
