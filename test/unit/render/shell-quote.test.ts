import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { shellQuote } from "../../../lib/render/shell-quote";

/** What the shell makes of the quoted word. */
function shellSees(word: string): string {
  return spawnSync("sh", ["-c", `printf '%s' ${word}`], { encoding: "utf8" }).stdout;
}

describe("shellQuote", () => {
  it.each(["25", "/var/qmail/bin:/usr/bin", "zen.spamhaus.org", "a=b,c@d%e+f"])("leaves the plain word %s bare", (value) => {
    expect(shellQuote(value)).toBe(value);
  });

  it.each([
    "",
    "two words",
    "it's",
    "''",
    "$HOME",
    "`id`",
    "$(reboot)",
    "a\\b",
    'say "hi"',
    "~root",
    "*",
    "a;b|c&d",
    "421 $LOCAL busy; try 'later'",
    "tab\there",
    "ünïcödé",
  ])("single-quotes %j so the shell sees it unchanged", (value) => {
    const quoted = shellQuote(value);
    expect(quoted.startsWith("'")).toBe(true);
    expect(shellSees(quoted)).toBe(value);
  });

  it.each(["line\nbreak", "cr\rhere", "nul\0byte"])("refuses %j", (value) => {
    expect(() => shellQuote(value)).toThrow(/newline or NUL/);
  });
});
