// Whether a new run or log/run script runs what the one on the host runs:
// the same programs, arguments and environment (runScriptMeaning), however
// differently the two are written. Taking over a hand-written service then
// rewrites its script without restarting it. What only the host can tell (ids,
// control files, envdirs) is read there once (script-facts.ts) and handed in
// as facts, so `-c "$MAXSMTPD"` read from concurrencyincoming equals `-c 30`.
// Pure: the texts and the facts come in, a yes or no goes out.
import * as path from "node:path";
import { meaningDifferences, runScriptMeaning, type HostFacts, type RunScriptMeaning } from "../lib/import/run-script-meaning";
import { filesSourced, type Lookup, type ScriptValue } from "../lib/import/script-value";
import type { RestartTarget, ServiceSpec } from "./types";

/** A service's run or log/run script, by its path. */
export interface ServiceScript extends RestartTarget {
  /** The directory supervise runs the script in: the service directory, or its log directory. */
  runsIn: string;
}

/** The service script at `path`, if it is one of the declared services' run or log/run. */
export function serviceScriptAt(path: string, services: Record<string, Pick<ServiceSpec, "dir">>): ServiceScript | undefined {
  for (const [service, spec] of Object.entries(services)) {
    if (path === `${spec.dir}/run`) return { service, part: "service", runsIn: spec.dir };
    if (path === `${spec.dir}/log/run`) return { service, part: "log", runsIn: `${spec.dir}/log` };
  }
  return undefined;
}

/** The meaning of a script, or the reason it cannot be read (then it never counts as the same). */
function meaningOf(text: string, runsIn: string, facts: HostFacts): RunScriptMeaning | string {
  try {
    return runScriptMeaning(text, { serviceDir: runsIn, facts });
  } catch (error) {
    return (error as Error).message;
  }
}

/** What the declared script runs differently from the one on the host, one line each; empty when the same. */
export function whatRunsDifferently(onHost: string, declared: string, runsIn: string, facts: HostFacts = {}): string[] {
  if (onHost === declared) return [];
  const before = meaningOf(onHost, runsIn, facts);
  const after = meaningOf(declared, runsIn, facts);
  if (typeof before === "string") return [`the script on the host: ${before}`];
  if (typeof after === "string") return [`the declared script: ${after}`];
  // A value the reading assumed (an if block's then-branch) may not be what the running process got.
  const assumed = [before, after].flatMap((meaning, i) =>
    meaning.notes.filter((note) => note.assumed).map((note) => `${i === 0 ? "the script on the host" : "the declared script"}, line ${note.line}: ${note.reason}, so what it sets is not known`),
  );
  return [...assumed, ...meaningDifferences(before, after)];
}

/** True when both scripts, run in `runsIn` on a host with these facts, run the same thing. */
export function runsTheSame(onHost: string, declared: string, runsIn: string, facts: HostFacts = {}): boolean {
  return whatRunsDifferently(onHost, declared, runsIn, facts).length === 0;
}

/** What the host must tell before two scripts can be compared: users looked up, files read, envdirs. */
export interface FactRequest {
  users: string[];
  files: string[];
  envdirs: string[];
}

/**
 * The host lookups the scripts make (`id -u qmaild`, `head -1 control/me`,
 * `envdir ./env`, `. control/conf-common`), each once. Given the facts read so
 * far, it also names what the sourced files' settings look up, so a caller
 * asks again until nothing new is needed (`lookupsNotYetMade`).
 */
export function factsNeeded(scripts: Array<{ text: string; runsIn: string }>, known: HostFacts = {}): FactRequest {
  const users = new Set<string>();
  const files = new Set<string>();
  const envdirs = new Set<string>();
  const note = (lookup: Lookup) => {
    if (lookup.kind === "uid" || lookup.kind === "gid") users.add(lookup.subject);
    else if ((lookup.kind === "firstLine" || lookup.kind === "contents") && lookup.subject.startsWith("/")) files.add(lookup.subject);
  };
  const walk = (value: ScriptValue | null) => value?.segments.forEach((segment) => typeof segment !== "string" && note(segment));
  for (const { text, runsIn } of scripts) {
    // A sourced settings file is read like the script's own lines, so both readings need its text.
    for (const file of filesSourced(text, runsIn)) files.add(file);
    const meaning = meaningOf(text, runsIn, known);
    if (typeof meaning === "string") continue;
    for (const stage of meaning.chain) [stage.program, ...stage.args].forEach(walk);
    for (const value of meaning.environment.values()) walk(value);
    for (const variable of meaning.variables.values()) walk(variable.value);
    for (const dir of meaning.environmentFrom) envdirs.add(path.posix.isAbsolute(dir) ? dir : path.posix.join(runsIn, dir));
  }
  return { users: [...users].sort(), files: [...files].sort(), envdirs: [...envdirs].sort() };
}

/** What `wanted` asks for that `asked` did not; empty lists when nothing is new. */
export function lookupsNotYetMade(wanted: FactRequest, asked: FactRequest): FactRequest {
  const fresh = (list: string[], before: string[]) => list.filter((item) => !before.includes(item));
  return { users: fresh(wanted.users, asked.users), files: fresh(wanted.files, asked.files), envdirs: fresh(wanted.envdirs, asked.envdirs) };
}
