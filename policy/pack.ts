// The policy pack: lib/policy's house rules run by the Pulumi engine on the
// qmail provider's HostConfigurations (compiled into dist/, started through
// index.js), each rule a policy of its own so the fleet sets its level
// (mandatory, advisory, disabled) in the pack's config:
//
//   pulumi preview --policy-pack policy --policy-pack-config policy-config.json
//   { "validrcptto-on-mx": "mandatory", "rollout-in-batches": { "enforcementLevel": "advisory", "maxBatchHosts": 20 } }
//
// Host rules read one resource's inputs; the rollout rule reads the stack:
// HostConfigurations of one qmail provider are one fleet, and a host's batch
// is the one after the latest batch of the hosts it waits for (dependsOn).
import { PolicyPack, type PolicyResource, type ResourceValidationPolicy, type StackValidationPolicy } from "@pulumi/policy";
import {
  checkFleet,
  checkHostRule,
  DEFAULT_ENFORCEMENT,
  DEFAULT_MAX_BATCH_HOSTS,
  DEFAULT_SSL_KEY_GROUP,
  HOST_RULE_NAMES,
  RULE_DESCRIPTIONS,
  type HostRuleName,
  type PolicyConfig,
  type PolicyHost,
} from "../lib/policy/rules";
import { HOST_CONFIGURATION_TYPE } from "../provider/types";

/** The values a rule compares with, settable beside its enforcementLevel in the pack's config. */
const RULE_SETTINGS: Partial<Record<HostRuleName | "rollout-in-batches", ResourceValidationPolicy["configSchema"]>> = {
  "ssl-key-file-permissions": { properties: { group: { type: "string", default: DEFAULT_SSL_KEY_GROUP } } },
  "rollout-in-batches": { properties: { maxBatchHosts: { type: "integer", minimum: 1, default: DEFAULT_MAX_BATCH_HOSTS } } },
};

/** The rules' settings from a policy's config; the level is the engine's to apply, so every rule runs here as mandatory. */
function configOf(rule: HostRuleName | "rollout-in-batches", settings: { group?: string; maxBatchHosts?: number }): PolicyConfig {
  return {
    enforcement: { [rule]: "mandatory" },
    ...(settings.group !== undefined ? { sslKeyGroup: settings.group } : {}),
    ...(settings.maxBatchHosts !== undefined ? { maxBatchHosts: settings.maxBatchHosts } : {}),
  };
}

const hostPolicies: ResourceValidationPolicy[] = HOST_RULE_NAMES.map((rule) => ({
  name: rule,
  description: RULE_DESCRIPTIONS[rule],
  enforcementLevel: DEFAULT_ENFORCEMENT[rule],
  ...(RULE_SETTINGS[rule] ? { configSchema: RULE_SETTINGS[rule] } : {}),
  validateResource: (args, reportViolation) => {
    if (args.type !== HOST_CONFIGURATION_TYPE) return;
    for (const result of checkHostRule(rule, args.props as PolicyHost, configOf(rule, args.getConfig())))
      reportViolation(result.message);
  },
}));

const rolloutPolicy: StackValidationPolicy = {
  name: "rollout-in-batches",
  description: RULE_DESCRIPTIONS["rollout-in-batches"],
  enforcementLevel: DEFAULT_ENFORCEMENT["rollout-in-batches"],
  configSchema: RULE_SETTINGS["rollout-in-batches"],
  validateStack: (args, reportViolation) => {
    const config = configOf("rollout-in-batches", args.getConfig());
    const fleets = fleetsOf(args.resources.filter((r) => r.type === HOST_CONFIGURATION_TYPE));
    for (const [name, hosts] of fleets) {
      const fleet = { hosts: hosts.map((r) => r.props as PolicyHost), batches: batchesOf(hosts), ...(fleets.size > 1 ? { name } : {}) };
      for (const result of checkFleet(fleet, config)) reportViolation(result.message);
    }
  },
};

/** HostConfigurations grouped by their qmail provider (one per fleet), by the provider's name. */
function fleetsOf(hosts: PolicyResource[]): Map<string, PolicyResource[]> {
  const fleets = new Map<string, PolicyResource[]>();
  for (const host of hosts) {
    const name = host.provider?.name ?? "default";
    fleets.set(name, [...(fleets.get(name) ?? []), host]);
  }
  return fleets;
}

/** Host names batch by batch: a host's batch follows the latest batch among the HostConfigurations it depends on. */
function batchesOf(hosts: PolicyResource[]): string[][] {
  const batchOf = new Map<string, number>();
  const byUrn = new Map(hosts.map((h) => [h.urn, h]));
  const visit = (host: PolicyResource, seen: Set<string>): number => {
    const known = batchOf.get(host.urn);
    if (known !== undefined) return known;
    if (seen.has(host.urn)) return 0; // a cycle cannot happen in a stack; guard anyway
    seen.add(host.urn);
    const before = host.dependencies.filter((d) => byUrn.has(d.urn)).map((d) => visit(byUrn.get(d.urn)!, seen));
    const batch = before.length === 0 ? 0 : Math.max(...before) + 1;
    batchOf.set(host.urn, batch);
    return batch;
  };
  const batches: string[][] = [];
  for (const host of hosts) {
    const batch = visit(host, new Set());
    (batches[batch] ??= []).push(String(host.props.host ?? host.name));
  }
  return batches.filter((b) => b !== undefined);
}

new PolicyPack("qmail-fleet", { policies: [...hostPolicies, rolloutPolicy] });
