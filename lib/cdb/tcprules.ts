// tcpserver access rules (`tcpserver -x rules.cdb`), compiled as ucspi-tcp's
// `tcprules` does, byte for byte.
//
// Source: one rule per line, `ADDRESS:allow|deny[,NAME="value"...]`.
//   - Lines starting with `#` and blank lines are ignored; trailing spaces,
//     tabs are dropped. Leading spaces are NOT (they become part of the address,
//     as in tcprules).
//   - ADDRESS is `1.2.3.4`, a prefix `1.2.3.`, a range `1.2.3.40-50` (one key
//     per address, upper bound capped at 255), `=host.name`, `=.domain`,
//     `info@address`, or empty (the default rule `:allow`).
//   - A value is delimited by the character right after `=` (usually `"`), so
//     `NAME=""` sets an empty value and `NAME='a"b'` is a value with a quote.
// Encoding (checked against Debian's tcprules): key = address; value = `D\0`
// for deny or nothing for allow, then `+NAME=value\0` per variable. Every rule
// is stored, duplicates included; tcpserver uses the first.
//
// Stricter than tcprules on purpose, both for cases tcprules silently turns
// into something else: a line without `:` (tcprules drops it) and a variable
// without `=` before the next one (tcprules glues it into the next name).
import { CdbBufferWriter } from "./writer";

export interface TcpRule {
  address: string;
  action: "allow" | "deny";
  env?: Record<string, string>;
}

export interface TcpRulesProblem {
  line: number;
  reason: string;
}

export class TcpRulesSourceError extends Error {
  constructor(readonly problems: TcpRulesProblem[]) {
    super(`tcprules: ${problems.length} bad line${problems.length === 1 ? "" : "s"}:\n${problems.map((p) => `  line ${p.line}: ${p.reason}`).join("\n")}`);
    this.name = "TcpRulesSourceError";
  }
}

/** One compiled cdb record; bytes are carried as latin1 strings (one char per byte). */
interface TcpRecord {
  key: string;
  value: string;
}

function parseRuleLine(line: string): { records: TcpRecord[] } | { error: string } {
  const colon = line.indexOf(":");
  if (colon < 0) return { error: "no ':' between address and allow/deny (tcprules would silently ignore this line)" };
  const address = line.slice(0, colon);
  let rest = line.slice(colon + 1);
  let value: string;
  if (rest.startsWith("deny")) {
    value = "D\0";
    rest = rest.slice(4);
  } else if (rest.startsWith("allow")) {
    value = "";
    rest = rest.slice(5);
  } else {
    return { error: `expected 'allow' or 'deny' after the ':' (lower case, no spaces), found ${JSON.stringify(rest.slice(0, 20))}` };
  }
  while (rest.length > 0) {
    if (rest[0] !== ",") return { error: `expected ',NAME="value"' or the end of the line, found ${JSON.stringify(rest.slice(0, 20))}` };
    const equals = rest.indexOf("=");
    if (equals < 0) return { error: `variable ${JSON.stringify(rest.slice(1))} has no '=value' (write NAME="" for an empty value)` };
    const name = rest.slice(1, equals);
    if (name.includes(",")) return { error: `variable ${JSON.stringify(name.slice(0, name.indexOf(",")))} has no '=value' (write NAME="" for an empty value)` };
    if (equals + 1 >= rest.length) return { error: `variable ${JSON.stringify(name)} has '=' but no quoted value` };
    const delimiter = rest[equals + 1];
    const close = rest.indexOf(delimiter, equals + 2);
    if (close < 0) return { error: `value of ${JSON.stringify(name)} opens with ${JSON.stringify(delimiter)} but never closes` };
    value += `+${name}=${rest.slice(equals + 2, close)}\0`;
    rest = rest.slice(close + 1);
  }
  const range = expandRange(address);
  if ("error" in range) return range;
  return { records: range.keys.map((key) => ({ key, value })) };
}

/** `scan_ulong` as ucspi-tcp has it: digits only, wrapping at 2^64. */
function scanNumber(text: string): bigint | undefined {
  if (!/^[0-9]*$/.test(text)) return undefined;
  return text === "" ? 0n : BigInt(text) % (1n << 64n);
}

/** A range `1.2.3.40-50` becomes one key per number; other addresses are one key. */
function expandRange(address: string): { keys: string[] } | { error: string } {
  if (address.includes("=") || address.includes("@")) return { keys: [address] };
  const dash = address.indexOf("-");
  if (dash < 0) return { keys: [address] };
  const left = address.lastIndexOf(".", dash - 1) + 1;
  let right = address.indexOf(".", dash + 1);
  if (right < 0) right = address.length;
  const bottom = scanNumber(address.slice(left, dash));
  let top = scanNumber(address.slice(dash + 1, right));
  if (bottom === undefined || top === undefined) {
    return { error: `range ${JSON.stringify(address.slice(left, right))} in ${JSON.stringify(address)} is not NUMBER-NUMBER` };
  }
  if (top > 255n) top = 255n;
  const keys: string[] = [];
  for (let n = bottom; n <= top; n++) keys.push(address.slice(0, left) + n.toString() + address.slice(right));
  return { keys };
}

