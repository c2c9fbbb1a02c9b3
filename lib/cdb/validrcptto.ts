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
//
// The byte work (parsing plain entries, sorting, laying out records and
// tables) is done by a WebAssembly kernel (validrcptto-kernel.ts); this
// module reads the list into it, names bad lines, and writes what it lays out.
import * as fs from "node:fs";
import { cdbHash } from "./hash";
import { splittersFromSamples } from "./key-buckets";
import { KernelOutOfMemory, KernelStatus, ValidRcptToKernel } from "./validrcptto-kernel";
import { AtomicCdbFile, CDB_MAX_BYTES, CdbTooLargeError } from "./writer";

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

/** The byte, ASCII lower-cased (as qmail-smtpd's case_lowerb does). */
function lowerCased(b: number): number {
  return b >= 0x41 && b <= 0x5a ? b | 0x20 : b;
}

function lowerCaseRange(bytes: Uint8Array, start: number, end: number): void {
  for (let i = start; i < end; i++) bytes[i] = lowerCased(bytes[i]);
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

/** Input bytes read by position: a buffer in memory or a regular file. */
interface ByteSource {
  readonly size: number;
  read(target: Buffer, targetStart: number, length: number, position: number): number;
}

/** Keys per bucket aimed at: a bucket's keys and index then fit in a core's cache. */
const BUCKET_KEYS = 2048;
/** A guess of the bytes per line, to choose the number of buckets before reading. */
const LINE_BYTES_GUESS = 32;
const SAMPLES_PER_BUCKET = 8;
const SAMPLE_PLACES = 128;
const SAMPLE_WINDOW = 1 << 15;
const MAX_BUCKETS = 4096;
const READ_BYTES = 1 << 20;

/** Tuning for tests that need many buckets, or many reads, from a small list. */
export interface ValidRcptToTuning {
  /** Keys per bucket aimed at (BUCKET_KEYS). */
  bucketKeys?: number;
  /** Bytes per read of a file (READ_BYTES). */
  readBytes?: number;
  /** Bytes of records written out at a time (CHUNK_BYTES); a chunk grows for a record longer than that. */
  chunkBytes?: number;
}

/**
 * Bucket boundaries from keys sampled at evenly spaced places of the source
 * (a few lines after each), lower-cased as the parser will, and whether the
 * samples come in byte order (a sorted list is then written as it is read). Few large reads:
 * a read per sample costs more than the sampling saves.
 */
function sampleSource(source: ByteSource, bucketKeys: number): { splitters: () => Uint32Array; inOrder: boolean } {
  const buckets = Math.min(MAX_BUCKETS, Math.floor(source.size / LINE_BYTES_GUESS / bucketKeys));
  if (buckets < 2) return { splitters: () => new Uint32Array(0), inOrder: true };
  const places = Math.min(SAMPLE_PLACES, buckets);
  const perPlace = Math.ceil((buckets * SAMPLES_PER_BUCKET) / places);
  const window = Buffer.allocUnsafe(SAMPLE_WINDOW);
  const keys = Buffer.allocUnsafe(places * perPlace * 12);
  const samples: Array<[number, number]> = [];
  for (let place = 0; place < places; place++) {
    const position = Math.floor((place * source.size) / places);
    const length = source.read(window, 0, SAMPLE_WINDOW, position);
    let at = position === 0 ? 0 : window.indexOf(NEWLINE) + 1;
    if (at === 0 && position !== 0) continue;
    for (let taken = 0; taken < perPlace && at < length; taken++) {
      while (at < length && (isBlank(window[at]) || window[at] === BANG)) at++;
      const start = samples.length * 12;
      let end = start;
      for (; at < length && end < start + 12 && window[at] > SPACE; at++) {
        const b = window[at];
        keys[end++] = lowerCased(b);
      }
      const lineEnd = window.indexOf(NEWLINE, at);
      // Only whole lines: the window may end inside the last one.
      if (lineEnd < 0 || lineEnd >= length) break;
      if (end > start) samples.push([start, end]);
      at = lineEnd + 1;
    }
  }
  let inOrder = true;
  for (let i = 1; i < samples.length && inOrder; i++) {
    const [a, aEnd] = samples[i - 1];
    const [b, bEnd] = samples[i];
    inOrder = compareRanges(keys, a, aEnd - a, b, bEnd - b) <= 0;
  }
  // Computed only if the buckets are needed: a list in order is written without them.
  return { splitters: () => splittersFromSamples(keys, samples, buckets), inOrder };
}

type Source = Buffer | { fd: number; size: number };

function byteSourceOf(source: Source): ByteSource {
  if (Buffer.isBuffer(source)) return { size: source.length, read: (target, targetStart, length, position) => source.copy(target, targetStart, position, Math.min(source.length, position + length)) };
  return { size: source.size, read: (target, targetStart, length, position) => fs.readSync(source.fd, target, targetStart, length, position) };
}

type Unit = "line" | "entry";

/** Where the cdb bytes go: records after the 2048-byte header, then the tables; the header last. */
interface CdbOutput {
  /** Writes out, or copies, `bytes`: their memory is reused on return. */
  append(bytes: Buffer): void;
}

const CHUNK_BYTES = 1 << 18;
/** The most records a source of `size` bytes can hold: a key per 3 bytes ("@x" and a line end). */
const mostRecords = (size: number) => Math.floor((size + 2) / 3);

/** Hands what the kernel laid out (records or a table) to the output and frees its region. */
function writeOut(kernel: ValidRcptToKernel, output: CdbOutput): void {
  const bytes = kernel.output;
  if (bytes.length > 0) output.append(bytes);
  kernel.outputWritten();
}

/** Thrown by the parse of a list in order at the first key out of order. */
class KeysOutOfOrder extends Error {}

const verdict = (flag: number) => (flag === 1 ? "rejected" : "accepted");

function failed(kernel: ValidRcptToKernel, status: KernelStatus): Error {
  if (status === KernelStatus.OutOfOrder) return new KeysOutOfOrder();
  if (status === KernelStatus.TooLarge) return new CdbTooLargeError(`at record ${kernel.recordCount + 1}`, CDB_MAX_BYTES);
  if (status === KernelStatus.NoMemory) return new KernelOutOfMemory();
  return new Error(`validrcptto kernel: unexpected status ${status}`);
}

/** What a parse does besides filing keys in the kernel. */
interface ParseHandlers {
  /** Where records go while a list in order is parsed. */
  output?: CdbOutput;
  /** Each key of a listing: its bytes are bytes[start, end). */
  listed?(bytes: Buffer, start: number, end: number, flag: number, line: number): void;
}

/**
 * Parses the whole source into the kernel, a piece at a time (the whole list
 * is never in memory twice), numbering lines from 1. The kernel takes plain
 * entries; every other line (blanks, comments, bad entries) is read here,
 * where a problem is named by line. Bad lines are thrown once the source is
 * read; keys both accepted and rejected in a list in order come back.
 */
function parseSource(kernel: ValidRcptToKernel, source: ByteSource, unit: Unit, tuning: ValidRcptToTuning, handlers: ParseHandlers): SourceProblem[] {
  const problems: SourceProblem[] = [];
  const conflicts: SourceProblem[] = [];
  /** Handles what the kernel reported about the key bytes[start, end) of `line`; true when the key must be filed again. */
  const handle = (status: KernelStatus, start: number, end: number, flag: number, line: number): boolean => {
    if (status === KernelStatus.Done) return false;
    if (status === KernelStatus.OutputFull) {
      writeOut(kernel, handlers.output!);
      return true;
    }
    if (status === KernelStatus.Listed) handlers.listed!(kernel.bytes, start, end, flag, line);
    else if (status === KernelStatus.Conflict) {
      const earlier = kernel.earlier;
      if (conflicts.length < MAX_REPORTED_PROBLEMS) conflicts.push({ line, reason: `${shown(kernel.bytes, start, end)} is ${verdict(flag)} here but ${verdict(earlier.flag)} on ${unit} ${earlier.line}` });
    } else throw failed(kernel, status);
    return false;
  };
  /** A line the kernel did not take: skipped, refused, or filed from here. */
  const readLine = (lineStart: number, lineEnd: number, line: number) => {
    const bytes = kernel.bytes;
    const key = slowLine(bytes, lineStart, lineEnd);
    if (key === undefined) return;
    if (typeof key === "string") {
      if (problems.length < MAX_REPORTED_PROBLEMS) problems.push({ line, reason: key });
      return;
    }
    const flag = key.start > lineStart && bytes[key.start - 1] === BANG ? 1 : 0;
    const hash = cdbHash(bytes, key.start, key.end);
    while (handle(kernel.fileKey(key.start, key.end - key.start, flag, hash, line), key.start, key.end, flag, line));
  };
  const parsePiece = (start: number, end: number) => {
    for (let at = start; ; ) {
      const status = kernel.parse(at, end);
      if (status === KernelStatus.Done) return;
      if (status === KernelStatus.OddLine) {
        const lineEnd = kernel.lineEnd;
        readLine(kernel.cursor, lineEnd, kernel.lineNumber);
        at = lineEnd < end ? lineEnd + 1 : end;
      } else {
        const key = kernel.key;
        handle(status, key.start, key.end, key.flag, kernel.lineNumber);
        at = kernel.cursor;
      }
    }
  };

  let capacity = tuning.readBytes ?? READ_BYTES;
  let input = kernel.alloc(capacity);
  let held = 0;
  let position = 0;
  kernel.lineNumber = 0;
  for (;;) {
    // Bytes appended to a file after it was measured are not read.
    const want = Math.min(capacity - held, source.size - position);
    const got = want > 0 ? source.read(kernel.bytes, input + held, want, position) : 0;
    position += got;
    held += got;
    const atEnd = got === 0;
    const end = atEnd ? held : kernel.bytes.subarray(input, input + held).lastIndexOf(NEWLINE) + 1;
    if (end === 0 && !atEnd) {
      // One line longer than the piece: a bigger piece (the line is refused if too long).
      const bigger = kernel.alloc(capacity * 2);
      kernel.bytes.copy(kernel.bytes, bigger, input, input + held);
      input = bigger;
      capacity *= 2;
      continue;
    }
    if (end > 0) parsePiece(input, input + end);
    kernel.bytes.copy(kernel.bytes, input, input + end, input + held);
    held -= end;
    if (atEnd) break;
  }
  if (problems.length > 0) throw new ValidRcptToSourceError(problems, unit);
  return conflicts;
}

/** Writes the 256 hash tables after the records; returns the header and the number of records. */
function writeTables(kernel: ValidRcptToKernel, output: CdbOutput): { header: Buffer; count: number } {
  kernel.startTables();
  for (let table = 0; table < 256; table++) {
    kernel.writeTable(table);
    writeOut(kernel, output);
  }
  return { header: kernel.header, count: kernel.recordCount };
}

/**
 * A list in byte order (sorted dumps are common) is written as it is
 * parsed: each key goes straight into the records, dropped when it repeats
 * the one before. Throws KeysOutOfOrder when it is not in order after all.
 */
function writeInOrder(source: ByteSource, unit: Unit, tuning: ValidRcptToTuning, output: CdbOutput): { header: Buffer; count: number } {
  const kernel = new ValidRcptToKernel();
  kernel.startRecords(mostRecords(source.size), tuning.chunkBytes ?? CHUNK_BYTES);
  kernel.startInOrder();
  const conflicts = parseSource(kernel, source, unit, tuning, { output });
  if (conflicts.length > 0) throw new ValidRcptToSourceError(conflicts, unit);
  writeOut(kernel, output);
  return writeTables(kernel, output);
}

/** Thrown when keys are both accepted and rejected: their lines are found by reading the source again. */
class ConflictingKeys extends Error {
  constructor(readonly keys: Buffer[]) {
    super("keys both accepted and rejected");
  }
}

/**
 * Any list: the keys are parsed into buckets by their first bytes (every key
 * of a bucket sorts before the next bucket's), then each bucket is sorted
 * and written, each key once. `open` gives the output once the list is read.
 */
function writeFromBuckets<T extends CdbOutput>(source: ByteSource, splitters: Uint32Array, unit: Unit, tuning: ValidRcptToTuning, open: () => T, discard: (output: T) => void): { header: Buffer; count: number; output: T } {
  const kernel = new ValidRcptToKernel();
  kernel.startBuckets(splitters);
  parseSource(kernel, source, unit, tuning, {});
  const output = open();
  try {
    kernel.startRecords(kernel.bucketKeys, tuning.chunkBytes ?? CHUNK_BYTES);
    kernel.startWriting();
    for (let bucket = 0; bucket <= splitters.length / 3; bucket++) {
      let status = kernel.writeBucket(bucket);
      if (status === KernelStatus.OutputFull) {
        writeOut(kernel, output);
        status = kernel.writeBucket(bucket);
      }
      if (status !== KernelStatus.Done) throw failed(kernel, status);
    }
    writeOut(kernel, output);
    const conflicting = kernel.conflictingKeys;
    if (conflicting.length > 0) throw new ConflictingKeys(conflicting);
    return { ...writeTables(kernel, output), output };
  } catch (err) {
    discard(output);
    throw err;
  }
}

/**
 * The error naming the lines of keys both accepted and rejected (at most
 * MAX_REPORTED_PROBLEMS, in key order as the buckets found them, by line):
 * the source is read again for them, as no line is kept per key.
 */
function conflictError(source: ByteSource, keys: Buffer[], unit: Unit, tuning: ValidRcptToTuning): ValidRcptToSourceError {
  const problems = new Map(keys.map((key) => [key.toString("latin1"), [] as SourceProblem[]]));
  const hashes = new Set(keys.map((key) => cdbHash(key)));
  const first = new Map<string, { flag: number; line: number }>();
  const kernel = new ValidRcptToKernel();
  kernel.startListing();
  parseSource(kernel, source, unit, tuning, {
    listed(bytes, start, end, flag, line) {
      if (!hashes.has(cdbHash(bytes, start, end))) return;
      const key = bytes.toString("latin1", start, end);
      const found = problems.get(key);
      if (found === undefined) return;
      const earlier = first.get(key);
      if (earlier === undefined) first.set(key, { flag, line });
      else if (earlier.flag !== flag) found.push({ line, reason: `${shown(bytes, start, end)} is ${verdict(flag)} here but ${verdict(earlier.flag)} on ${unit} ${earlier.line}` });
    },
  });
  const all = keys.flatMap((key) => problems.get(key.toString("latin1")) ?? []);
  return new ValidRcptToSourceError(all.slice(0, MAX_REPORTED_PROBLEMS).sort((a, b) => a.line - b.line), unit);
}

/**
 * The cdb of a source: written as it is parsed when samples show a list in
 * order, else (or when a key out of order turns up) through buckets.
 * `open` gives a fresh output for each attempt; `discard` drops one.
 */
function writeValidRcptTo<T extends CdbOutput>(source: Source, unit: Unit, tuning: ValidRcptToTuning, open: () => T, discard: (output: T) => void): { header: Buffer; count: number; output: T } {
  const bytes = byteSourceOf(source);
  const { splitters, inOrder } = sampleSource(bytes, tuning.bucketKeys ?? BUCKET_KEYS);
  if (inOrder) {
    const output = open();
    try {
      return { ...writeInOrder(bytes, unit, tuning, output), output };
    } catch (err) {
      discard(output);
      if (!(err instanceof KeysOutOfOrder)) throw err;
    }
  }
  try {
    return writeFromBuckets(bytes, splitters(), unit, tuning, open, discard);
  } catch (err) {
    if (err instanceof ConflictingKeys) throw conflictError(bytes, err.keys, unit, tuning);
    throw err;
  }
}

function sourceBytes(source: string | Uint8Array | readonly string[]): { bytes: Buffer; unit: Unit } {
  if (typeof source === "string") return { bytes: Buffer.from(source, "utf8"), unit: "line" };
  if (source instanceof Uint8Array) return { bytes: Buffer.from(source.buffer, source.byteOffset, source.byteLength), unit: "line" };
  const problems: SourceProblem[] = [];
  source.forEach((entry, i) => {
    if (/[\r\n]/.test(entry)) problems.push({ line: i + 1, reason: `${JSON.stringify(entry)} contains a line break` });
  });
  if (problems.length > 0) throw new ValidRcptToSourceError(problems, "entry");
  return { bytes: Buffer.from(source.join("\n"), "utf8"), unit: "entry" };
}

/** validrcptto.cdb bytes from source text or from an array of entries (same syntax per entry). The source is not changed. */
export function buildValidRcptTo(source: string | Uint8Array | readonly string[], tuning: ValidRcptToTuning = {}): Buffer {
  const { bytes, unit } = sourceBytes(source);
  const memory = () => {
    const chunks: Buffer[] = [];
    return { chunks, append: (chunk: Buffer) => chunks.push(Buffer.from(chunk)) };
  };
  const { header, output } = writeValidRcptTo(bytes, unit, tuning, memory, () => {});
  return Buffer.concat([header, ...output.chunks]);
}

/**
 * Builds validrcptto.cdb into `targetPath` (temp file + rename) from a list
 * in memory or in a file, which is read in pieces. Returns the number of
 * addresses written.
 */
export function writeValidRcptToFile(source: Buffer | { path: string }, targetPath: string, tuning: ValidRcptToTuning = {}): number {
  const toFile = () => {
    const file = new AtomicCdbFile(targetPath);
    return { file, append: (chunk: Buffer) => file.append(chunk) };
  };
  const build = (from: Source) => writeValidRcptTo(from, "line", tuning, toFile, (output) => output.file.abort());
  let written: ReturnType<typeof build>;
  if (Buffer.isBuffer(source)) written = build(source);
  else {
    const fd = fs.openSync(source.path, "r");
    try {
      const stat = fs.fstatSync(fd);
      // A pipe or device has no size to sample by: read it whole.
      written = build(stat.isFile() ? { fd, size: stat.size } : fs.readFileSync(fd));
    } finally {
      fs.closeSync(fd);
    }
  }
  written.output.file.commit(written.header);
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
