// No input makes the config reader, checker or planner fail with anything but
// a `path: message`: thousands of mutations of complete configs (values
// replaced by other types, odd text, huge numbers, deleted keys), each read
// and planned as `qmail-fleet validate` does. A crash here would be a stack
// trace in the CLI.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { formatIssues, parseFleetConfig } from "../../../lib/config";
import { planFleet, PlanError } from "../../../lib/plan";
import { readConfigSource } from "../../../lib/source/config-file";
import { prng } from "../../prng";

const ROOT = join(__dirname, "..", "..", "..");
const SOURCES = [
  "examples/Pulumi.mx-fleet.yaml",
  "examples/submission.yaml",
  "examples/smtps.json",
  "examples/mailhub-files/Pulumi.mailhub.yaml",
  "test/golden/maximal.yaml",
  "test/valid-configs/Pulumi.02-known-hosts.yaml",
].map((file) => join(ROOT, file));

const ODD_VALUES: unknown[] = [
  null, true, false, 0, -1, 1.5, 1e300, -1e-300, 2 ** 53 + 2, Number.MAX_SAFE_INTEGER, "", " ", "0", "x".repeat(5000), "a\u200bb", "tab\there",
  "line\nbreak", "\u0000", "ü", "../../etc/passwd", "/", "/var/qmail", "//x", "-x", "$(reboot)", "'quote'", "::", "0", "256.0.0.1", "fe80::1%eth0",
  [], [null], [[]], {}, { secure: "v1:x" }, { secure: 1 }, { a: { b: { c: {} } } }, ["a", 1, true], "2030-01-01 00:00:00 +0000 UTC",
];

type Json = unknown;

/** Every path to a value of the tree. */
function paths(tree: Json, prefix: Array<string | number> = []): Array<Array<string | number>> {
  const out: Array<Array<string | number>> = [prefix];
  if (Array.isArray(tree)) tree.forEach((item, i) => out.push(...paths(item, [...prefix, i])));
  else if (tree !== null && typeof tree === "object") for (const [key, value] of Object.entries(tree)) out.push(...paths(value, [...prefix, key]));
  return out;
}

function mutate(tree: Json, path: Array<string | number>, value: unknown, remove: boolean): Json {
  if (path.length === 0) return value;
  const copy = Array.isArray(tree) ? [...tree] : { ...(tree as Record<string, unknown>) };
  const [head, ...rest] = path;
  if (rest.length === 0 && remove) {
    if (Array.isArray(copy)) copy.splice(head as number, 1);
    else delete (copy as Record<string, unknown>)[head as string];
    return copy;
  }
  (copy as Record<string | number, unknown>)[head] = mutate((tree as Record<string | number, unknown>)[head], rest, value, remove);
  return copy;
}

/** What validate does after reading: parse, then plan (files it names read from nowhere: a missing file is a path: message too). */
function check(raw: Record<string, unknown>): string {
  const parsed = parseFleetConfig(raw, { now: new Date("2026-01-01T00:00:00Z") });
  if (!parsed.ok) return formatIssues(parsed.errors);
  try {
    planFleet(parsed.config, { readFile: (path) => (path.endsWith("known_hosts") ? readFileSync(join(ROOT, "examples", "known_hosts")) : Buffer.from("postmaster@example.com\n")) });
    return "ok";
  } catch (error) {
    if (error instanceof PlanError) return error.message;
    throw error;
  }
}

describe("robustness", () => {
  it.each(SOURCES.map((file) => [file.slice(ROOT.length + 1), file]))("%s survives 600 mutations", (_name, file) => {
    const raw = readConfigSource(file).raw;
    const random = prng(file.length * 7919);
    const all = paths(raw);
    for (let round = 0; round < 600; round++) {
      const path = all[Math.floor(random() * all.length)];
      const value = ODD_VALUES[Math.floor(random() * ODD_VALUES.length)];
      const mutated = mutate(raw, path, value, random() < 0.2) as Record<string, unknown>;
      let outcome: string;
      try {
        outcome = check(mutated);
      } catch (error) {
        throw new Error(`crash after setting ${JSON.stringify(path)} to ${JSON.stringify(value)?.slice(0, 80)}: ${(error as Error).stack}`);
      }
      // Every line is `path: message` or a message of its own; nothing of zod's or JavaScript's wording.
      expect(outcome).not.toMatch(/Invalid input|received undefined|\[object Object\]|undefined is not|Cannot read|is not a function|NaN/);
    }
  });
});
