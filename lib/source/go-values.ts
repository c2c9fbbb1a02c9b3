// How the Pulumi engine (Go) spells the values it reads from a stack file:
// YAML 1.2 scalars as gopkg.in/yaml.v3 resolves them, timestamps as Go's
// time.Time prints itself, map keys as fmt's %v prints them. lib/source/yaml.ts
// uses these so that the CLI reads a stack file exactly as `pulumi up` does.

/** Thrown for a scalar an explicit tag cannot hold, as yaml.v3 refuses it. */
export class ScalarTagError extends Error {}

/** A resolved plain or tagged scalar: what yaml.v3 decodes it to. */
export type Resolved =
  | { kind: "null" }
  | { kind: "bool"; value: boolean }
  | { kind: "int"; value: bigint }
  | { kind: "float"; value: number }
  | { kind: "timestamp"; text: string }
  | { kind: "str"; value: string };

const MAP: Record<string, Resolved> = {};
for (const s of ["true", "True", "TRUE"]) MAP[s] = { kind: "bool", value: true };
for (const s of ["false", "False", "FALSE"]) MAP[s] = { kind: "bool", value: false };
for (const s of ["", "~", "null", "Null", "NULL"]) MAP[s] = { kind: "null" };
for (const s of [".nan", ".NaN", ".NAN"]) MAP[s] = { kind: "float", value: NaN };
for (const s of [".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"]) MAP[s] = { kind: "float", value: Infinity };
for (const s of ["-.inf", "-.Inf", "-.INF"]) MAP[s] = { kind: "float", value: -Infinity };

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;
const YAML_STYLE_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;

/** Go's strconv.ParseInt(s, base, 64) / ParseUint: the value, or undefined where Go returns an error. */
function goParseInt(s: string, base: 0 | 2 | 8, unsigned: boolean): bigint | undefined {
  // The common case, a short decimal without a leading zero, needs no digit loop.
  if (base === 0 && /^[+-]?[1-9][0-9]{0,14}$/.test(s) && !(unsigned && /^[+-]/.test(s))) return BigInt(s.startsWith("+") ? s.slice(1) : s);
  let text = s;
  let negative = false;
  if (!unsigned && (text.startsWith("+") || text.startsWith("-"))) {
    negative = text.startsWith("-");
    text = text.slice(1);
  }
  let radix: number = base;
  if (base === 0) {
    radix = 10;
    if (/^0[xX]/.test(text)) [radix, text] = [16, text.slice(2)];
    else if (/^0[oO]/.test(text)) [radix, text] = [8, text.slice(2)];
    else if (/^0[bB]/.test(text)) [radix, text] = [2, text.slice(2)];
    else if (text.length > 1 && text.startsWith("0")) [radix, text] = [8, text.slice(1)];
  }
  const digits = { 2: /^[01]+$/, 8: /^[0-7]+$/, 10: /^[0-9]+$/, 16: /^[0-9a-fA-F]+$/ }[radix as 2 | 8 | 10 | 16];
  if (!digits.test(text)) return undefined;
  let value = 0n;
  for (const c of text) value = value * BigInt(radix) + BigInt(parseInt(c, 16));
  if (negative) value = -value;
  if (unsigned ? value > UINT64_MAX : value < INT64_MIN || value > INT64_MAX) return undefined;
  return value;
}

/** Go's strconv.ParseFloat(s, 64) for the decimal forms yaml.v3 lets through; undefined on error (overflow included). */
function goParseFloat(s: string): number | undefined {
  if (!/^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/.test(s)) return undefined;
  const value = Number(s);
  return Number.isFinite(value) ? value : undefined; // Go reports ErrRange for ±Inf
}

/** yaml.v3's resolve(tag, text) for a plain scalar (tag "") or an explicitly tagged one. */
export function resolveScalar(text: string, tag: "" | "!!str" | "!!int" | "!!float" | "!!bool" | "!!null" | "!!timestamp" | "!!binary" = ""): Resolved {
  if (tag === "!!str") return { kind: "str", value: text };
  if (tag === "!!binary") {
    const clean = text.replace(/\s+/g, "");
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(clean) || clean.length % 4 !== 0) throw new ScalarTagError("!!binary value contains invalid base64 data");
    return { kind: "str", value: Buffer.from(clean, "base64").toString("utf8") };
  }
  const resolved = resolvePlain(text, tag === "" || tag === "!!timestamp");
  if (tag === "" || kindTag(resolved) === tag) return resolved;
  if (tag === "!!float" && resolved.kind === "int") return { kind: "float", value: Number(resolved.value) };
  throw new ScalarTagError(`cannot decode ${kindTag(resolved)} \`${text}\` as a ${tag}`);
}

function kindTag(resolved: Resolved): string {
  return `!!${resolved.kind}`;
}

