// Turns option values into exported variables and program flags, walking the
// option tables: what an option becomes is declared once, in its descriptor.
import { activeGroup, allOptions, type OptionSection } from "../schema/catalog";
import type { FlagProgram } from "../schema/descriptor";
import type { ServiceConfig } from "../schema/service";
import { shellQuote } from "./shell-quote";

type Values = Record<string, unknown>;

/** `[NAME, value]` pairs a section exports, in table order; unset options export nothing. */
export function sectionExports(section: OptionSection, service: ServiceConfig): Array<[string, string]> {
  const group = activeGroup(service as unknown as Values, section);
  if (!group) return [];
  const pairs: Array<[string, string]> = [];
  for (const [key, descriptor] of Object.entries(section.options)) {
    const becomes = descriptor.becomes;
    const value = group[key];
    if (!("env" in becomes) || value === undefined) continue;
    if (becomes.exports) pairs.push(...becomes.exports(value as never));
    else if (typeof value === "boolean") {
      if (value) pairs.push([becomes.env, "1"]);
    } else pairs.push([becomes.env, String(value)]);
  }
  return pairs;
}

/** `export NAME=value`; text that merely looks like an expansion is marked as meant literally. */
export function exportLines([name, value]: [string, string]): string[] {
  const line = `export ${name}=${shellQuote(value)}`;
  return /[$`]/.test(value) ? ["# shellcheck disable=SC2016 # literal text, not an expansion", line] : [line];
}

/** Shell words of one program's flags, in table order, values quoted. */
export function programFlags(program: FlagProgram, service: ServiceConfig): string[] {
  const words: string[] = [];
  for (const { section, key, descriptor } of allOptions()) {
    const becomes = descriptor.becomes;
    if (!("flag" in becomes) || becomes.program !== program) continue;
    const group = activeGroup(service as unknown as Values, section);
    const value = group?.[key];
    if (value === undefined) continue;
    // multilog takes its settings glued to the letter: s1000000 n20
    const withValue = (v: unknown) =>
      program === "multilog" ? [shellQuote(`${becomes.flag}${String(v)}`)] : [becomes.flag, shellQuote(String(v))];
    if (typeof value === "boolean") {
      const flag = value ? becomes.flag : becomes.flagWhenFalse;
      // A boolean whose "true" is the program's own default is written only when false.
      if (flag && !(value && becomes.flagWhenFalse)) words.push(flag);
    } else if (Array.isArray(value)) for (const item of value) words.push(...withValue(item));
    else words.push(...withValue(value));
  }
  return words;
}
