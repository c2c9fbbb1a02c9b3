// validrcptto.cdb for qmail-smtpd's validrcptto patch.
//
// Source syntax, one entry per line (or one per array element):
//   user@example.com            accept this address
//   list-default@example.com    accept list-anything@example.com (qmail's -default wildcard)
//   @example.com                accept every address at example.com (catch-all)
//   !user@example.com           explicit reject (also works for wildcards and @domain)
//   # comment                   comments and blank lines are ignored
// Surrounding spaces and tabs are ignored. Keys are lower-cased (ASCII, as
// qmail-smtpd does), de-duplicated and sorted bytewise, so the same set gives the
// same bytes whatever the input order. Value: empty accepts, "-" rejects.
import { compareAt, newSortScratch, sortByteRangesUnlessSorted, type SortScratch } from "./byte-sort";
import { CdbBufferWriter, CdbFileWriter } from "./writer";

export const ACCEPT_VALUE = Buffer.alloc(0);
export const REJECT_VALUE = Buffer.from("-");

export interface SourceProblem {
  line: number;
  reason: string;
}

const MAX_REPORTED_PROBLEMS = 20;
/** Far above any real address (SMTP allows 256 octets), low enough for 16-bit lengths. */
const MAX_ENTRY_BYTES = 65_535;

export class ValidRcptToSourceError extends Error {
  constructor(
    readonly problems: SourceProblem[],
    unit: "line" | "entry",
  ) {
    const shown = problems.slice(0, 10).map((p) => `  ${unit} ${p.line}: ${p.reason}`);
    const more = problems.length > 10 ? [`  ... and ${problems.length - 10} more`] : [];
    const noun = problems.length === 1 ? unit : unit === "line" ? "lines" : "entries";
    super(`validrcptto: ${problems.length} bad ${noun}:\n${[...shown, ...more].join("\n")}`);
    this.name = "ValidRcptToSourceError";
  }
}

/**
 * Parsed entries as ranges of one byte buffer (no per-entry objects: 1M
 * entries stay small). An entry is a reject when the byte before it is the
 * '!' marker, so no flag array is kept or moved while sorting.
 */
export interface ValidRcptToEntries {
  bytes: Buffer;
  starts: Uint32Array;
  lengths: Uint16Array;
  count: number;
}

function isReject(bytes: Uint8Array, start: number): boolean {
  return start > 0 && bytes[start - 1] === BANG;
}

const SPACE = 0x20;
const TAB = 0x09;
const CR = 0x0d;
const NEWLINE = 0x0a;
const HASH = 0x23;
const BANG = 0x21;
const AT = 0x40;

function isBlank(byte: number): boolean {
  return byte === SPACE || byte === TAB || byte === CR;
}

function shown(bytes: Buffer, start: number, end: number): string {
  const text = bytes.toString("utf8", start, Math.min(end, start + 80));
  return JSON.stringify(end - start > 80 ? text + "..." : text);
}

/** 1-based line of a byte offset; only used for error messages, so no line table is kept. */
function lineOf(bytes: Buffer, offset: number): number {
  let line = 1;
  for (let at = bytes.indexOf(NEWLINE); at !== -1 && at < offset; at = bytes.indexOf(NEWLINE, at + 1)) line++;
  return line;
}

/**
 * Lower-cases ASCII letters of the whole buffer in place (comments included,
 * they are skipped anyway) and counts lines and bytes that need a closer look
 * (blanks other than newline, control characters). Four bytes at a time where
 * they are plain printable ASCII: this is the one pass over every input byte.
 */
function lowerCaseAndCount(bytes: Buffer): { lines: number; oddBytes: number } {
  let lines = 1;
  let oddBytes = 0;
  const byteAt = (i: number) => {
    const b = bytes[i];
    if (b - 0x41 < 26 && b >= 0x41) bytes[i] = b | 0x20;
    else if (b <= SPACE || b === 0x7f) {
      if (b === NEWLINE) lines++;
      else oddBytes++;
    }
  };
  const n = bytes.length;
  const misalignment = bytes.byteOffset & 3;
  const head = Math.min(n, misalignment === 0 ? 0 : 4 - misalignment);
  for (let i = 0; i < head; i++) byteAt(i);
  const wordCount = (n - head) >>> 2;
  const words = new Uint32Array(bytes.buffer, bytes.byteOffset + head, wordCount);
  for (let w = 0; w < wordCount; w++) {
    const x = words[w];
    // Per byte b < 0x80, adding a constant sets bit 7 without carrying into the next byte:
    // b + 0x5f has it iff b > 0x20, b + 0x01 iff b == 0x7f, b + 0x3f iff b >= 'A', b + 0x25 iff b > 'Z'.
    if ((x & 0x80808080) !== 0 || ((~(x + 0x5f5f5f5f) | (x + 0x01010101)) & 0x80808080) !== 0) {
      const at = head + w * 4;
      byteAt(at);
      byteAt(at + 1);
      byteAt(at + 2);
      byteAt(at + 3);
      continue;
    }
    const upper = (x + 0x3f3f3f3f) & ~(x + 0x25252525) & 0x80808080;
    if (upper !== 0) words[w] = x | (upper >>> 2);
  }
  for (let i = head + wordCount * 4; i < n; i++) byteAt(i);
  return { lines, oddBytes };
}

