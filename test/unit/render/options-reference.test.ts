import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { renderOptionsReference } from "../../../lib/render/options-reference";
import { allOptions } from "../../../lib/schema/catalog";

const REFERENCE = join(__dirname, "..", "..", "..", "examples", "OPTIONS.md");

describe("examples/OPTIONS.md", () => {
  const text = renderOptionsReference();

  it("lists every option", () => {
    for (const { name } of allOptions()) expect(text).toContain(`| \`${name}\` |`);
  });

  it("is up to date with the option tables", () => {
    if (process.env.UPDATE_GOLDEN === "1") writeFileSync(REFERENCE, text);
    expect(existsSync(REFERENCE), "run with UPDATE_GOLDEN=1").toBe(true);
    expect(text).toBe(readFileSync(REFERENCE, "utf8"));
  });
});
