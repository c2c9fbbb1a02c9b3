// Value types shared by the option schema. Every value ends up somewhere on a
// mailhub: in a run script's environment, on a program's command line, as a
// path, or in an SMTP answer. Each type here refuses what would break there:
// line breaks and other control or invisible characters, text longer than the
// kernel or SMTP allow, paths the filesystem cannot hold, programs that are
// not one program. Messages say what to write instead.
import { z } from "zod";

// --- characters -------------------------------------------------------------------

/** Characters that would split a line of a generated script even inside quotes. */
const LINE_BREAKING = /[\n\r\0]/;

/**
 * Control characters, and the Unicode characters that show as nothing or as a
 * plain space: copied from a web page or a chat they hide in a value and make
 * it something else than it looks.
 */
const INVISIBLE = /[\u0001-\u0008\u000b\u000c\u000e-\u001f\u007f-\u00a0\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u2000-\u200f\u2028-\u202f\u205f-\u206f\u3000\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufffb]/u;

const NAMES: Record<number, string> = {
  0x09: "a tab",
  0xa0: "a no-break space",
  0xad: "a soft hyphen",
  0x200b: "a zero-width space",
  0x200c: "a zero-width non-joiner",
  0x200d: "a zero-width joiner",
  0x200e: "a left-to-right mark",
  0x200f: "a right-to-left mark",
  0x202e: "a right-to-left override",
  0x2028: "a line separator",
  0x2029: "a paragraph separator",
  0x2060: "a word joiner",
  0xfeff: "a byte order mark",
  0x3000: "an ideographic space",
};

/** "a zero-width space (U+200B)" */
export function describeCharacter(c: string): string {
  const code = c.codePointAt(0)!;
  const hex = `U+${code.toString(16).toUpperCase().padStart(4, "0")}`;
  if (NAMES[code]) return `${NAMES[code]} (${hex})`;
  if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) return `the control character ${hex}`;
  return `the invisible character ${hex}`;
}

/** Why `s` cannot be put into a run script, or undefined. */
export function textProblem(s: string, what: string, maxBytes: number, allowTab = false): string | undefined {
  if (LINE_BREAKING.test(s)) return `${what} must not contain a line break or NUL byte: put it on one line`;
  const invisible = [...s].find((c) => (c === "\t" ? !allowTab : INVISIBLE.test(c)));
  if (invisible !== undefined)
    return `${what} contains ${describeCharacter(invisible)} at character ${[...s].indexOf(invisible) + 1}, which does not show: retype the value`;
  const bytes = Buffer.byteLength(s);
  if (bytes > maxBytes) return `${what} is ${bytes} bytes long; it may be at most ${maxBytes}`;
  if (s !== s.trim()) return `${what} starts or ends with a space, which does not show: remove it`;
  return undefined;
}

// --- text ----------------------------------------------------------------------------

/** The most any single value the config puts into an environment may be (Linux allows 128 KiB per string; nothing here needs more). */
export const MAX_TEXT_BYTES = 1024;

/** A string; the type error says so, with `example` when given (otherwise the option's own sample is added to it). */
const typed = (what: string, example?: string) => z.string({ error: example ? `${what} must be text, for example ${example}` : `${what} must be text` });

/** Any text that will appear in a script: one line, nothing invisible, at most `maxBytes`. */
export function scriptText(what = "this value", options: { maxBytes?: number; example?: string } = {}) {
  const maxBytes = options.maxBytes ?? MAX_TEXT_BYTES;
  return typed(what, options.example).superRefine((s, ctx) => {
    const problem = textProblem(s, what, maxBytes);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  });
}

/** Non-empty script text. */
export function nonEmptyText(what = "this value", options: { maxBytes?: number; example?: string } = {}) {
  return scriptText(what, options).refine((s) => s.length > 0, { message: `${what} must not be empty` });
}

/**
 * Text sent to SMTP clients (a banner, a refusal): printable ASCII only, as
 * SMTP replies are, and short enough for one reply line (512 bytes with the
 * code and CRLF).
 */
export function smtpText(what: string, maxBytes: number, example: string, options: { allowEmpty?: boolean } = {}) {
  return typed(what, example).superRefine((s, ctx) => {
    const problem = smtpTextProblem(s, what, maxBytes, options.allowEmpty);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  });
}

