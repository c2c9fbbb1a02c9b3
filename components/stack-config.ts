// The stack's configuration as Fleet Args, inside a Pulumi program. The
// engine hands the program one string per config key; they are decoded by the
// same code the CLI uses on a stack file (lib/source), so `qmail-fleet
// validate` and `pulumi up` read one config. Bad input stops the program
// here, before any resource exists, with every problem named by its field path.
import * as pulumi from "./pulumi-sdk";
import { formatIssues, parseFleetConfig } from "../lib/config";
import { decodeConfig, type SourceIssue } from "../lib/source/engine-config";
import { readLocalFile, resolveLocalPath } from "../lib/source/local-paths";
import type { FleetArgs } from "./fleet";

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

/** The stack's fleet, checked; the SSH private key a secret, undefined to use ssh-agent. */
export function loadStackFleet(): FleetArgs {
  const source = stackConfig();
  const parsed = parseFleetConfig(source.raw);
  const errors = [...source.errors, ...(parsed.ok ? [] : parsed.errors)];
  if (!parsed.ok || errors.length > 0) {
    throw new pulumi.RunError(`the stack configuration has errors; nothing was changed:\n${formatIssues(errors)}`);
  }
  // Fleet checks the same config again, and reports the warnings.
  return { ...(source.raw as unknown as FleetArgs), privateKey: privateKey(parsed.config.sshPrivateKey, parsed.config.ssh.privateKeyFile) };
}

function privateKey(sshPrivateKey: unknown, file: string | undefined): pulumi.Output<string> | undefined {
  if (typeof sshPrivateKey === "string") return pulumi.secret(sshPrivateKey);
  if (!file) return undefined;
  try {
    return pulumi.secret(readLocalFile(resolveLocalPath(file, baseDir()), 1024 * 1024).toString("utf8"));
  } catch (error) {
    throw new pulumi.RunError(`ssh.privateKeyFile: cannot read ${file}: ${(error as Error).message}; give the path of the private key file, or set sshPrivateKey`);
  }
}
