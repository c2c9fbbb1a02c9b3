// Fleet: every mailhub of a FleetPlan, rolled out together or one host after
// another.
import * as pulumi from "@pulumi/pulumi";
import type { FleetPlan } from "../lib/host-plan";
import { Host, type HostSummary } from "./host";

export interface FleetArgs {
  plan: FleetPlan;
  /** OpenSSH private key for every host; undefined to use ssh-agent. */
  privateKey?: pulumi.Input<string>;
  /** `parallel` (default): all hosts at once. `sequential`: a host starts once the previous one is done. */
  rollout?: "parallel" | "sequential";
}

export class Fleet extends pulumi.ComponentResource {
  readonly hosts: Host[] = [];
  readonly summary: pulumi.Output<Record<string, HostSummary>>;

  constructor(name: string, args: FleetArgs, opts?: pulumi.ComponentResourceOptions) {
    super("qmail-fleet:index:Fleet", name, {}, opts);
    let previous: Host | undefined;
    for (const hostPlan of args.plan.hosts) {
      const after = args.rollout === "sequential" && previous ? previous.services.map((s) => s.supervised) : [];
      const host = new Host(hostPlan.name, { plan: hostPlan, privateKey: args.privateKey, after }, { parent: this });
      this.hosts.push(host);
      previous = host;
    }
    this.summary = pulumi
      .all(this.hosts.map((h) => h.summary))
      .apply((summaries) => Object.fromEntries(this.hosts.map((h, i) => [args.plan.hosts[i].name, summaries[i]])));
    this.registerOutputs({ summary: this.summary });
  }
}