export function smtpTextProblem(s: string, what: string, maxBytes: number, allowEmpty = false): string | undefined {
  const problem = textProblem(s, what, maxBytes) ?? (s.length === 0 && !allowEmpty ? `${what} must not be empty` : undefined);
  if (problem) return problem;
  const other = [...s].find((c) => c < " " || c > "~");
  if (other !== undefined) return `${what} contains '${other}', but SMTP replies are plain ASCII: write it with ASCII letters only`;
  return undefined;
}

/** The last part of a dotted option name: `jgreylist.dir` → `dir`. */
function lastName(what: string): string {
  const word = what.split(/[.\s]/).filter(Boolean).pop() ?? what;
  return word.replace(/\[\]$/, "");
}

// --- paths and programs -------------------------------------------------------------

/** Linux's limits: a path of at most 4095 bytes, each name in it at most 255. */
export const PATH_MAX_BYTES = 4095;
export const NAME_MAX_BYTES = 255;

/** Why `s` is not a usable absolute path on a host, or undefined. */
export function pathProblem(s: string, what: string): string | undefined {
  const text = textProblem(s, what, PATH_MAX_BYTES);
  if (text) return text;
  if (s === "") return `${what} must not be empty: give an absolute path`;
  if (!s.startsWith("/")) return `${what} must be an absolute path (start with /), not '${s}'`;
  if (/\s/.test(s)) return `${what} contains a space: qmail's programs take it as two words; choose a path without spaces`;
  const other = [...s].find((c) => c < "!" || c > "~");
  if (other !== undefined) return `${what} contains '${other}': use only ASCII letters, digits and punctuation in paths on a mailhub`;
  const parts = s.split("/").slice(1);
  if (parts.includes("..")) return `${what} must not contain '..': write the path it means directly`;
  if (s !== "/" && (parts.includes(".") || parts.includes("") )) return `${what} must be written plainly, without '//', '/./' or a '/' at the end: ${normalizedPath(s)}`;
  const long = parts.find((part) => Buffer.byteLength(part) > NAME_MAX_BYTES);
  if (long) return `${what} has a name of ${Buffer.byteLength(long)} bytes, but a file name may be at most ${NAME_MAX_BYTES}`;
  return undefined;
}

const normalizedPath = (s: string) => "/" + s.split("/").filter((p) => p !== "" && p !== ".").join("/");

/** An absolute path on the host, e.g. /var/qmail/control/validrcptto.cdb. */
export function absolutePath(what = "this path") {
  return typed(what).superRefine((s, ctx) => {
    const problem = pathProblem(s, what) ?? (s === "/" ? `${what} must name a file or directory, not / itself` : undefined);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  });
}

/**
 * A program: an absolute path, or a bare name looked up in the script's PATH
 * (`absolute`: a full path only, for programs started without a PATH search).
 * Always one program: no arguments, nothing that reads as an option.
 */
export function programPath(what = "this program", options: { absolute?: boolean; example?: string } = {}) {
  return typed(what, options.example).superRefine((s, ctx) => {
    const fail = (message: string) => ctx.addIssue({ code: "custom", message });
    const text = textProblem(s, what, PATH_MAX_BYTES);
    if (text) return fail(text);
    if (s === "") return fail(`${what} must not be empty`);
    if (/\s/.test(s.trim()))
      return fail(`${what} must be one program without arguments ('${s.split(/\s+/)[0]}'): qmail starts it as a single file name; put options into a wrapper script`);
    if (s.startsWith("/")) {
      const problem = pathProblem(s, what);
      if (problem) return fail(problem);
      if (s.endsWith("/")) return fail(`${what} must name a program, not a directory`);
      return;
    }
    if (options.absolute)
      return fail(
        `${what} must be the full path of the program (for example /usr/local/bin/${/^[A-Za-z0-9_+][A-Za-z0-9._+-]*$/.test(s) ? s : "program"}): it is started without a PATH search`,
      );
    if (!/^[A-Za-z0-9_+][A-Za-z0-9._+-]*$/.test(s))
      fail(`${what} must be an absolute path or a plain program name found in PATH (no directories, no leading '-' or '.')`);
  });
}

// --- numbers --------------------------------------------------------------------------

