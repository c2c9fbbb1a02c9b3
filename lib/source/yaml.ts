// YAML read as the Pulumi engine reads a stack file: gopkg.in/yaml.v3 decoding
// into Go's `any`. js-yaml does the parsing; every plain scalar is kept as
// written and resolved here by yaml.v3's own rules (lib/source/go-values.ts):
// `yes`, `on` and `0o17` as v3 sees them, `0755` octal, `08` a float,
// timestamps as Go prints a time.Time, `~` null, map keys as fmt's %v spells
// them, merge keys `<<` (explicit keys win, then the first merged map),
// duplicate keys refused. The result is a plain tree of null, booleans,
// numbers, strings, arrays and Maps.
//
// Input is bounded: nesting depth, and the number of values once aliases are
// expanded (an alias bomb is refused, not expanded).

// js-yaml ships without types; this is the part used here.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const jsYaml = require("js-yaml") as {
  loadAll(text: string, iterator: null, options: Record<string, unknown>): unknown[];
  Type: new (tag: string, options: Record<string, unknown>) => unknown;
  FAILSAFE_SCHEMA: { extend(types: { implicit?: unknown[]; explicit?: unknown[] }): unknown };
  YAMLException: new (...args: never[]) => Error & { reason?: string; mark?: { line: number; column: number } };
};
import { goKeyText, resolveScalar, ScalarTagError, type Resolved } from "./go-values";
import { jsonSyntaxProblem } from "./json-syntax";

/** Whole numbers beyond 2^53 stay exact (bigint) until the engine's text is made from them. */
export type YamlValue = null | boolean | number | bigint | string | YamlValue[] | YamlMap;
export type YamlMap = Map<string, YamlValue>;

export interface YamlLimits {
  /** Deepest nesting of collections. */
  maxDepth: number;
  /** Most values (scalars and collections) once every alias is expanded. */
  maxValues: number;
}

export const DEFAULT_YAML_LIMITS: YamlLimits = { maxDepth: 64, maxValues: 500_000 };

/** Why the text cannot be read; `line` is 1-based when known. */
const thousands = (n: number) => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");

export class YamlReadError extends Error {
  constructor(
    message: string,
    readonly line?: number,
    readonly column?: number,
  ) {
    super(message);
  }
}

class UnsupportedTagError extends Error {
  constructor(tag: string) {
    const shown = tag.startsWith("tag:yaml.org,2002:") ? `!!${tag.slice(18)}` : tag.startsWith("!") ? tag : `!<${tag}>`;
    super(`the YAML tag ${shown} is not used by qmail-fleet: remove it, or quote the value if it is text that starts with '!' (for example "!former@example.com")`);
  }
}

// --- markers for scalars whose meaning is decided after parsing -----------------

/** A plain (unquoted) scalar, as written. */
class Plain {
  constructor(readonly text: string) {}
  get [Symbol.toStringTag]() {
    return "YamlPlain";
  }
  /** As a map key: the engine's spelling of the decoded key. */
  toString(): string {
    return goKeyText(resolveScalar(this.text));
  }
}

type CoreTag = "!!int" | "!!float" | "!!bool" | "!!null" | "!!timestamp" | "!!binary";

/** A scalar with an explicit core tag (`!!int "12"`), resolved as yaml.v3 does. */
class Tagged {
  constructor(
    readonly tag: CoreTag,
    readonly text: string,
  ) {}
  get [Symbol.toStringTag]() {
    return "YamlTagged";
  }
  toString(): string {
    return goKeyText(resolveScalar(this.text, this.tag));
  }
}

const { Type } = jsYaml;
const coreTag = (name: string) =>
  new Type(`tag:yaml.org,2002:${name}`, {
    kind: "scalar",
    resolve: () => true,
    construct: (data: string | null) => new Tagged(`!!${name}` as CoreTag, data ?? ""),
  });

