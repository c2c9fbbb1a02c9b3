// Fleet: every mailhub of a FleetPlan, through one qmail provider (one SSH
// key), rolled out in the batches the rollout policy gives: canary hosts
// first, then batches, each starting only when the one before is healthy.
import * as pulumi from "@pulumi/pulumi";
import type { FleetPlan } from "../lib/host-plan";
import { normalizeRollout, rolloutBatches, type RolloutPolicy } from "../lib/rollout";
import "./redact-debug-log";
import { Mailhub, type MailhubSummary } from "./mailhub";
import { QmailProvider } from "./qmail-provider";

export interface FleetArgs {
  plan: FleetPlan;
  /** OpenSSH private key for every host. @default ssh-agent */
  privateKey?: pulumi.Input<string>;
  /** Canary, batches, failures tolerated and the health gate's timing. @default parallel: one batch of every host */
  rollout?: RolloutPolicy;
}

export class Fleet extends pulumi.ComponentResource {
  readonly mailhubs: Mailhub[] = [];
  readonly summary: pulumi.Output<Record<string, MailhubSummary>>;

  constructor(name: string, args: FleetArgs, opts?: pulumi.ComponentResourceOptions) {
    super("qmail-fleet:index:Fleet", name, {}, opts);
    const provider = new QmailProvider(name, { privateKey: args.privateKey }, { parent: this });
    const hostNames = args.plan.hosts.map((h) => h.name);
    const policy = args.rollout ?? normalizeRollout(undefined, hostNames.length);
    const batches = rolloutBatches(hostNames, policy);
    if (batches.length > 1) void pulumi.log.info(describeBatches(batches, policy.canary > 0), this);

    const rollout = { settleSeconds: policy.settleSeconds, healthTimeoutSeconds: policy.healthTimeoutSeconds, maxFailures: policy.maxFailures };
    const byName = new Map(args.plan.hosts.map((h) => [h.name, h]));
    let previousBatch: Mailhub[] = [];
    for (const batch of batches) {
      const after = previousBatch.map((m) => m.configuration);
      const current = batch.map(
        (host) => new Mailhub(host, { plan: byName.get(host)!, rollout, after }, { parent: this, providers: [provider] }),
      );
      this.mailhubs.push(...current);
      previousBatch = current;
    }
    const rolledOut = batches.flat();
    this.summary = pulumi
      .all(this.mailhubs.map((m) => m.summary))
      .apply((summaries) => Object.fromEntries(hostNames.map((host) => [host, summaries[rolledOut.indexOf(host)]])));
    this.registerOutputs({ summary: this.summary });
  }
}

/** `rollout: canary mx1; batch 2: mx2, mx3; batch 3: mx4`, shown when the program runs. */
export function describeBatches(batches: string[][], canary: boolean): string {
  const parts = batches.map((hosts, i) => `${i === 0 && canary ? "canary" : `batch ${i + 1}:`} ${hosts.join(", ")}`);
  return `rollout: ${parts.join("; ")}`;
}
