// From the stack's configuration to a checked FleetPlan, inside a Pulumi
// program. The engine hands the program one string per config key; they are
// decoded by the same code the CLI uses on a stack file (lib/source), so
// `qmail-fleet validate` and `pulumi up` read one config. Bad input stops the
// program here, before any resource exists, with every problem named by its
// field path.
import { readFileSync } from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { formatIssues, parseFleetConfig, type FleetConfig } from "../lib/config";
import type { FleetPlan } from "../lib/host-plan";
import { planFleet, PlanError } from "../lib/plan";
import { decodeConfig, type SourceIssue } from "../lib/source/engine-config";
import { resolveLocalPath } from "../lib/source/local-paths";

export interface StackFleet {
  config: FleetConfig;
  plan: FleetPlan;
  /** The SSH private key as a Pulumi secret; undefined to use ssh-agent. */
  privateKey?: pulumi.Output<string>;
}

/** The stack's config decoded: keys without the project prefix, and any keys that belong to no part of it. */
export function stackConfig(project = pulumi.getProject(), all: Record<string, string> = pulumi.runtime.allConfig()): {
  raw: Record<string, unknown>;
  errors: SourceIssue[];
} {
  return decodeConfig(
    Object.entries(all).map(([key, text]) => ({ key, text })),
    { project },
  );
}

/** The stack's `<project>:` config keys, without the prefix, values decoded. */
export function stackConfigMap(project = pulumi.getProject()): Record<string, unknown> {
  return stackConfig(project).raw;
}

/** Relative local paths (known_hosts, key files, address lists) are relative to the project directory, where the stack file is. */
const baseDir = () => process.cwd();

export function loadStackFleet(): StackFleet {
  const source = stackConfig();
  const parsed = parseFleetConfig(source.raw);
  const errors = [...source.errors, ...(parsed.ok ? [] : parsed.errors)];
  if (!parsed.ok || errors.length > 0) {
    throw new pulumi.RunError(`the stack configuration has errors; nothing was changed:\n${formatIssues(errors)}`);
  }
  for (const warning of parsed.warnings) pulumi.log.warn(formatIssues([warning]));

  let plan: FleetPlan;
  try {
    plan = planFleet(parsed.config, { readFile: (path) => readFileSync(resolveLocalPath(path, baseDir())) });
  } catch (error) {
    if (!(error instanceof PlanError)) throw error;
    throw new pulumi.RunError(`the stack configuration cannot be planned; nothing was changed:\n${formatIssues([{ path: error.path ?? "", message: error.message }])}`);
  }
  for (const warning of plan.warnings) pulumi.log.warn(warning);

  return { config: parsed.config, plan, privateKey: privateKey(parsed.config) };
}

function privateKey(config: FleetConfig): pulumi.Output<string> | undefined {
  if (typeof config.sshPrivateKey === "string") return pulumi.secret(config.sshPrivateKey);
  const file = config.ssh?.privateKeyFile;
  if (!file) return undefined;
  try {
    return pulumi.secret(readFileSync(resolveLocalPath(file, baseDir()), "utf8"));
  } catch (error) {
    throw new pulumi.RunError(`ssh.privateKeyFile: cannot read ${file}: ${(error as Error).message}; give the path of the private key file, or set sshPrivateKey`);
  }
}
