// The policy pack's config file (`pulumi preview --policy-pack-config FILE`),
// read for `qmail-fleet diff --policy-config FILE` so that the diff judges by
// the levels and settings the preview uses: per rule a level, or an object
// with `enforcementLevel` and the rule's settings.
//
//   { "validrcptto-on-mx": "mandatory", "rollout-in-batches": { "enforcementLevel": "advisory", "maxBatchHosts": 20 } }
import { readFileSync } from "node:fs";
import { RULE_NAMES, type Enforcement, type PolicyConfig, type RuleName } from "../../lib/policy/rules";

export class PolicyConfigError extends Error {}

const LEVELS: readonly Enforcement[] = ["mandatory", "advisory", "disabled"];
/** The settings each rule takes beside its level, as the pack's config schema names them. */
const SETTINGS: Partial<Record<RuleName, string[]>> = { "ssl-key-file-permissions": ["group"], "rollout-in-batches": ["maxBatchHosts"] };

export function readPolicyPackConfig(file: string): PolicyConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new PolicyConfigError(`--policy-config ${file}: ${(error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (error as Error).message}`);
  }
  return policyConfigOf(raw, file);
}

export function policyConfigOf(raw: unknown, file: string): PolicyConfig {
  const where = (rule: string) => `--policy-config ${file}: ${rule}`;
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new PolicyConfigError(`--policy-config ${file}: an object of rule names`);
  const config: PolicyConfig = { enforcement: {} };
  for (const [rule, value] of Object.entries(raw)) {
    // `all` sets every rule's level, as in Pulumi's policy config.
    if (rule !== "all" && !(RULE_NAMES as readonly string[]).includes(rule)) throw new PolicyConfigError(`${where(rule)}: no such rule (rules: ${RULE_NAMES.join(", ")})`);
    const settings = typeof value === "string" ? { enforcementLevel: value } : value;
    if (typeof settings !== "object" || settings === null) throw new PolicyConfigError(`${where(rule)}: a level (${LEVELS.join(", ")}) or { enforcementLevel, ... }`);
    for (const [key, setting] of Object.entries(settings as Record<string, unknown>)) {
      if (key === "enforcementLevel") {
        if (!LEVELS.includes(setting as Enforcement)) throw new PolicyConfigError(`${where(rule)}: enforcementLevel ${JSON.stringify(setting)} is not one of ${LEVELS.join(", ")}`);
        for (const name of rule === "all" ? RULE_NAMES : [rule as RuleName]) config.enforcement![name] = setting as Enforcement;
      } else if (key === "group" && SETTINGS[rule as RuleName]?.includes(key) && typeof setting === "string") config.sslKeyGroup = setting;
      else if (key === "maxBatchHosts" && SETTINGS[rule as RuleName]?.includes(key) && Number.isInteger(setting) && (setting as number) >= 1) config.maxBatchHosts = setting as number;
      else throw new PolicyConfigError(`${where(rule)}: ${key} ${JSON.stringify(setting)} is not a setting of this rule${SETTINGS[rule as RuleName] ? ` (settings: ${SETTINGS[rule as RuleName]!.join(", ")})` : ""}`);
    }
  }
  return config;
}