const SCHEMA = jsYaml.FAILSAFE_SCHEMA.extend({
  implicit: [
    // `<<` is a merge key only unquoted; everything else plain is kept as written.
    new Type("tag:yaml.org,2002:merge", { kind: "scalar", resolve: (data: string | null) => data === "<<" }),
    new Type("tag:qmail-fleet,plain", { kind: "scalar", resolve: () => true, construct: (data: string | null) => new Plain(data ?? "") }),
  ],
  explicit: [
    ...["int", "float", "bool", "null", "timestamp", "binary"].map(coreTag),
    // Other tags: yaml.v3 would keep the value as it is, but no config value has a use for
    // one, and `- !former@example.com` unquoted is a tag on an empty value: refused.
    ...(["scalar", "sequence", "mapping"] as const).map(
      (kind) =>
        new Type("", {
          kind,
          multi: true,
          construct: (_data: unknown, tag: string) => {
            throw new UnsupportedTagError(tag);
          },
        }),
    ),
  ],
});

/**
 * The first document of `text` decoded as the engine decodes it. Further
 * documents are refused: the engine would ignore them silently.
 */
export function readYaml(text: string, limits: YamlLimits = DEFAULT_YAML_LIMITS): YamlValue {
  let documents: unknown[];
  let nodes = 0;
  // Counted while parsing, so a huge document stops before it is all in memory.
  const listener = (event: string, state: { tag: string | null }) => {
    if (event === "open" && ++nodes > limits.maxValues)
      throw new YamlReadError(`the YAML holds more than ${thousands(limits.maxValues)} values`);
    // yaml.v3 resolves a plain scalar under the non-specific tag `!` as if untagged, js-yaml keeps it text.
    if (event === "close" && state.tag === "!") throw new YamlReadError("the non-specific YAML tag ! is not supported: remove it");
  };
  const quirk = flowScalarQuirk(text);
  if (quirk) throw quirk;
  try {
    documents = jsYaml.loadAll(text, null, { schema: SCHEMA, maxDepth: limits.maxDepth, json: false, listener });
  } catch (error) {
    throw yamlError(error, limits, text);
  }
  const real = documents.filter((doc) => doc !== null && doc !== undefined);
  if (real.length > 1 || (documents.length > 1 && documents[0] === null && real.length > 0))
    throw new YamlReadError(`the file holds ${documents.length} YAML documents (separated by ---), and Pulumi reads only the first: keep one`);
  return convert(documents[0] ?? null, limits);
}

function yamlError(error: unknown, limits: YamlLimits, text: string): YamlReadError {
  if (error instanceof YamlReadError) return error;
  if (error instanceof UnsupportedTagError) return new YamlReadError(error.message);
  if (error instanceof RangeError) return new YamlReadError(`the YAML is nested too deeply (more than ${limits.maxDepth} levels)`);
  if (error instanceof ScalarTagError) return new YamlReadError(error.message);
  const e = error as { reason?: string; mark?: { line: number; column: number }; message?: string };
  const reason = e.reason ?? e.message ?? String(error);
  if (/nesting exceeded maxDepth/.test(reason)) return new YamlReadError(`the YAML is nested too deeply (more than ${limits.maxDepth} levels)`, e.mark ? e.mark.line + 1 : undefined);
  if (/merge keys exceeded|abnormal merge/.test(reason)) return new YamlReadError("the YAML merges too many keys (<<): write the values out", e.mark ? e.mark.line + 1 : undefined);
  const line = e.mark ? e.mark.line + 1 : undefined;
  return new YamlReadError(plainerReason(reason, line === undefined ? "" : (text.split("\n")[line - 1] ?? "")), line);
}

