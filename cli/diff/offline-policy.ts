// The house rules (lib/policy/rules.ts) that can be decided without hosts or
// state, run on the head config's plan: the same functions the policy pack
// runs inside `pulumi preview --policy-pack policy`, on the same inputs.
// Levels and settings are the rules' defaults, or the pack's config file's.
import type { FleetConfig } from "../../lib/config";
import type { FleetPlan } from "../../lib/host-plan";
import { checkAll, fleetOfPlan, type PolicyConfig, type PolicyResult } from "../../lib/policy/rules";
import { providerInputs } from "./fleet-diff";

export type { PolicyResult };

export function offlinePolicyResults(config: FleetConfig, plan: FleetPlan, policy: PolicyConfig = {}): PolicyResult[] {
  const hosts = plan.hosts.map((host) => providerInputs(host, host.name));
  return checkAll(fleetOfPlan(hosts, config.rollout), policy);
}
