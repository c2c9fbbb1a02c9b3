// The one way a fleet config is read, whoever reads it:
//
//   `pulumi up`:  engine reads the stack file ──► config strings ──┐
//   the CLI:      stackFileEntries() does what the engine does ──► ├─► decodeConfig() ──► raw config map ──► parseFleetConfig
//                 (lib/source/yaml.ts reads YAML as yaml.v3 does) ─┘
//
// The engine hands the program one string per config key: a string value as
// it is, a number or boolean as JSON, a list or map as JSON with every map's
// keys sorted (Go's encoding/json), a secret as its plaintext. The CLI, which
// cannot decrypt, keeps a secret as `{ secure: ciphertext }`. decodeConfig()
// then turns those strings into the raw config both paths parse, so the CLI
// and the program see the same values in the same order.
import { formatPath, type PathKey } from "../schema/issue-path";
import { FLEET_KEYS } from "../schema/fleet";
import { closestName, listWords, nearestName, printableKey } from "../schema/strict";
import { DEFAULT_YAML_LIMITS, type YamlLimits, type YamlMap, type YamlValue } from "./yaml";

export const PROJECT = "qmail-fleet";

/** Namespaces a stack of this project may hold besides its own. */
const OTHER_NAMESPACES = ["pulumi"];

/** The top-level keys of a Pulumi stack file (workspace.ProjectStack). */
export const STACK_FILE_KEYS = ["config", "secretsprovider", "encryptedkey", "encryptionsalt", "environment"] as const;

export interface SourceIssue {
  path: string;
  message: string;
}

/** One config value as the engine passes it to the program. */
export interface EngineEntry {
  /** `namespace:name`, e.g. `qmail-fleet:hosts`. */
  key: string;
  text: string;
  /** A secret string still encrypted (the CLI): `text` is its ciphertext. */
  ciphertext?: boolean;
}

export interface SourceResult {
  entries: EngineEntry[];
  errors: SourceIssue[];
  warnings: SourceIssue[];
}

// --- from a decoded stack file to the engine's strings ---------------------------

/**
 * What the engine passes the program for a stack file (`stack`: a document
 * with `config:`) or a plain file of config keys. Keys without a namespace
 * belong to the project.
 */
export function stackFileEntries(document: YamlValue, stack: boolean, json = false): SourceResult {
  const errors: SourceIssue[] = [];
  const warnings: SourceIssue[] = [];
  if (stack && document === null) return { entries: [], errors, warnings }; // an empty stack file: no config
  if (!(document instanceof Map)) {
    errors.push({
      path: "",
      message:
        document === null
          ? "the file holds no config: it must hold a mapping of config keys (hosts, services, ssh, ...)"
          : `the file must hold a mapping of config keys (hosts, services, ssh, ...), not ${Array.isArray(document) ? "a list" : `the ${typeof document === "string" ? "text" : typeof document} ${JSON.stringify(String(document)).slice(0, 40)}`}`,
    });
    return { entries: [], errors, warnings };
  }
  let config: YamlValue = document;
  if (stack) {
    for (const [key, value] of document) {
      if (!(STACK_FILE_KEYS as readonly string[]).includes(key)) {
        const near = closestName(key, STACK_FILE_KEYS) ?? nearestName(key, STACK_FILE_KEYS);
        errors.push({
          path: printableKey(key),
          message: `unknown top-level key '${printableKey(key)}' in a stack file: did you mean '${near}'? (a stack file holds ${listWords([...STACK_FILE_KEYS])}; fleet settings go under config:)`,
        });
      } else if (key !== "config" && key !== "environment" && (value instanceof Map || Array.isArray(value)))
        errors.push({ path: key, message: `${key} must be a single value (Pulumi writes it), for example ${key}: v1:...; restore it from the stack's history` });
    }
    if (document.has("environment") && document.get("environment") !== null)
      warnings.push({
        path: "environment",
        message: "config from Pulumi ESC environments is merged in by `pulumi up` but cannot be read here: validate and render check only the keys in this file",
      });
    config = document.get("config") ?? null;
    if (config === null) return { entries: [], errors, warnings };
    if (!(config instanceof Map)) {
      errors.push({ path: "config", message: "config must be a mapping of keys to values, for example config: { qmail-fleet:hosts: [...] }" });
      return { entries: [], errors, warnings };
    }
  }

  const entries: EngineEntry[] = [];
  const written = new Map<string, string>();
  for (const [rawKey, value] of config) {
    const key = normalizeKey(rawKey);
    if (typeof key !== "string") {
      errors.push({ path: printableKey(rawKey), message: key.error });
      continue;
    }
    const earlier = written.get(key);
    if (earlier !== undefined) {
      errors.push({ path: printableKey(rawKey), message: `'${printableKey(rawKey)}' and '${printableKey(earlier)}' are the same key (${key}), and Pulumi would take either one: keep one` });
      continue;
    }
    written.set(key, rawKey);
    const name = key.slice(key.indexOf(":") + 1);
    try {
      entries.push({ key, ...engineText(value, key.startsWith(`${PROJECT}:`) ? [name] : [key], json) });
    } catch (error) {
      if (!(error instanceof ValueError)) throw error;
      errors.push({ path: formatPath(error.path), message: error.message });
    }
  }
  return { entries, errors, warnings };
}