export function integer(min: number, max: number, what = "this value", example?: number) {
  const sample = example ?? (min <= 1 && max >= 1 ? Math.min(max, Math.max(min, 30)) : min);
  const range = `${what} must be a whole number from ${min} to ${max}`;
  const forExample = `for example ${lastName(what)}: ${sample}`;
  return z
    .number({ error: (issue) => `${range}${givenInstead(issue.input)}, ${forExample}` })
    .int({ message: range, abort: true })
    .min(min, { message: `${what} must be between ${min} and ${max}`, abort: true })
    .max(max, { message: `${what} must be between ${min} and ${max}` });
}

/** What a number field was given instead, and the likely fix: quotes around a number, a unit after it. */
function givenInstead(input: unknown): string {
  if (typeof input !== "string") return "";
  const shown = input.length <= 40 && !/[\x00-\x1f\x7f]/.test(input) ? `'${input}'` : "";
  if (/^\s*[-+]?\d+(\.\d+)?\s*$/.test(input)) return `, not the text ${shown}: write the number without quotes`;
  if (/^\s*\d+(\.\d+)?\s*[A-Za-z%]+\s*$/.test(input)) return `, not the text ${shown}: write the number alone, without a unit`;
  return shown ? `, not the text ${shown}` : ", not text";
}

export const tcpPort = (what = "the port") => integer(1, 65535, what, 25);

// --- names ----------------------------------------------------------------------------------

/** Longest user or group name useradd accepts. */
export const MAX_ACCOUNT_NAME = 32;

/** A system user or group name as useradd accepts it. */
export function accountName(what = "the user") {
  return typed(what, `${lastName(what)}: qmaild`)
    .regex(/^[a-z_][a-z0-9_-]*\$?$/, { message: `${what} must be a system account name (lower case letters, digits, '_' and '-', not starting with a digit)` })
    .max(MAX_ACCOUNT_NAME, { message: `${what} may be at most ${MAX_ACCOUNT_NAME} characters (useradd's limit)` });
}

/** A name that becomes part of an environment variable, e.g. RELAYCLIENT. */
export function envName(what = "the variable name") {
  return z
    .string({ error: `${what} must be text, for example RELAYCLIENT` })
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, {
      message: `${what} must be an environment variable name (letters, digits and '_', not starting with a digit)`,
    })
    .max(128, { message: `${what} may be at most 128 characters` });
}

/** Longest service name: it is a directory name and the name of its log. */
export const MAX_SERVICE_NAME = 64;

/** Directory names under the supervise and service roots. */
export const serviceName = () =>
  z
    .string({ error: "the service name must be text, for example name: smtpd" })
    .regex(/^[a-z0-9][a-z0-9_-]*$/, {
      message: "the service name must use only a-z, 0-9, '_' and '-', starting with a letter or digit (it becomes a directory name)",
    })
    .max(MAX_SERVICE_NAME, { message: `the service name may be at most ${MAX_SERVICE_NAME} characters` });

