// Reads a fleet config file for the CLI: a Pulumi stack file
// (Pulumi.<stack>.yaml, or any file with a `config:` section) or a plain
// YAML/JSON file of the same keys without the `config:` wrapper. The file is
// read as the engine reads it (lib/source/yaml.ts, lib/source/engine-config.ts)
// and decoded by the same code the Pulumi program uses, so both see one config.
import { readFileSync, statSync } from "node:fs";
import { basename } from "node:path";
import { decodeConfig, stackFileEntries, type SourceIssue, type SourceResult } from "./engine-config";
import { octalNumberWarnings } from "./octal-numbers";
import { DEFAULT_YAML_LIMITS, readJson, readYaml, YamlReadError, type YamlValue } from "./yaml";

/** Larger config files are refused unread: long address lists belong in validRcptTo.files. */
export const MAX_CONFIG_BYTES = 8 * 1024 * 1024;

/** The file cannot be read or parsed at all. */
export class ConfigFileError extends Error {}

export interface ConfigSource {
  /** Config keys without the project prefix. */
  raw: Record<string, unknown>;
  /** Problems of the file as a whole (keys, YAML values Pulumi cannot pass); parsing the raw map finds the rest. */
  errors: SourceIssue[];
  warnings: SourceIssue[];
  /** A Pulumi stack file (a `config:` section), where secrets can be stored encrypted. */
  stackFile: boolean;
}

export function isStackFileName(file: string): boolean {
  return /^Pulumi\.[^.]+\.(ya?ml|json)$/.test(basename(file));
}

/** Reads and decodes `file`; throws ConfigFileError when it cannot be read or is not YAML/JSON. */
export function readConfigSource(file: string): ConfigSource {
  let size: number;
  try {
    const stat = statSync(file);
    if (!stat.isFile()) throw new ConfigFileError(`${file} is not a file: give the path of a stack file or a YAML/JSON config`);
    size = stat.size;
  } catch (error) {
    if (error instanceof ConfigFileError) throw error;
    throw new ConfigFileError(`cannot read ${file}: ${describeFsError(error)}`);
  }
  if (size > MAX_CONFIG_BYTES)
    throw new ConfigFileError(
      `${file} is ${(size / 1024 / 1024).toFixed(1)} MiB, more than the ${MAX_CONFIG_BYTES / 1024 / 1024} MiB a config file may be: move long address lists into validRcptTo.files`,
    );
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    throw new ConfigFileError(`cannot read ${file}: ${describeFsError(error)}`);
  }
  return configSourceOf(bytes, file);
}

/** The same for bytes already read; `name` decides JSON or YAML and whether it is a stack file. */
export function configSourceOf(bytes: Buffer, name: string): ConfigSource {
  const source = engineEntriesOf(bytes, name);
  const decoded = decodeConfig(source.entries);
  return { raw: decoded.raw, errors: [...source.errors, ...decoded.errors], warnings: source.warnings, stackFile: source.stackFile };
}

/** What the engine would pass the program for this file, one string per key: the step the YAML parity test checks. */
export function engineEntriesOf(bytes: Buffer, name: string): SourceResult & { stackFile: boolean } {
  if (bytes.length > MAX_CONFIG_BYTES) throw new ConfigFileError(`${name} is larger than ${MAX_CONFIG_BYTES / 1024 / 1024} MiB`);
  const text = decodeText(bytes, name);
  let document: YamlValue;
  try {
    document = /\.json$/i.test(name) ? readJson(text, DEFAULT_YAML_LIMITS) : readYaml(text, DEFAULT_YAML_LIMITS);
  } catch (error) {
    if (!(error instanceof YamlReadError)) throw error;
    const where = error.line !== undefined ? `, line ${error.line}${error.column !== undefined ? `, column ${error.column}` : ""}` : "";
    throw new ConfigFileError(`${name} is not valid ${/\.json$/i.test(name) ? "JSON" : "YAML"}${where}: ${error.message}`);
  }
  const stack = isStackFileName(name) || (document instanceof Map && document.has("config"));
  const entries = stackFileEntries(document, stack, /\.json$/i.test(name));
  if (!/\.json$/i.test(name)) entries.warnings.push(...octalNumberWarnings(text));
  return { ...entries, stackFile: stack };
}

/** UTF-8 (a BOM dropped, as Pulumi drops it) or UTF-16 with a BOM, as yaml.v3 reads it; anything else is refused. */
function decodeText(bytes: Buffer, name: string): string {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3);
  else if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    if (/\.json$/i.test(name)) throw new ConfigFileError(`${name} is UTF-16: save it as UTF-8`);
    return new TextDecoder(bytes[0] === 0xff ? "utf-16le" : "utf-16be", { fatal: true }).decode(bytes.subarray(2));
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    const at = firstInvalidUtf8(bytes);
    throw new ConfigFileError(`${name} is not UTF-8 text (an invalid byte at offset ${at}): save it as UTF-8`);
  }
}

function firstInvalidUtf8(bytes: Buffer): number {
  let low = 0;
  let high = bytes.length;
  const valid = (end: number) => {
    try {
      new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(0, end));
      return true;
    } catch {
      return false;
    }
  };
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (valid(mid)) low = mid;
    else high = mid - 1;
  }
  return low;
}

function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return "no such file";
  if (code === "EACCES") return "permission denied";
  if (code === "EISDIR") return "it is a directory";
  return (error as Error).message;
}