/** `name` → `qmail-fleet:name`; `ns:config:name` → `ns:name` (Pulumi's older form). */
function normalizeKey(key: string): string | { error: string } {
  const parts = key.split(":");
  if (parts.length === 1) return `${PROJECT}:${key}`;
  if (parts.length === 2) return key;
  if (parts.length === 3 && parts[1] === "config") return `${parts[0]}:${parts[2]}`;
  return { error: `'${printableKey(key)}' is not a config key Pulumi can read: write <namespace>:<name>, for example ${PROJECT}:hosts` };
}

class ValueError extends Error {
  constructor(
    readonly path: PathKey[],
    message: string,
  ) {
    super(message);
  }
}

/** config.Value: a string as is, a secret's ciphertext, anything else as Go's JSON. */
function engineText(value: YamlValue, path: PathKey[], json: boolean): { text: string; ciphertext?: boolean } {
  if (typeof value === "string") return { text: value };
  // yaml.v3 leaves a config.Value zero for null; encoding/json makes it the JSON null.
  if (value === null) return { text: json ? "null" : "" };
  const secure = secureCiphertext(value);
  if (secure !== undefined) return { text: secure, ciphertext: true };
  return { text: goJson(value, path) };
}

/** `{ secure: "<ciphertext>" }` and nothing else: how a stack file holds a secret. */
function secureCiphertext(value: YamlValue): string | undefined {
  if (value instanceof Map && value.size === 1 && typeof value.get("secure") === "string") return value.get("secure") as string;
  return undefined;
}

const compareUtf8 = (a: string, b: string) => Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));

/** Go's json.Marshal of the decoded value: map keys sorted by their bytes; NaN and infinities refused. */
function goJson(value: YamlValue, path: PathKey[]): string {
  if (value === null) return "null";
  if (typeof value === "boolean") return String(value);
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "number") {
    if (!Number.isFinite(value))
      throw new ValueError(path, `${Number.isNaN(value) ? ".nan" : value > 0 ? ".inf" : "-.inf"} is not a number Pulumi can pass on (JSON has no such value): write a finite number`);
    return JSON.stringify(value);
  }
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((item, index) => goJson(item, [...path, index])).join(",")}]`;
  const keys = [...value.keys()].sort(compareUtf8);
  return `{${keys.map((key) => `${JSON.stringify(key)}:${goJson((value as YamlMap).get(key)!, [...path, key])}`).join(",")}}`;
}

// --- from the engine's strings to the raw config map -------------------------------

export interface DecodeOptions {
  project?: string;
  limits?: YamlLimits;
}

/**
 * The raw config map (keys without the project prefix) from the engine's
 * strings. Text that is a JSON list or map is that list or map (the engine
 * writes lists and maps so); other text is taken as it is; an empty text or
 * `null` (a key written without a value) is a key left unset. Keys of other
 * namespaces are refused, naming the nearest key of this project.
 */
export function decodeConfig(entries: readonly EngineEntry[], options: DecodeOptions = {}): { raw: Record<string, unknown>; errors: SourceIssue[] } {
  const project = options.project ?? PROJECT;
  const limits = options.limits ?? DEFAULT_YAML_LIMITS;
  const raw: Record<string, unknown> = {};
  const errors: SourceIssue[] = [];
  const sorted = [...entries].sort((a, b) => compareUtf8(a.key, b.key));
  for (const { key, text, ciphertext } of sorted) {
    const colon = key.indexOf(":");
    const namespace = colon < 0 ? project : key.slice(0, colon);
    const name = colon < 0 ? key : key.slice(colon + 1);
    if (namespace !== project) {
      if (OTHER_NAMESPACES.includes(namespace)) continue;
      errors.push({ path: printableKey(key), message: foreignKeyMessage(key, namespace, name, project) });
      continue;
    }
    if (ciphertext) {
      Object.defineProperty(raw, name, { value: { secure: text }, enumerable: true, writable: true, configurable: true });
      continue;
    }
    if (text === "" || text === "null") continue; // a key written without a value (the engine passes null so)
    let value: unknown = text;
    if (/^\s*[[{]/.test(text)) {
      try {
        value = JSON.parse(text);
      } catch {
        value = text; // not JSON after all: the schema says what is wrong with it
      }
      const depth = nestingDepth(value, limits.maxDepth + 1);
      if (depth > limits.maxDepth) {
        errors.push({ path: name, message: `the value is nested too deeply (more than ${limits.maxDepth} levels)` });
        continue;
      }
    }
    Object.defineProperty(raw, name, { value, enumerable: true, writable: true, configurable: true });
  }
  return { raw, errors };
}

function foreignKeyMessage(key: string, namespace: string, name: string, project: string): string {
  const nearestField = closestName(name, FLEET_KEYS) ?? nearestName(name, FLEET_KEYS);
  const printable = printableKey(key);
  if (closestName(namespace, [project]) || namespace.toLowerCase().replace(/[^a-z]/g, "") === project.replace(/[^a-z]/g, ""))
    return `unknown project '${printableKey(namespace)}' in '${printable}': did you mean '${project}:${nearestField}'?`;
  return `'${printable}' is not a key of this project: qmail-fleet reads only ${project}:<key>; remove it (the nearest valid key is '${project}:${nearestField}')`;
}

/** Depth of nested arrays and objects, counting stops at `stop`. */
function nestingDepth(value: unknown, stop: number): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (depth > deepest) deepest = depth;
    if (deepest >= stop) return deepest;
    if (node !== null && typeof node === "object") for (const child of Object.values(node)) stack.push([child, depth + 1]);
  }
  return deepest;
}