/** js-yaml's reason, in the words of the mistake where the line shows which one it is. */
function plainerReason(reason: string, lineText: string): string {
  const key = /^\s*(?:-\s+)?((?:[^\s:#]|:(?=\S))(?:[^:#]|:(?=\S))*?)\s*:(?:\s|$)/.exec(lineText)?.[1];
  if (/duplicated mapping key/.test(reason) && key)
    return `the key '${key.replace(/^["']|["']$/g, "")}' appears twice in one mapping, which pulumi refuses too: keep one of them`;
  const reserved = /^\s*(?:-\s+|[^:#]+:\s+)([@`])(\S*)/.exec(lineText);
  if (reserved)
    return `a value cannot start with '${reserved[1]}' unless it is quoted: write "${reserved[1]}${reserved[2].replace(/"/g, '\\"')}"`;
  return reason.replace(/\s+/g, " ").trim();
}

/** From js-yaml's result (with markers, aliases shared) to a fresh tree, counting values the way yaml.v3 limits aliasing. */
function convert(root: unknown, limits: YamlLimits, yaml = true): YamlValue {
  let values = 0;
  let aliasValues = 0;
  const seen = new Set<object>();
  const count = (inAlias: boolean) => {
    values++;
    if (inAlias) aliasValues++;
    if (values > limits.maxValues) throw new YamlReadError(`the YAML holds more than ${thousands(limits.maxValues)} values once its aliases are expanded`);
    // yaml.v3's own rule ("document contains excessive aliasing"), so that what the engine refuses is refused here too.
    if (aliasValues > 100 && values > 1000 && aliasValues / values > allowedAliasRatio(values))
      throw new YamlReadError("the YAML contains excessive aliasing (anchors expanded many times over): write the values out");
  };
  const walk = (node: unknown, inAlias: boolean, depth: number): YamlValue => {
    if (depth > limits.maxDepth) throw new YamlReadError(`the YAML is nested too deeply (more than ${limits.maxDepth} levels)`);
    if (node instanceof Plain || node instanceof Tagged) {
      count(inAlias);
      try {
        return scalarValue(node instanceof Plain ? resolveScalar(node.text) : resolveScalar(node.text, node.tag));
      } catch (error) {
        if (error instanceof ScalarTagError) throw new YamlReadError(error.message);
        throw error;
      }
    }
    if (node === null || node === undefined) {
      count(inAlias);
      return null;
    }
    if (typeof node === "string" || typeof node === "number" || typeof node === "boolean" || typeof node === "bigint") {
      count(inAlias);
      return node;
    }
    if (typeof node !== "object") throw new YamlReadError(`unexpected YAML value of type ${typeof node}`);
    // A collection met again is an alias: everything under it counts as alias expansion.
    const alias = inAlias || seen.has(node);
    seen.add(node);
    count(alias);
    if (Array.isArray(node)) return node.map((item) => walk(item, alias, depth + 1));
    const map: YamlMap = new Map();
    for (const [key, value] of Object.entries(node as Record<string, unknown>)) map.set(key, walk(value, alias, depth + 1));
    if (yaml && map.has("<<")) mergeQuotedKey(map);
    return map;
  };
  return walk(root, false, 0);
}

function allowedAliasRatio(decodes: number): number {
  const low = 400_000;
  const high = 4_000_000;
  if (decodes <= low) return 0.99;
  if (decodes >= high) return 0.1;
  return 0.99 - (0.89 * (decodes - low)) / (high - low);
}

function scalarValue(resolved: Resolved): YamlValue {
  switch (resolved.kind) {
    case "null":
      return null;
    case "bool":
      return resolved.value;
    case "int":
      return Number.isSafeInteger(Number(resolved.value)) ? Number(resolved.value) : resolved.value;
    case "float":
      return resolved.value;
    case "timestamp":
      return resolved.text;
    case "str":
      return resolved.value;
  }
}

/** A JSON document decoded as Go's encoding/json does for the engine: plain values, keys kept. */
export function readJson(text: string, limits: YamlLimits = DEFAULT_YAML_LIMITS): YamlValue {
  // Counted on the text first: JSON.parse would build the whole nest before anything could refuse it.
  if (jsonDepth(text, limits.maxDepth) > limits.maxDepth) throw new YamlReadError(`the JSON is nested too deeply (more than ${limits.maxDepth} levels)`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    if (error instanceof RangeError) throw new YamlReadError(`the JSON is nested too deeply (more than ${limits.maxDepth} levels)`);
    const problem = jsonSyntaxProblem(text);
    if (problem) throw new YamlReadError(problem.message, problem.line, problem.column);
    throw new YamlReadError((error as Error).message.replace(/\s+/g, " "));
  }
  return convert(parsed, limits, false);
}

/** The deepest nesting of [ and { in JSON text (strings skipped), counting stops past `stop`. */
function jsonDepth(text: string, stop: number): number {
  let depth = 0;
  let deepest = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      for (i++; i < text.length && text.charCodeAt(i) !== 0x22; i++) if (text.charCodeAt(i) === 0x5c) i++;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > deepest && (deepest = depth) > stop) return deepest;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return deepest;
}

/**
 * A `<<` key left in a map was quoted ('<<'), which js-yaml keeps as a key but
 * yaml.v3 also merges: its map, or each map of its list in turn, fills the keys
 * the map does not set itself.
 */
function mergeQuotedKey(map: YamlMap): void {
  const source = map.get("<<")!;
  map.delete("<<");
  const sources = Array.isArray(source) ? source : [source];
  for (const item of sources) {
    if (!(item instanceof Map)) throw new YamlReadError("map merge requires map or sequence of maps as the value");
    for (const [key, value] of item) if (!map.has(key)) map.set(key, value);
  }
}

/**
 * Plain scalars inside [...] or {...} that Pulumi's YAML reader (libyaml's
 * scanner) reads differently from the YAML 1.2 spec js-yaml follows: a `?`
 * inside one ends it (the engine refuses `[a?b]`), and one ending in `:` is
 * text to the engine (`[a:]` is ["a:"]) but a key to js-yaml. Both are refused
 * with the advice to quote the value. Quoted text, comments and block scalars
 * are skipped.
 */
export function flowScalarQuirk(text: string): YamlReadError | undefined {
  // Most configs hold no flow collection with a '?' or ':' followed by ',', ']' or '}': nothing to scan.
  if (!/[?]|:[,\]}]/.test(text) || !/[[{]/.test(text)) return undefined;
  let depth = 0;
  let line = 1;
  let blockIndent = -1; // inside a block scalar: lines more indented than this belong to it
  let lineStart = true;
  let indent = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "\n") {
      line++;
      lineStart = true;
      indent = 0;
      continue;
    }
    if (lineStart) {
      if (c === " ") {
        indent++;
        continue;
      }
      lineStart = false;
      if (blockIndent >= 0) {
        if (indent > blockIndent || c === "\r") {
          i = skipToLineEnd(text, i);
          continue;
        }
        blockIndent = -1;
      }
    }
    if (c === "#" && (i === 0 || /\s/.test(text[i - 1]))) {
      i = skipToLineEnd(text, i);
      continue;
    }
    if (c === "'" || c === '"') {
      const end = quotedEnd(text, i);
      for (let j = i; j < end; j++) if (text[j] === "\n") line++;
      i = end;
      continue;
    }
    if (depth === 0 && (c === "|" || c === ">") && /^[|>][-+0-9]*\s*(#.*)?$/.test(text.slice(i, skipToLineEnd(text, i) + 1).replace(/\r?\n$/, ""))) {
      blockIndent = lineIndentOf(text, i);
      i = skipToLineEnd(text, i);
      continue;
    }
    if (c === "[" || c === "{") depth++;
    else if ((c === "]" || c === "}") && depth > 0) depth--;
    else if (depth > 0 && !" \t\r,:?-!&*".includes(c)) {
      // A plain scalar inside a flow collection: up to , [ ] { } or ": ", "#" after a space, or the line end.
      let j = i;
      while (j < text.length && !",[]{}\n".includes(text[j]) && !(text[j] === ":" && " \t\r\n,[]{}".includes(text[j + 1] ?? " ")) && !(text[j] === "#" && " \t".includes(text[j - 1])))
        j++;
      const token = text.slice(i, j).trimEnd();
      const trailingColon = text[j] === ":" && ",]}".includes(text[j + 1] ?? "x");
      if (token.includes("?") || trailingColon)
        return new YamlReadError(
          `the value ${JSON.stringify(token + (trailingColon ? ":" : ""))} inside [...] or {...} is read differently by Pulumi's YAML reader: put it in quotes`,
          line,
        );
      i = j - 1;
    }
  }
  return undefined;
}

const skipToLineEnd = (text: string, i: number) => {
  const end = text.indexOf("\n", i);
  return end < 0 ? text.length - 1 : end - 1;
};

const lineIndentOf = (text: string, i: number) => {
  const start = text.lastIndexOf("\n", i - 1) + 1;
  let n = 0;
  while (text[start + n] === " ") n++;
  return n;
};

/** Index of the closing quote of the quoted scalar opening at `i` (the end of text when unclosed). */
function quotedEnd(text: string, i: number): number {
  const quote = text[i];
  for (let j = i + 1; j < text.length; j++) {
    if (quote === '"' && text[j] === "\\") {
      j++;
      continue;
    }
    if (text[j] === quote) {
      if (quote === "'" && text[j + 1] === "'") {
        j++;
        continue;
      }
      return j;
    }
  }
  return text.length - 1;
}
