// From a config file to a checked FleetConfig and FleetPlan, without printing:
// what `qmail-fleet validate` and `render` run, and what the config corpus
// tests check. Everything that can be wrong comes back as `path: message`.
import { accessSync, constants } from "node:fs";
import { dirname } from "node:path";
import { parseFleetConfig, type ConfigIssue, type FleetConfig, type ParseOptions } from "./config";
import type { FleetPlan } from "./host-plan";
import { planFleet, PlanError } from "./plan";
import { ConfigFileError, readConfigSource } from "./source/config-file";
import { readLocalFile, resolveLocalPath } from "./source/local-paths";
import { plainSecretWarnings } from "./source/plain-secrets";

export type LoadResult =
  | { ok: true; config: FleetConfig; plan: FleetPlan; warnings: ConfigIssue[] }
  | { ok: false; errors: ConfigIssue[]; warnings: ConfigIssue[] };

export interface LoadOptions extends ParseOptions {
  /** Reads local files the config names; default: the file system, relative to the config file's directory. */
  readFile?: (path: string) => Buffer;
}

function readable(path: string): boolean {
  try {
    accessSync(path, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

export function loadConfigFile(file: string, options: LoadOptions = {}): LoadResult {
  let source;
  try {
    source = readConfigSource(file);
  } catch (error) {
    if (error instanceof ConfigFileError) return { ok: false, errors: [{ path: "", message: error.message }], warnings: [] };
    throw error;
  }
  // A file that is not a mapping at all: that is all there is to say.
  if (source.errors.some((issue) => issue.path === "")) return { ok: false, errors: source.errors, warnings: source.warnings };
  const parsed = parseFleetConfig(source.raw, options);
  const warnings = [...source.warnings, ...(source.stackFile ? plainSecretWarnings(source.raw) : []), ...(parsed.ok ? parsed.warnings : [])];
  const errors = [...source.errors, ...(parsed.ok ? [] : parsed.errors)];
  if (!parsed.ok || errors.length > 0) return { ok: false, errors, warnings };
  const baseDir = dirname(file);
  const readFile = options.readFile ?? ((path: string) => readLocalFile(resolveLocalPath(path, baseDir)));
  // pulumi up reads the SSH key; validate can only say that it would not find it here.
  const keyFile = parsed.config.ssh.privateKeyFile;
  if (keyFile !== undefined && options.readFile === undefined && !readable(resolveLocalPath(keyFile, baseDir)))
    warnings.push({ path: "ssh.privateKeyFile", message: `${keyFile} cannot be read here: pulumi up, run from this directory, would stop; give the path of the private key file, or set sshPrivateKey` });
  try {
    const plan = planFleet(parsed.config, { readFile });
    return { ok: true, config: parsed.config, plan, warnings: [...warnings, ...plan.warnings.map((message) => ({ path: "", message }))] };
  } catch (error) {
    if (error instanceof PlanError) return { ok: false, errors: [{ path: error.path ?? "", message: error.message }], warnings };
    throw error;
  }
}
