// From the stack's configuration to a checked FleetPlan, inside a Pulumi
// program. Bad input stops the program here, before any resource exists, with
// every problem named by its field path.
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { resolve } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { formatIssues, parseFleetConfig, type FleetConfig } from "../lib/config";
import type { FleetPlan } from "../lib/host-plan";
import { planFleet } from "../lib/plan";

export interface StackFleet {
  config: FleetConfig;
  plan: FleetPlan;
  /** The SSH private key as a Pulumi secret; undefined to use ssh-agent. */
  privateKey?: pulumi.Output<string>;
}

/** The stack's `<project>:` config keys, without the prefix, JSON values decoded. */
export function stackConfigMap(project = pulumi.getProject()): Record<string, unknown> {
  const raw: Record<string, unknown> = {};
  const prefix = `${project}:`;
  for (const [key, value] of Object.entries(pulumi.runtime.allConfig())) {
    if (!key.startsWith(prefix)) continue;
    raw[key.slice(prefix.length)] = decode(value);
  }
  return raw;
}

function decode(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

export function loadStackFleet(): StackFleet {
  const parsed = parseFleetConfig(stackConfigMap());
  if (!parsed.ok) {
    throw new pulumi.RunError(`the stack configuration has errors; nothing was changed:\n${formatIssues(parsed.errors)}`);
  }
  for (const warning of parsed.warnings) pulumi.log.warn(`${warning.path}: ${warning.message}`);

  let plan: FleetPlan;
  try {
    plan = planFleet(parsed.config, { readFile: (path) => readFileSync(expandHome(path)) });
  } catch (error) {
    throw new pulumi.RunError(`the stack configuration cannot be planned; nothing was changed:\n${(error as Error).message}`);
  }
  for (const warning of plan.warnings) pulumi.log.warn(warning);

  return { config: parsed.config, plan, privateKey: privateKey(parsed.config) };
}

function privateKey(config: FleetConfig): pulumi.Output<string> | undefined {
  if (typeof config.sshPrivateKey === "string") return pulumi.secret(config.sshPrivateKey);
  const file = config.ssh?.privateKeyFile;
  if (!file) return undefined;
  try {
    return pulumi.secret(readFileSync(expandHome(file), "utf8"));
  } catch (error) {
    throw new pulumi.RunError(`ssh.privateKeyFile: cannot read ${file}: ${(error as Error).message}`);
  }
}

function expandHome(path: string): string {
  return resolve(path.startsWith("~/") ? `${homedir()}/${path.slice(2)}` : path);
}