/**
 * Parses the source, lower-casing keys IN PLACE in `bytes` (the caller hands
 * the buffer over; this avoids a second copy of a large list).
 */
export function parseValidRcptToInPlace(bytes: Buffer, unit: "line" | "entry" = "line"): ValidRcptToEntries {
  const { lines, oddBytes } = lowerCaseAndCount(bytes);
  const starts = new Uint32Array(lines);
  const lengths = new Uint16Array(lines);
  let count = 0;
  const problems: SourceProblem[] = [];
  const problem = (line: number, reason: string) => {
    if (problems.length < MAX_REPORTED_PROBLEMS) problems.push({ line, reason });
  };

  const total = bytes.length;
  let lineNumber = 0;
  let position = 0;
  while (position < total) {
    lineNumber++;
    let end = bytes.indexOf(NEWLINE, position);
    if (end === -1) end = total;
    let start = position;
    position = end + 1;
    if (oddBytes > 0) {
      while (start < end && isBlank(bytes[start])) start++;
      while (end > start && isBlank(bytes[end - 1])) end--;
    }
    if (start === end || bytes[start] === HASH) continue;
    if (bytes[start] === BANG) {
      start++;
      if (start === end) {
        problem(lineNumber, "'!' with no address after it");
        continue;
      }
    }
    const lastAt = bytes.lastIndexOf(AT, end - 1);
    const firstAt = lastAt < start ? -1 : bytes.indexOf(AT, start);
    let oddByte = -1;
    if (oddBytes > 0) {
      for (let i = start; i < end; i++) {
        const b = bytes[i];
        if (b <= SPACE || b === 0x7f) {
          oddByte = b;
          break;
        }
      }
    }
    if (oddByte === SPACE || oddByte === TAB) problem(lineNumber, `${shown(bytes, start, end)} contains whitespace; one address per line`);
    else if (oddByte >= 0) problem(lineNumber, `${shown(bytes, start, end)} contains a control character`);
    else if (firstAt < 0) problem(lineNumber, `${shown(bytes, start, end)} has no '@' (expected local@domain, prefix-default@domain or @domain)`);
    else if (firstAt !== lastAt) problem(lineNumber, `${shown(bytes, start, end)} has more than one '@'`);
    else if (lastAt === end - 1) problem(lineNumber, `${shown(bytes, start, end)} has an empty domain`);
    else if (end - start > MAX_ENTRY_BYTES) problem(lineNumber, `${shown(bytes, start, end)} is longer than ${MAX_ENTRY_BYTES} bytes`);
    else {
      starts[count] = start;
      lengths[count] = end - start;
      count++;
    }
  }
  if (problems.length > 0) throw new ValidRcptToSourceError(problems, unit);
  return { bytes, starts, lengths, count };
}

interface RecordSink {
  addRange(source: Uint8Array, keyStart: number, keyLength: number, value: Uint8Array): unknown;
}

/**
 * Sorts the entries in place and adds them to `sink` in byte order, each key
 * once. Duplicates are found while adding (the previous key was just copied,
 * so comparing costs no extra pass over memory). The same address both
 * accepted and rejected is an error, thrown after the loop; the caller then
 * discards what the sink got. Returns the number of keys added.
 */
