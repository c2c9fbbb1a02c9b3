// unifiedDiff writes what `diff -u` writes (its hunks, without the file header).
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { unifiedDiff } from "../../../cli/diff/unified-diff";

function gnuDiff(before: string, after: string): string {
  const dir = mkdtempSync(join(tmpdir(), "qf-udiff-"));
  writeFileSync(join(dir, "a"), before);
  writeFileSync(join(dir, "b"), after);
  const result = spawnSync("diff", ["-u", join(dir, "a"), join(dir, "b")], { encoding: "utf8" });
  return result.stdout.split("\n").slice(2).join("\n"); // without the --- and +++ lines
}

const lines = (n: number, tag = "line") => Array.from({ length: n }, (_, i) => `${tag} ${i + 1}\n`).join("");

const CASES: Record<string, [string, string]> = {
  "one line added in the middle": [lines(20), lines(20).replace("line 10\n", "line 10\nnew line\n")],
  "one line changed": [lines(20), lines(20).replace("line 5\n", "line five\n")],
  "two changes far apart: two hunks": [lines(40), lines(40).replace("line 3\n", "line three\n").replace("line 35\n", "")],
  "two changes close together: one hunk": [lines(40), lines(40).replace("line 10\n", "x\n").replace("line 15\n", "y\n")],
  "at the start and at the end": [lines(5), `first\n${lines(5)}last\n`],
  "everything new": ["", lines(3)],
  "everything removed": [lines(3), ""],
  "no newline at the end": [lines(3), lines(3).slice(0, -1)],
};

describe("unifiedDiff", () => {
  for (const [name, [before, after]] of Object.entries(CASES))
    it(`matches diff -u: ${name}`, () => {
      expect(unifiedDiff(before, after)).toBe(gnuDiff(before, after));
    });

  it("is empty for equal texts", () => {
    expect(unifiedDiff(lines(4), lines(4))).toBe("");
  });
});
