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
import { newSortScratch, sortKeyOrder } from "./byte-sort";
import { CDB_HASH_START } from "./hash";
import { AtomicCdbFile, CDB_HEADER_BYTES, CDB_MAX_BYTES, CdbTooLargeError, cdbTables } from "./writer";

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
 * entries stay small), with the cdb hash of each key. An entry is a reject
 * when the byte before it is the '!' marker, so no flag array is kept.
 */
export interface ValidRcptToEntries {
  bytes: Buffer;
  /** Key k is bytes[ranges[2k], ranges[2k] + ranges[2k + 1]). */
  ranges: Uint32Array;
  count: number;
  /** Every key is greater than the one before it: already in final order, no duplicates. */
  ascending: boolean;
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
const DASH = 0x2d;

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

function lowerCaseRange(bytes: Uint8Array, start: number, end: number): void {
  for (let i = start; i < end; i++) {
    const b = bytes[i];
    if (b - 0x41 < 26 && b >= 0x41) bytes[i] = b | 0x20;
  }
}

function compareRanges(bytes: Uint8Array, startA: number, lengthA: number, startB: number, lengthB: number): number {
  const shorter = lengthA < lengthB ? lengthA : lengthB;
  for (let d = 0; d < shorter; d++) {
    const diff = bytes[startA + d] - bytes[startB + d];
    if (diff !== 0) return diff;
  }
  return lengthA - lengthB;
}

/**
 * A line the fast path of the parser does not take (blanks, comment, bad
 * entry): the key range after trimming, undefined for a line to skip, or the
 * reason the line is refused. The range is lower-cased in place.
 */
function slowLine(bytes: Buffer, lineStart: number, lineEnd: number): { start: number; end: number } | string | undefined {
  let start = lineStart;
  let end = lineEnd;
  while (start < end && isBlank(bytes[start])) start++;
  while (end > start && isBlank(bytes[end - 1])) end--;
  if (start === end || bytes[start] === HASH) return undefined;
  if (bytes[start] === BANG) {
    start++;
    if (start === end) return "'!' with no address after it";
  }
  lowerCaseRange(bytes, start, end);
  const lastAt = bytes.lastIndexOf(AT, end - 1);
  const firstAt = lastAt < start ? -1 : bytes.indexOf(AT, start);
  let oddByte = -1;
  for (let i = start; i < end; i++) {
    const b = bytes[i];
    if (b <= SPACE || b === 0x7f) {
      oddByte = b;
      break;
    }
  }
  if (oddByte === SPACE || oddByte === TAB) return `${shown(bytes, start, end)} contains whitespace; one address per line`;
  if (oddByte >= 0) return `${shown(bytes, start, end)} contains a control character`;
  if (firstAt < 0) return `${shown(bytes, start, end)} has no '@' (expected local@domain, prefix-default@domain or @domain)`;
  if (firstAt !== lastAt) return `${shown(bytes, start, end)} has more than one '@'`;
  if (lastAt === end - 1) return `${shown(bytes, start, end)} has an empty domain`;
  if (end - start > MAX_ENTRY_BYTES) return `${shown(bytes, start, end)} is longer than ${MAX_ENTRY_BYTES} bytes`;
  return { start, end };
}

/**
 * Parses the source in one pass over its bytes, lower-casing keys IN PLACE
 * in `bytes` (the caller hands the buffer over; this avoids a second copy of
 * a large list), hashing each key and noting whether the keys come in
 * ascending order already.
 */
export function parseValidRcptToInPlace(bytes: Buffer, unit: "line" | "entry" = "line"): ValidRcptToEntries {
  const total = bytes.length;
  // The shortest entry is "@x" and a newline: the arrays are sized for that
  // many, but only the part used is ever touched (and so in memory).
  const capacity = Math.floor(total / 3) + 1;
  const ranges = new Uint32Array(2 * capacity);
  let count = 0;
  let ascending = true;
  let previousStart = 0;
  let previousLength = 0;
  const problems: SourceProblem[] = [];

  let lineNumber = 0;
  let i = 0;
  while (i < total) {
    lineNumber++;
    const lineStart = i;
    let keyStart = i;
    if (bytes[i] === BANG) keyStart = ++i;
    let ats = 0;
    let lastAt = -1;
    let b = 0;
    for (; i < total; i++) {
      b = bytes[i];
      if (b <= SPACE || b === 0x7f) break;
      if (b - 0x41 < 26 && b >= 0x41) bytes[i] = b |= 0x20;
      else if (b === AT) {
        ats++;
        lastAt = i;
      }
    }
    let keyEnd = i;
    if (b === CR && i + 1 < total && bytes[i + 1] === NEWLINE) i++; // CRLF line end
    if ((i === total || bytes[i] === NEWLINE) && ats === 1 && lastAt !== keyEnd - 1 && keyEnd - keyStart <= MAX_ENTRY_BYTES && bytes[lineStart] !== HASH) {
      i++;
    } else {
      // Anything unusual on this line: the careful (slower) way, which also names the problem.
      let lineEnd = i < total && bytes[i] === NEWLINE ? i : bytes.indexOf(NEWLINE, i);
      if (lineEnd === -1) lineEnd = total;
      i = lineEnd + 1;
      const key = slowLine(bytes, lineStart, lineEnd);
      if (key === undefined) continue;
      if (typeof key === "string") {
        if (problems.length < MAX_REPORTED_PROBLEMS) problems.push({ line: lineNumber, reason: key });
        continue;
      }
      keyStart = key.start;
      keyEnd = key.end;
    }
    const length = keyEnd - keyStart;
    if (ascending && count > 0 && compareRanges(bytes, previousStart, previousLength, keyStart, length) >= 0) ascending = false;
    ranges[2 * count] = previousStart = keyStart;
    ranges[2 * count + 1] = previousLength = length;
    count++;
  }
  if (problems.length > 0) throw new ValidRcptToSourceError(problems, unit);
  return { bytes, ranges, count, ascending };
}

/** Where the cdb bytes go: records after the 2048-byte header, then the tables, then the header. */
interface CdbOutput {
  append(chunk: Buffer, length: number): void;
  /** True when append is done with the chunk on return (it may be reused). */
  readonly copiesChunks: boolean;
}

const CHUNK_BYTES = 1 << 18;

const TOUCH_BLOCK = 256;
let touched = 0;

/**
 * Reads the first and last byte of the next keys in sorted order, in a tight
 * loop of independent loads: the cache misses (keys are scattered over the
 * whole input) then overlap instead of stalling the copy loop one by one.
 */
function touchAhead(bytes: Uint8Array, ranges: Uint32Array, order: Uint32Array, from: number, to: number): void {
  let sum = 0;
  for (let i = from; i < to; i++) {
    const k = order[i];
    const start = ranges[2 * k];
    sum += bytes[start + ranges[2 * k + 1] - 1] + bytes[start > 0 ? start - 1 : 0];
  }
  touched += sum;
}

/**
 * Writes the records of the entries in byte order, each key once, then the
 * hash tables; returns the header and the number of keys written. The same
 * address both accepted and rejected is an error, thrown after the records;
 * the caller then discards what the output got.
 */
function writeEntries(entries: ValidRcptToEntries, unit: "line" | "entry", output: CdbOutput): { header: Buffer; count: number } {
  const { bytes, ranges, count } = entries;
  let order: Uint32Array | undefined;
  // Working arrays of the sort are reused for the table index afterwards.
  let recordHashes: Uint32Array;
  let positions: Uint32Array;
  let grouped: [Uint32Array, Uint32Array] | [] = [];
  if (entries.ascending) {
    recordHashes = new Uint32Array(count);
    positions = new Uint32Array(count);
  } else {
    order = new Uint32Array(count);
    for (let i = 0; i < count; i++) order[i] = i;
    const scratch = newSortScratch(count);
    sortKeyOrder(entries, order, scratch);
    recordHashes = scratch.words;
    positions = scratch.spareWords;
    grouped = [order, scratch.spareOrder];
  }

  const problems: SourceProblem[] = [];
  let chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  let at = 0;
  let position = CDB_HEADER_BYTES;
  let added = 0;
  let previousStart = -1;
  let previousLength = 0;
  for (let i = 0; i < count; i++) {
    if (order !== undefined && (i & (TOUCH_BLOCK - 1)) === 0) touchAhead(bytes, ranges, order, i, Math.min(count, i + TOUCH_BLOCK));
    const k = order === undefined ? i : order[i];
    const start = ranges[2 * k];
    const length = ranges[2 * k + 1];
    const reject = start > 0 && bytes[start - 1] === BANG;
    if (order !== undefined && previousStart >= 0 && compareRanges(bytes, previousStart, previousLength, start, length) === 0) {
      if (isReject(bytes, previousStart) !== reject && problems.length < MAX_REPORTED_PROBLEMS) {
        const [first, second] = previousStart < start ? [previousStart, start] : [start, previousStart];
        const verdict = (s: number) => (isReject(bytes, s) ? "rejected" : "accepted");
        problems.push({
          line: lineOf(bytes, second),
          reason: `${shown(bytes, start, start + length)} is ${verdict(second)} here but ${verdict(first)} on ${unit} ${lineOf(bytes, first)}`,
        });
      }
      continue;
    }
    const recordBytes = reject ? 9 + length : 8 + length;
    if (at + recordBytes > CHUNK_BYTES) {
      output.append(chunk, at);
      if (!output.copiesChunks) chunk = Buffer.allocUnsafe(CHUNK_BYTES);
      at = 0;
    }
    chunk[at] = length & 255;
    chunk[at + 1] = length >>> 8;
    chunk[at + 2] = 0;
    chunk[at + 3] = 0;
    chunk[at + 4] = reject ? 1 : 0;
    chunk[at + 5] = 0;
    chunk[at + 6] = 0;
    chunk[at + 7] = 0;
    at += 8;
    // Copy and hash in one loop: for short keys this beats Buffer.copy.
    let h = CDB_HASH_START;
    for (let p = start, end = start + length; p < end; p++) {
      const b = bytes[p];
      chunk[at++] = b;
      h = Math.imul(h, 33) ^ b;
    }
    if (reject) chunk[at++] = DASH;
    recordHashes[added] = h >>> 0;
    positions[added] = position;
    position += recordBytes;
    if (position + (added + 1) * 16 > CDB_MAX_BYTES) throw new CdbTooLargeError(`at record ${added + 1}`, CDB_MAX_BYTES);
    previousStart = start;
    previousLength = length;
    added++;
  }
  if (problems.length > 0) throw new ValidRcptToSourceError(problems.sort((a, b) => a.line - b.line), unit);
  if (at > 0) output.append(chunk, at);
  // The sort order is done with: it holds the grouped index now.
  const header = cdbTables(recordHashes, positions, added, position, (table) => output.append(table, table.length), !output.copiesChunks, ...grouped);
  return { header, count: added };
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
  const chunks: Buffer[] = [];
  const { header } = writeEntries(entries, unit, { append: (chunk, length) => chunks.push(chunk.subarray(0, length)), copiesChunks: false });
  return Buffer.concat([header, ...chunks]);
}

/**
 * Builds validrcptto.cdb into `targetPath` (temp file + rename). `source` is
 * taken over and lower-cased in place. Returns the number of addresses written.
 */
export function writeValidRcptToFile(source: Buffer, targetPath: string): number {
  const entries = parseValidRcptToInPlace(source, "line");
  const file = new AtomicCdbFile(targetPath);
  let written: { header: Buffer; count: number };
  try {
    written = writeEntries(entries, "line", { append: (chunk, length) => file.append(chunk, length), copiesChunks: true });
  } catch (err) {
    file.abort();
    throw err;
  }
  file.commit(written.header);
  return written.count;
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