function addSortedUnique(entries: ValidRcptToEntries, unit: "line" | "entry", sink: RecordSink, scratch?: SortScratch): number {
  sortByteRangesUnlessSorted(entries, scratch);
  const { bytes, starts, lengths, count } = entries;
  const problems: SourceProblem[] = [];
  let added = 0;
  let previous = -1;
  for (let i = 0; i < count; i++) {
    if (previous >= 0 && compareAt(entries, previous, i) === 0) {
      if (isReject(bytes, starts[previous]) !== isReject(bytes, starts[i]) && problems.length < MAX_REPORTED_PROBLEMS) {
        const [first, second] = starts[previous] < starts[i] ? [starts[previous], starts[i]] : [starts[i], starts[previous]];
        const verdict = (start: number) => (isReject(bytes, start) ? "rejected" : "accepted");
        problems.push({
          line: lineOf(bytes, second),
          reason: `${shown(bytes, starts[i], starts[i] + lengths[i])} is ${verdict(second)} here but ${verdict(first)} on ${unit} ${lineOf(bytes, first)}`,
        });
      }
      continue;
    }
    sink.addRange(bytes, starts[i], lengths[i], isReject(bytes, starts[i]) ? REJECT_VALUE : ACCEPT_VALUE);
    previous = i;
    added++;
  }
  if (problems.length > 0) throw new ValidRcptToSourceError(problems.sort((a, b) => a.line - b.line), unit);
  return added;
}

function ownedSource(source: string | Uint8Array | readonly string[]): { bytes: Buffer; unit: "line" | "entry" } {
  if (typeof source === "string") return { bytes: Buffer.from(source, "utf8"), unit: "line" };
  if (source instanceof Uint8Array) return { bytes: Buffer.from(source), unit: "line" };
  const problems: SourceProblem[] = [];
  source.forEach((entry, i) => {
    if (/[\r\n]/.test(entry)) problems.push({ line: i + 1, reason: `${JSON.stringify(entry)} contains a line break` });
  });
  if (problems.length > 0) throw new ValidRcptToSourceError(problems, "entry");
  return { bytes: Buffer.from(source.join("\n"), "utf8"), unit: "entry" };
}

/** validrcptto.cdb bytes from source text or from an array of entries (same syntax per entry). */
export function buildValidRcptTo(source: string | Uint8Array | readonly string[]): Buffer {
  const { bytes, unit } = ownedSource(source);
  const entries = parseValidRcptToInPlace(bytes, unit);
  const writer = new CdbBufferWriter({ expectedRecords: entries.count });
  addSortedUnique(entries, unit, writer);
  return writer.toBuffer();
}

/**
 * Builds validrcptto.cdb into `targetPath` (temp file + rename). `source` is
 * taken over and lower-cased in place. Returns the number of addresses written.
 */
export function writeValidRcptToFile(source: Buffer, targetPath: string): number {
  const entries = parseValidRcptToInPlace(source, "line");
  // Memory is the limit here: the sort's working arrays become the writer's
  // index, and the entry offsets, no longer needed once every record is
  // added, hold the grouped positions when the tables are built.
  const scratch = newSortScratch(entries.count);
  const writer = new CdbFileWriter(targetPath, {
    expectedRecords: entries.count,
    indexArrays: { hashes: scratch.words, positions: scratch.spareWords, groupedHashes: scratch.spareStarts, groupedPositions: entries.starts },
  });
  try {
    const count = addSortedUnique(entries, "line", writer, scratch);
    writer.commit();
    return count;
  } catch (err) {
    writer.abort();
    throw err;
  }
}

/** ASCII lower-casing only, as qmail-smtpd's case_lowerb does. */
function asciiLower(text: string): string {
  return text.replace(/[A-Z]+/g, (s) => s.toLowerCase());
}

/** The keys qmail-smtpd tries for a recipient, in order. */
export function validRcptToCandidates(address: string): string[] {
  const lower = asciiLower(address);
  const at = lower.lastIndexOf("@");
  if (at < 0) return [lower];
  const local = lower.slice(0, at);
  const domain = lower.slice(at + 1);
  const candidates = [lower];
  for (let dash = local.lastIndexOf("-"); dash >= 0; dash = dash === 0 ? -1 : local.lastIndexOf("-", dash - 1)) {
    candidates.push(`${local.slice(0, dash + 1)}default@${domain}`);
  }
  candidates.push(`@${domain}`);
  return candidates;
}

export type RecipientVerdict = { verdict: "accept" | "reject"; matchedKey: string } | { verdict: "unknown" };

/** Looks a recipient up the way qmail-smtpd does; `find` returns the first value stored under a key. */
export function lookupRecipient(find: (key: string) => Uint8Array | undefined, address: string): RecipientVerdict {
  for (const key of validRcptToCandidates(address)) {
    const value = find(key);
    if (value === undefined) continue;
    return { verdict: value.length > 0 && value[0] === 0x2d ? "reject" : "accept", matchedKey: key };
  }
  return { verdict: "unknown" };
}
