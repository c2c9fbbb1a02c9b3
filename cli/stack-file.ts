// Reads the fleet config the CLI is given: a Pulumi stack file
// (Pulumi.<stack>.yaml, keys under `config:` prefixed `qmail-fleet:`) or a
// plain YAML/JSON file holding the same keys without the prefix.
import { readFileSync } from "node:fs";
import { basename } from "node:path";

// js-yaml ships without types; this is the part we use.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const yaml = require("js-yaml") as {
  load(text: string, options?: { filename?: string; schema?: unknown }): unknown;
  CORE_SCHEMA: unknown;
};

export const PROJECT_NAMESPACE = "qmail-fleet";

export class ConfigFileError extends Error {}

/** The raw config map of a file: keys without the `qmail-fleet:` prefix. */
export function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new ConfigFileError(`cannot read ${file}: ${(error as Error).message}`);
  }
  let document: unknown;
  try {
    // CORE_SCHEMA: no YAML 1.1 surprises such as dates or `on` meaning true.
    document = yaml.load(text, { filename: file, schema: yaml.CORE_SCHEMA });
  } catch (error) {
    throw new ConfigFileError(`${file} is not valid YAML or JSON: ${(error as Error).message}`);
  }
  return configMap(document, file);
}

export function isStackFileName(file: string): boolean {
  return /^Pulumi\.[^.]+\.ya?ml$/.test(basename(file));
}

/** Unwraps a stack file's `config:` and strips the project prefix; other projects' keys are left out. */
export function configMap(document: unknown, file = "config"): Record<string, unknown> {
  if (!isRecord(document)) throw new ConfigFileError(`${file} must hold a mapping of config keys (hosts, services, ssh, ...)`);
  const isStack = isStackFileName(file) || (isRecord(document.config) && Object.keys(document.config).some((k) => k.includes(":")));
  const entries = isStack ? document.config : document;
  if (!isRecord(entries)) throw new ConfigFileError(`${file}: the stack file has no config: section`);
  const map: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(entries)) {
    const colon = key.indexOf(":");
    if (colon < 0) map[key] = value;
    else if (key.slice(0, colon) === PROJECT_NAMESPACE) map[key.slice(colon + 1)] = value;
  }
  return map;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
