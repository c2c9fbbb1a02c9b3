// Every file of test/invalid-configs is a config that must be refused: read,
// checked and planned as `qmail-fleet validate` does, it must fail with each of
// its `# expect:` lines (each a substring of the `path: message` error lines).
// Every file of test/valid-configs must pass, each of its `# warn:` lines
// found among the warnings.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { formatIssues } from "../../../lib/config";
import { loadConfigFile } from "../../../lib/load-config";

const TEST = join(__dirname, "..", "..");
const corpus = (dir: string) =>
  readdirSync(join(TEST, dir))
    .filter((name) => /\.(ya?ml|json)$/.test(name))
    .sort();

/**
 * The expectations of a corpus file: its `# expect: "..."` and `# warn: "..."`
 * comment lines (JSON strings), or for a JSON file the same lines in
 * <file>.expect beside it.
 */
function expectations(dir: string, name: string): { file: string; expected: string[]; warned: string[] } {
  const file = join(TEST, dir, name);
  const text = readFileSync(name.endsWith(".json") ? `${file}.expect` : file, "utf8");
  const expected: string[] = [];
  const warned: string[] = [];
  for (const line of text.split("\n")) {
    const match = /^# (expect|warn): (".*")\s*$/.exec(line);
    if (match) (match[1] === "expect" ? expected : warned).push(JSON.parse(match[2]) as string);
  }
  return { file, expected, warned };
}

const NOW = new Date("2026-01-01T00:00:00Z");

describe("invalid config corpus", () => {
  const files = corpus("invalid-configs");
  it("holds at least 130 configs", () => {
    expect(files.length).toBeGreaterThanOrEqual(130);
  });

  it.each(files)("%s is refused with its expected message", (name) => {
    const { file, expected } = expectations("invalid-configs", name);
    expect(expected.length, "the file needs an expect: line").toBeGreaterThan(0);
    const result = loadConfigFile(file, { now: NOW });
    expect(result.ok, "the config was accepted").toBe(false);
    const output = result.ok ? "" : formatIssues(result.errors);
    for (const line of expected) expect(output).toContain(line);
  });
});

describe("valid config corpus", () => {
  const files = corpus("valid-configs");
  it("holds configs", () => {
    expect(files.length).toBeGreaterThanOrEqual(20);
  });

  it.each(files)("%s is accepted", (name) => {
    const { file, warned } = expectations("valid-configs", name);
    const result = loadConfigFile(file, { now: NOW });
    expect(result.ok ? "" : formatIssues(result.errors)).toBe("");
    const warnings = formatIssues(result.warnings);
    for (const line of warned) expect(warnings).toContain(line);
  });
});
