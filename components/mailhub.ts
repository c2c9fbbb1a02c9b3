// Mailhub: one host of the fleet, reached over SSH with its host key pinned,
// and everything qmail-fleet keeps on it as one HostConfiguration, so the host
// changes as a unit.
import * as pulumi from "@pulumi/pulumi";
import type { HostPlan } from "../lib/host-plan";
import type { RolloutSettings } from "../provider/types";
import { HostConfiguration, hostConfigurationArgs } from "./host-configuration";

export interface MailhubArgs {
  plan: HostPlan;
  /** The health gate's timing and the failures the fleet tolerates. @default settle 2 s, timeout 60 s, no failure */
  rollout?: RolloutSettings;
  /** Resources this host waits for (the previous host, when rolling out one host at a time). */
  after?: pulumi.Resource[];
}

export interface MailhubSummary {
  address: string;
  services: Record<string, { listen: string; banner: string | undefined }>;
  files: string[];
}

export class Mailhub extends pulumi.ComponentResource {
  readonly configuration: HostConfiguration;
  readonly summary: pulumi.Output<MailhubSummary>;

  constructor(name: string, args: MailhubArgs, opts?: pulumi.ComponentResourceOptions) {
    super("qmail-fleet:index:Mailhub", name, {}, opts);
    const { plan } = args;
    this.configuration = new HostConfiguration(
      name,
      { ...hostConfigurationArgs(plan), ...(args.rollout ? { rollout: args.rollout } : {}) },
      { parent: this, dependsOn: args.after ?? [] },
    );
    this.summary = this.configuration.banners.apply((banners) => ({
      address: plan.ssh.address,
      services: Object.fromEntries(
        plan.services.map((s) => [s.name, { listen: `${s.listen.ip}:${s.listen.port}`, banner: banners?.[s.name] || undefined }]),
      ),
      files: plan.files.map((f) => f.path),
    }));
    this.registerOutputs({ summary: this.summary });
  }
}