/** Why `s` is not a DNS host name (RFC 1123 labels), or undefined. */
export function hostNameProblem(s: string, what: string): string | undefined {
  const text = textProblem(s, what, 253);
  if (text) return text;
  if (s === "") return `${what} must not be empty`;
  const labels = s.split(".");
  if (labels.some((label) => label === "")) return `${what} must be a DNS name such as mx1.example.com (no empty labels, no leading or trailing dot)`;
  if (labels.some((label) => label.length > 63)) return `${what} has a label longer than 63 characters, which DNS does not allow`;
  if (!labels.every((label) => /^[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?$/.test(label)))
    return `${what} must be a DNS name such as mx1.example.com (letters, digits and '-', each label not starting or ending with '-')`;
  if (/^[0-9.]+$/.test(s)) return `${what} looks like an IP address but is not a valid one: write four numbers from 0 to 255, such as 192.0.2.10`;
  return undefined;
}

/** A DNS host name; `also` lists other values accepted as written (tcpserver -l 0). */
export function hostName(what: string, example = "mx1.example.com", also: readonly string[] = []) {
  return typed(what, `${lastName(what)}: ${example}`).superRefine((s, ctx) => {
    if (also.includes(s)) return;
    const problem = hostNameProblem(s, what);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  });
}

// --- addresses ------------------------------------------------------------------------------------

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export function isIPv4(s: string): boolean {
  return IPV4.test(s);
}

let ipv6Schema: z.ZodIPv6 | undefined;

export function isIPv6(s: string): boolean {
  ipv6Schema ??= z.ipv6();
  return ipv6Schema.safeParse(s).success;
}

/** A value that is not text, as a message shows it. */
function describeInput(value: unknown): string {
  if (value === null) return "an empty value";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  return typeof value === "number" ? `the number ${value}` : String(value);
}

/** The address tcpserver binds: `0` for every address, an IPv4 or an IPv6 address. */
export const listenAddress = () =>
  z
    .string({
      error: (issue) =>
        issue.input === undefined
          ? 'ip is required: the address to listen on, for example ip: 192.0.2.10, or ip: "0" for every address'
          : issue.input === 0
            ? 'ip must be text: write ip: "0" (in quotes) for every address, or one address, for example ip: 192.0.2.10'
            : `ip must be text, not ${describeInput(issue.input)}: for example ip: 192.0.2.10, or ip: "0" for every address`,
    })
    .superRefine((s, ctx) => {
      const fail = (message: string) => ctx.addIssue({ code: "custom", message });
      if (s === "0" || isIPv4(s)) {
        const first = Number(s.split(".")[0]);
        if (s !== "0" && (first >= 224 || s === "255.255.255.255")) fail(`ip ${s} is a multicast or reserved address, which no host can listen on: give one of the host's own addresses`);
        return;
      }
      if (isIPv6(s)) {
        if (/^ff/i.test(s)) fail(`ip ${s} is an IPv6 multicast address, which no host can listen on: give one of the host's own addresses`);
        return;
      }
      if (/^[0-9.]+$/.test(s)) return fail(`ip '${s}' is not a valid IPv4 address: write four numbers from 0 to 255 without leading zeros, such as 192.0.2.10`);
      if (s.includes("%")) return fail(`ip '${s}' names a zone (%...), which tcpserver cannot take: give a global address`);
      if (/^\[.*\]$/.test(s) && isIPv6(s.slice(1, -1))) return fail(`ip '${s}' is an IPv6 address in brackets: write it without them, ip: "${s.slice(1, -1)}"`);
      fail(`ip must be an IPv4 or IPv6 address, or "0" for every address, not '${s}'`);
    });

/** An address as a comparable key: IPv4 dotted, IPv6 fully expanded, an IPv4-mapped IPv6 address as its IPv4; "any" for every address. */
export function normalizeIp(ip: string): string {
  if (ip === "0" || ip === "0.0.0.0") return "any";
  if (isIPv4(ip)) return ip;
  const groups = expandIPv6(ip);
  if (!groups) return ip.toLowerCase();
  if (groups.every((g) => g === 0)) return "any";
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    const v4 = `${groups[6] >> 8}.${groups[6] & 255}.${groups[7] >> 8}.${groups[7] & 255}`;
    return v4 === "0.0.0.0" ? "any" : v4;
  }
  return groups.map((g) => g.toString(16).padStart(4, "0")).join(":");
}

function expandIPv6(ip: string): number[] | undefined {
  let text = ip.toLowerCase();
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    if (!isIPv4(v4[1])) return undefined;
    const [a, b, c, d] = v4[1].split(".").map(Number);
    text = text.slice(0, -v4[1].length) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail, extra] = text.split("::");
  if (extra !== undefined) return undefined;
  const parse = (part: string) => (part === "" ? [] : part.split(":").map((g) => parseInt(g, 16)));
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  const missing = 8 - left.length - right.length;
  if (tail === undefined ? missing !== 0 : missing < 0) return undefined;
  const groups = [...left, ...Array(missing).fill(0), ...right];
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : undefined;
}

/** True for addresses only this machine can reach. */
export function isLoopback(ip: string): boolean {
  const normal = normalizeIp(ip);
  return normal.startsWith("127.") || normal === "0000:0000:0000:0000:0000:0000:0000:0001";
}

/** True when the address is an IPv6 one (tcpserver needs IPv6 support for it). */
export function isIPv6Listen(ip: string): boolean {
  return ip !== "0" && !isIPv4(ip);
}
