// Every file of test/invalid-configs is a config that must be refused with
// its `expect:` line (a substring of one `path: message` error line).
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { formatIssues, parseFleetConfig } from "../../../lib/config";
import { readConfigFile } from "../../../cli/stack-file";

const CORPUS = join(__dirname, "..", "..", "invalid-configs");
const files = readdirSync(CORPUS).filter((name) => /\.(ya?ml|json)$/.test(name)).sort();

describe("invalid config corpus", () => {
  it("holds at least 40 configs", () => {
    expect(files.length).toBeGreaterThanOrEqual(40);
  });

  it.each(files)("%s is refused with its expected message", (name) => {
    const { expect: expected, ...config } = readConfigFile(join(CORPUS, name));
    const wanted = Array.isArray(expected) ? expected : [expected];
    expect(wanted.every((line) => typeof line === "string" && line.length > 0), "the file needs an expect: line").toBe(true);
    const result = parseFleetConfig(config);
    expect(result.ok, "the config was accepted").toBe(false);
    const output = result.ok ? "" : formatIssues(result.errors);
    for (const line of wanted) expect(output).toContain(line);
  });
});
