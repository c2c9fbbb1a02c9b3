// A value a run script computes: known text, or text with parts only the host
// can tell (an id looked up with `id`, the first line of a file, a variable
// inherited from svscan). The canonical text writes each unknown part the
// same way whatever the script's spelling (`id -u x` in backquotes or $(...),
// `head -1` or `head -n 1`), so two scripts that compute the same thing give
// the same text.
import * as path from "node:path";

export type Lookup =
  | { kind: "uid"; subject: string }
  | { kind: "gid"; subject: string }
  | { kind: "firstLine"; subject: string }
  | { kind: "contents"; subject: string; /** What `|| echo X` gives where the file is missing. */ fallback?: string }
  | { kind: "inherited"; subject: string }
  | { kind: "command"; subject: string };

export type Segment = string | Lookup;

export interface ScriptValue {
  segments: Segment[];
}

export function knownValue(text: string): ScriptValue {
  return { segments: text === "" ? [] : [text] };
}

export function lookupValue(lookup: Lookup): ScriptValue {
  return { segments: [lookup] };
}

export function joinValues(values: ScriptValue[]): ScriptValue {
  const segments: Segment[] = [];
  for (const value of values)
    for (const segment of value.segments) {
      const last = segments[segments.length - 1];
      if (typeof segment === "string" && typeof last === "string") segments[segments.length - 1] = last + segment;
      else if (segment !== "") segments.push(segment);
    }
  return { segments };
}

/** The text when nothing in it depends on the host, else undefined. */
export function valueText(value: ScriptValue): string | undefined {
  if (value.segments.some((s) => typeof s !== "string")) return undefined;
  return value.segments.join("");
}

/** The lookup when the whole value is one, e.g. `$(id -u qmaild)`. */
export function soleLookup(value: ScriptValue): Lookup | undefined {
  const [only, ...rest] = value.segments;
  return rest.length === 0 && only !== undefined && typeof only !== "string" ? only : undefined;
}

export function describeLookup(lookup: Lookup): string {
  switch (lookup.kind) {
    case "uid":
      return `$(id -u ${lookup.subject})`;
    case "gid":
      return `$(id -g ${lookup.subject})`;
    case "firstLine":
      return `$(head -n 1 ${lookup.subject})`;
    case "contents":
      return lookup.fallback === undefined ? `$(cat ${lookup.subject})` : `$(cat ${lookup.subject} || echo ${lookup.fallback})`;
    case "inherited":
      return `\${${lookup.subject}}`;
    case "command":
      return `$(${lookup.subject})`;
  }
}

/** Canonical text: known parts as they are, each unknown part in one fixed spelling. */
export function canonicalText(value: ScriptValue): string {
  return value.segments.map((s) => (typeof s === "string" ? s : describeLookup(s))).join("");
}

/**
 * The files a script sources (`. /var/qmail/control/conf-common`), resolved
 * against the directory it runs in; a name that depends on a variable is left
 * out (only the host could tell it).
 */
export function filesSourced(script: string, runsIn: string): string[] {
  const names = [...script.matchAll(/^[ \t]*(?:\.|source)[ \t]+(\S+)[ \t]*(?:#.*)?$/gm)].map((m) => m[1].replace(/^(['"])(.*)\1$/, "$2"));
  return names.filter((name) => !name.includes("$")).map((name) => (name.startsWith("/") ? path.posix.normalize(name) : path.posix.join(runsIn, name)));
}

