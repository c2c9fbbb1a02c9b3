// The house rules (lib/policy/rules.ts) that can be decided without hosts or
// state, run on the head config's plan: the same functions the policy pack
// runs inside `pulumi preview --policy-pack policy`, on the same inputs.
// Levels are the rules' defaults; the pack's config can set them otherwise.
import type { FleetConfig } from "../../lib/config";
import type { FleetPlan } from "../../lib/host-plan";
import { checkAll, fleetOfPlan, type PolicyResult } from "../../lib/policy/rules";
import { providerInputs } from "./fleet-diff";

export type { PolicyResult };

export function offlinePolicyResults(config: FleetConfig, plan: FleetPlan): PolicyResult[] {
  const hosts = plan.hosts.map((host) => providerInputs(host, host.name));
  return checkAll(fleetOfPlan(hosts, config.rollout));
}