function latin1(source: string | Uint8Array): string {
  return typeof source === "string" ? Buffer.from(source, "utf8").toString("latin1") : Buffer.from(source).toString("latin1");
}

/** Compiles rules source (bytes, or text as UTF-8) into cdb records, in order. */
function compileRecords(source: string | Uint8Array): TcpRecord[] {
  const text = latin1(source);
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  const records: TcpRecord[] = [];
  const problems: TcpRulesProblem[] = [];
  lines.forEach((raw, i) => {
    if (raw.startsWith("#")) return;
    if (raw.includes("\r")) {
      problems.push({ line: i + 1, reason: "carriage return in the line (tcprules would refuse or mis-store it); save the file with Unix line endings" });
      return;
    }
    const line = raw.replace(/[ \t]+$/, "");
    if (line === "") return;
    const parsed = parseRuleLine(line);
    if ("error" in parsed) problems.push({ line: i + 1, reason: parsed.error });
    else records.push(...parsed.records);
  });
  if (problems.length > 0) throw new TcpRulesSourceError(problems);
  return records;
}

/**
 * Rules that hand RELAYCLIENT to every client: "" (the default, which
 * tcpserver looks up last), "=" (looked up just before it for every client
 * whose host name tcpserver found), or "0-255." (a rule for every first
 * octet, "0." to "255.", which every IPv4 client's address prefix meets
 * before "=" and "").
 */
export type EveryClientRule = "" | "=" | "0-255.";

/**
 * The rule, if any, that allows every client (without a rule for a longer
 * prefix of its own address) with RELAYCLIENT set; first match wins for each
 * address. "=" counts only while tcpserver looks host names up (not -H).
 */
export function relayForEveryClient(source: string | Uint8Array, lookupRemoteHost: boolean): EveryClientRule | undefined {
  const firstValue = new Map<string, string>();
  for (const record of compileRecords(source)) if (!firstValue.has(record.key)) firstValue.set(record.key, record.value);
  const relays = (key: string) => {
    const value = firstValue.get(key);
    return value !== undefined && !value.startsWith("D") && value.split("\0").some((item) => item.startsWith("+RELAYCLIENT="));
  };
  if (lookupRemoteHost && relays("=")) return "=";
  if (relays("")) return "";
  for (let octet = 0; octet < 256; octet++) if (!relays(`${octet}.`)) return undefined;
  return "0-255.";
}

/** How a message names the rule relayForEveryClient found. */
export function everyClientRuleText(rule: EveryClientRule): string {
  if (rule === "") return 'the default rule (address "")';
  if (rule === "=") return 'the rule for every client with a host name (address "=")';
  return 'a rule for each first octet (addresses "0." to "255.", e.g. 0-255.)';
}

/** The tcpserver rules cdb for `source`, byte-identical to `tcprules`. */
export function buildTcpRules(source: string | Uint8Array | readonly TcpRule[]): Buffer {
  const text = typeof source === "string" || source instanceof Uint8Array ? source : renderTcpRules(source);
  const writer = new CdbBufferWriter();
  for (const record of compileRecords(text)) writer.add(Buffer.from(record.key, "latin1"), Buffer.from(record.value, "latin1"));
  return writer.toBuffer();
}

const VALUE_DELIMITERS = ['"', "'", "/", "|", "%", "#", "~", "^"];

/** Renders structured rules (from configuration) as tcprules source, one line each. */
export function renderTcpRules(rules: readonly TcpRule[]): string {
  const problems: TcpRulesProblem[] = [];
  const lines = rules.map((rule, i) => {
    const where = (reason: string) => problems.push({ line: i + 1, reason: `rule ${i + 1} (${JSON.stringify(rule.address)}): ${reason}` });
    if (/[:\n\r\0]/.test(rule.address)) where("address must not contain ':', a line break or NUL");
    if (/^[ \t#]|[ \t]$/.test(rule.address)) where("address must not start with '#' or start/end with spaces or tabs");
    if (rule.action !== "allow" && rule.action !== "deny") where(`action must be "allow" or "deny", not ${JSON.stringify(rule.action)}`);
    let line = `${rule.address}:${rule.action}`;
    // Variables in one canonical order (bytewise by name), whatever order the config's map had:
    // the engine hands the program every map sorted, so render and pulumi up write the same bytes.
    const env = rule.env ?? {};
    for (const name of Object.keys(env).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))) {
      const value = env[name];
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) where(`variable name ${JSON.stringify(name)} must be letters, digits and '_', not starting with a digit`);
      if (/[\n\r\0]/.test(value)) where(`value of ${name} must not contain a line break or NUL`);
      // The value is delimited by the character after '=': pick one the value does not contain.
      const delimiter = VALUE_DELIMITERS.find((d) => !value.includes(d));
      if (delimiter === undefined) where(`value of ${name} contains every usable delimiter (${VALUE_DELIMITERS.join(" ")})`);
      line += `,${name}=${delimiter}${value}${delimiter}`;
    }
    return line;
  });
  if (problems.length > 0) throw new TcpRulesSourceError(problems);
  return lines.map((l) => l + "\n").join("");
}
