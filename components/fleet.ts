// Fleet: every mailhub of a FleetPlan, through one qmail provider (one SSH
// key), rolled out together or one host after another.
import * as pulumi from "@pulumi/pulumi";
import type { FleetPlan } from "../lib/host-plan";
import "./redact-debug-log";
import { Mailhub, type MailhubSummary } from "./mailhub";
import { QmailProvider } from "./qmail-provider";

export interface FleetArgs {
  plan: FleetPlan;
  /** OpenSSH private key for every host. @default ssh-agent */
  privateKey?: pulumi.Input<string>;
  /** `parallel`: all hosts at once. `sequential`: a host starts once the previous one is done. @default "parallel" */
  rollout?: "parallel" | "sequential";
}

export class Fleet extends pulumi.ComponentResource {
  readonly mailhubs: Mailhub[] = [];
  readonly summary: pulumi.Output<Record<string, MailhubSummary>>;

  constructor(name: string, args: FleetArgs, opts?: pulumi.ComponentResourceOptions) {
    super("qmail-fleet:index:Fleet", name, {}, opts);
    const provider = new QmailProvider(name, { privateKey: args.privateKey }, { parent: this });
    let previous: Mailhub | undefined;
    for (const hostPlan of args.plan.hosts) {
      const after = args.rollout === "sequential" && previous ? [previous.configuration] : [];
      const mailhub = new Mailhub(hostPlan.name, { plan: hostPlan, after }, { parent: this, providers: [provider] });
      this.mailhubs.push(mailhub);
      previous = mailhub;
    }
    this.summary = pulumi
      .all(this.mailhubs.map((m) => m.summary))
      .apply((summaries) => Object.fromEntries(args.plan.hosts.map((h, i) => [h.name, summaries[i]])));
    this.registerOutputs({ summary: this.summary });
  }
}