function resolvePlain(text: string, timestamps: boolean): Resolved {
  const first = text === "" ? "" : text[0];
  const hint = first === "" ? "N" : /[+-]/.test(first) ? "S" : /[0-9]/.test(first) ? "D" : /[yYnNtTfFoO~]/.test(first) ? "M" : first === "." ? "." : "";
  if (hint === "") return { kind: "str", value: text };
  if (Object.prototype.hasOwnProperty.call(MAP, text)) return MAP[text];
  if (text === "<<") return { kind: "str", value: text };
  switch (hint) {
    case ".": {
      const value = goParseFloat(text);
      if (value !== undefined) return { kind: "float", value };
      break;
    }
    case "D":
    case "S": {
      if (timestamps) {
        const time = goTimestamp(text);
        if (time !== undefined) return { kind: "timestamp", text: time };
      }
      const plain = text.replace(/_/g, "");
      const int = goParseInt(plain, 0, false) ?? goParseInt(plain, 0, true);
      if (int !== undefined) return { kind: "int", value: int };
      if (YAML_STYLE_FLOAT.test(plain)) {
        const value = goParseFloat(plain);
        if (value !== undefined) return { kind: "float", value };
      }
      for (const [prefix, base] of [["0b", 2], ["0o", 8]] as const) {
        if (plain.startsWith(prefix)) {
          const value = goParseInt(plain.slice(2), base, false) ?? goParseInt(plain.slice(2), base, true);
          if (value !== undefined) return { kind: "int", value };
        } else if (plain.startsWith(`-${prefix}`)) {
          const value = goParseInt(`-${plain.slice(3)}`, base, false);
          if (value !== undefined) return { kind: "int", value };
        }
      }
      break;
    }
  }
  return { kind: "str", value: text };
}

// --- timestamps ----------------------------------------------------------------

const DATE = String.raw`(\d{4})-(\d{1,2})-(\d{1,2})`;
const CLOCK = String.raw`(\d{1,2}):(\d{1,2}):(\d{1,2})(?:[.,](\d+))?`;
const WITH_ZONE = new RegExp(`^${DATE}[Tt]${CLOCK}(Z|[+-]\\d{2}:\\d{2})$`);
const WITHOUT_ZONE = new RegExp(`^${DATE} ${CLOCK}$`);
const DATE_ONLY = new RegExp(`^${DATE}$`);

const daysIn = (year: number, month: number) => new Date(Date.UTC(year, month, 0)).getUTCDate();

/**
 * A plain scalar yaml.v3 reads as a timestamp, printed as Go prints a
 * time.Time ("2030-01-01 00:00:00 +0000 UTC"): how the engine hands it to the
 * program. Undefined for anything else. Offsets other than +00:00 print as
 * Go does for a zone it does not know by name, which assumes the engine runs
 * with TZ=UTC.
 */
export function goTimestamp(text: string): string | undefined {
  if (!/^\d{4}-/.test(text)) return undefined;
  const match = WITH_ZONE.exec(text) ?? WITHOUT_ZONE.exec(text) ?? DATE_ONLY.exec(text);
  if (!match) return undefined;
  const [, y, mo, d, h = "0", mi = "0", s = "0", fraction = "", zone = "Z"] = match;
  const [year, month, day, hour, minute, second] = [y, mo, d, h, mi, s].map(Number);
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month) || hour > 23 || minute > 59 || second > 59) return undefined;
  let offsetMinutes = 0;
  if (zone !== "Z") {
    const [zh, zm] = zone.slice(1).split(":").map(Number);
    if (zh > 24 || zm > 60) return undefined;
    offsetMinutes = (zone[0] === "-" ? -1 : 1) * (zh * 60 + zm);
  }
  const pad = (n: number, width = 2) => String(n).padStart(width, "0");
  const nanos = fraction.slice(0, 9).padEnd(9, "0").replace(/0+$/, "");
  const sign = offsetMinutes < 0 ? "-" : "+";
  const offset = `${sign}${pad(Math.floor(Math.abs(offsetMinutes) / 60))}${pad(Math.abs(offsetMinutes) % 60)}`;
  const zoneName = offsetMinutes === 0 ? "UTC" : offset;
  return `${pad(year, 4)}-${pad(month)}-${pad(day)} ${pad(hour)}:${pad(minute)}:${pad(second)}${nanos ? `.${nanos}` : ""} ${offset} ${zoneName}`;
}

// --- fmt %v ----------------------------------------------------------------------

/** Go's fmt %v of a float64 (shortest %g, exponent at least two digits). */
export function goFormatFloat(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  if (value === 0) return Object.is(value, -0) ? "-0" : "0";
  const [mantissa, exponentText] = value.toExponential().split("e");
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent >= 6) {
    const sign = exponent < 0 ? "-" : "+";
    return `${mantissa}e${sign}${String(Math.abs(exponent)).padStart(2, "0")}`;
  }
  const digits = mantissa.replace(/[-.]/g, "");
  const negative = value < 0 ? "-" : "";
  if (exponent < 0) return `${negative}0.${"0".repeat(-exponent - 1)}${digits}`;
  const whole = digits.slice(0, exponent + 1).padEnd(exponent + 1, "0");
  const rest = digits.slice(exponent + 1);
  return `${negative}${whole}${rest ? `.${rest}` : ""}`;
}

/** A resolved map key as the engine ends up spelling it (fmt's %v of the decoded key). */
export function goKeyText(resolved: Resolved): string {
  switch (resolved.kind) {
    case "null":
      return "<nil>";
    case "bool":
      return String(resolved.value);
    case "int":
      return resolved.value.toString();
    case "float":
      return goFormatFloat(resolved.value);
    case "timestamp":
      return resolved.text;
    case "str":
      return resolved.value;
  }
}
