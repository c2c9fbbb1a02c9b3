// Numbers written with a leading zero. yaml.v3, and so pulumi up, reads a
// plain 0022 as octal (18), where most people mean twenty-two: an SSH port or
// a limit quietly becomes another number. validate reads it the same way and
// says so, with the line, so the surprise comes before the rollout.
import type { SourceIssue } from "./engine-config";

/** A plain scalar of octal digits after a leading 0, where YAML puts a value: after `key: `, `- `, `[`, `{` or `,`. */
const OCTAL_VALUE = /(?:^[ \t]*-[ \t]+|:[ \t]+|[[{,][ \t]*)([-+]?0[0-7]+)(?=[ \t]*(?:$|[,}\]]|[ \t]#))/gm;

export function octalNumberWarnings(text: string): SourceIssue[] {
  const warnings: SourceIssue[] = [];
  for (const match of text.matchAll(OCTAL_VALUE)) {
    const written = match[1];
    const digits = written.replace(/^[-+]/, "");
    if (/^0+$/.test(digits)) continue;
    const sign = written.startsWith("-") ? "-" : "";
    const octal = `${sign}${parseInt(digits, 8)}`;
    const decimal = `${sign}${Number(digits)}`;
    const before = text.slice(0, match.index + match[0].length - written.length).split("\n");
    const key = /^\s*(?:-\s+)?((?:[^\s:#]|:(?=\S))(?:[^:#]|:(?=\S))*?)\s*:\s/.exec(before[before.length - 1])?.[1];
    warnings.push({
      path: "",
      message: `line ${before.length}${key ? ` (${key})` : ""}: ${written} is read as the octal number ${octal}, as pulumi up reads YAML: write ${decimal} if you meant decimal ${decimal}, or ${sign}0o${digits.replace(/^0+/, "")} to keep ${octal} without this warning`,
    });
  }
  return warnings;
}
