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
import * as fs from "node:fs";
import { newSortScratch, sortKeyOrder } from "./byte-sort";
import * as hashModule from "./hash";
import { cdbHash } from "./hash";
import * as keyBucketsModule from "./key-buckets";
import { KeyBuckets, splittersFromSamples } from "./key-buckets";
import * as writerModule from "./writer";
import { AtomicCdbFile, CdbTooLargeError, cdbTables } from "./writer";

// What the hot loops use from other modules, as constants of this one: an
// imported name compiles to a property read of the other module's exports
// at every use, which cost the parser about 90 ms per million lines.
const { CDB_HASH_START } = hashModule;
const { KEY_HEAD_BYTES, SHORT_KEY_BYTES, keyFlagAt, keyHashAt } = keyBucketsModule;
const { CDB_HEADER_BYTES, CDB_MAX_BYTES } = writerModule;

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
const DASH = 0x2d;

function isBlank(byte: number): boolean {
  return byte === SPACE || byte === TAB || byte === CR;
}

function shown(bytes: Buffer, start: number, end: number): string {
  const text = bytes.toString("utf8", start, Math.min(end, start + 80));
  return JSON.stringify(end - start > 80 ? text + "..." : text);
}

/**
 * The byte, ASCII lower-cased: bit 0x20 is set when b - 0x41 (mod 256) is
 * under 26, without a branch. In an address letters and dots, digits and
 * dashes alternate too often for a branch to be predicted, and the
 * mispredictions cost the parser more than the rest of its loop did.
 */
function lowerCased(b: number): number {
  return b | (((((b + 0xbf) & 0xff) - 26) >>> 31) << 5);
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

/**
 * Where the parser files keys: KeyBuckets, the output itself for a list in
 * order (InOrderRecords), or the search for the lines of a conflict.
 */
interface KeySink {
  /** Where placeKey() puts key bytes; read after each placeKey() (it may change). */
  readonly target: Buffer;
  /** How many leading bytes of a key placeKey() needs to see: PREFIX_BYTES to choose a bucket, else 0. */
  readonly headBytes: number;
  /**
   * Where in `target` the bytes of the key starting at source[start] go,
   * with room for SHORT_KEY_BYTES of them; source[start, headEnd) is the
   * key's first headBytes, lower-cased (or all of it when shorter).
   */
  placeKey(source: Uint8Array, start: number, headEnd: number): number;
  /** Files the key of `length` bytes copied to the place placeKey() gave. */
  commitKey(length: number, flag: number, hash: number, line: number): void;
  /** Files the key source[start, end) (a line the fast path did not take). */
  add(source: Uint8Array, start: number, end: number, flag: number, hash: number, line: number): void;
}

/**
 * Parses the complete lines of `bytes` (all of it: the caller passes a view
 * that ends after a newline, or at the end of the input) and files each key,
 * lower-cased, with its cdb hash, in `sink`. Lines are numbered from
 * `lineBefore + 1`; returns the number of the last line. A plain line is
 * copied to the sink, lower-cased and hashed, as it is read (one pass over
 * its bytes); anything else (blanks, comments, bad or long entries) takes
 * the careful way, lower-cased in place.
 */
function parseLines(bytes: Buffer, lineBefore: number, sink: KeySink, problems: SourceProblem[]): number {
  const total = bytes.length;
  let lineNumber = lineBefore;
  let i = 0;
  while (i < total) {
    lineNumber++;
    const lineStart = i;
    let keyStart = i;
    if (bytes[i] === BANG) keyStart = ++i;
    let ats = 0;
    let lastAt = -1;
    let hash = CDB_HASH_START;
    // The first bytes may choose where the key goes: lower-cased in place first.
    const headEnd = Math.min(total, keyStart + sink.headBytes);
    for (; i < headEnd; i++) {
      let b = bytes[i];
      if (b <= SPACE || b === 0x7f) break;
      bytes[i] = b = lowerCased(b);
      if (b === AT) {
        ats++;
        lastAt = i;
      }
      hash = Math.imul(hash, 33) ^ b;
    }
    let at = sink.placeKey(bytes, keyStart, i);
    const target = sink.target;
    for (let p = keyStart; p < i; p++) target[at++] = bytes[p];
    if (i === headEnd) {
      // The rest is copied lower-cased as it is read, up to the room there is.
      const stop = Math.min(total, keyStart + SHORT_KEY_BYTES);
      for (; i < stop; i++) {
        let b = bytes[i];
        if (b <= SPACE || b === 0x7f) break;
        b = lowerCased(b);
        if (b === AT) {
          ats++;
          lastAt = i;
        }
        hash = Math.imul(hash, 33) ^ b;
        target[at++] = b;
      }
    }
    const keyEnd = i;
    if (i + 1 < total && bytes[i] === CR && bytes[i + 1] === NEWLINE) i++; // CRLF line end
    if ((i === total || bytes[i] === NEWLINE) && ats === 1 && lastAt !== keyEnd - 1 && bytes[lineStart] !== HASH) {
      sink.commitKey(keyEnd - keyStart, keyStart > lineStart ? 1 : 0, hash >>> 0, lineNumber);
      i++;
      continue;
    }
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
    // The byte before a key is '!' only when it is the reject marker.
    const flag = key.start > 0 && bytes[key.start - 1] === BANG ? 1 : 0;
    sink.add(bytes, key.start, key.end, flag, cdbHash(bytes, key.start, key.end), lineNumber);
  }
  return lineNumber;
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

/**
 * Room for the keys of a source of `size` bytes: a key takes its bytes and
 * KEY_HEAD_BYTES, its line at least its bytes and a line end, and a line
 * holds at least 2 key bytes, so at most 3 x size + 8 bytes; 1/16 more for
 * the unused tails of blocks. Only the part written is ever in memory.
 */
const poolBytes = (size: number) => Math.ceil(((3 * size + 8) * 17) / 16);

type Source = Buffer | { fd: number; size: number };

function byteSourceOf(source: Source): ByteSource {
  if (Buffer.isBuffer(source)) return { size: source.length, read: (target, targetStart, length, position) => source.copy(target, targetStart, position, Math.min(source.length, position + length)) };
  return { size: source.size, read: (target, targetStart, length, position) => fs.readSync(source.fd, target, targetStart, length, position) };
}

/** Parses the whole source into `sink`; refuses bad lines before anything is written. */
function parseSource(source: Source, sink: KeySink, unit: "line" | "entry", tuning: ValidRcptToTuning): void {
  const problems: SourceProblem[] = [];
  if (Buffer.isBuffer(source)) {
    parseLines(source, 0, sink, problems);
  } else {
    // A file is read in pieces, each up to its last complete line: the whole
    // list is never in memory twice. Bytes appended after it was measured are
    // not read.
    let chunk = Buffer.allocUnsafe(tuning.readBytes ?? READ_BYTES);
    let held = 0;
    let position = 0;
    let line = 0;
    for (;;) {
      const want = Math.min(chunk.length - held, source.size - position);
      const got = want > 0 ? fs.readSync(source.fd, chunk, held, want, position) : 0;
      position += got;
      held += got;
      const atEnd = got === 0;
      const end = atEnd ? held : chunk.lastIndexOf(NEWLINE, held - 1) + 1;
      if (end === 0 && !atEnd) {
        // One line longer than the buffer: a bigger buffer (the line is refused if too long).
        const bigger = Buffer.allocUnsafe(chunk.length * 2);
        chunk.copy(bigger, 0, 0, held);
        chunk = bigger;
        continue;
      }
      if (end > 0) line = parseLines(chunk.subarray(0, end), line, sink, problems);
      chunk.copy(chunk, 0, end, held);
      held -= end;
      if (atEnd) break;
    }
  }
  if (problems.length > 0) throw new ValidRcptToSourceError(problems, unit);
}

/** Parses the whole source into buckets. */
function readKeys(source: Source, splitters: Uint32Array, unit: "line" | "entry", tuning: ValidRcptToTuning): KeyBuckets {
  const buckets = new KeyBuckets(splitters, poolBytes(byteSourceOf(source).size));
  parseSource(source, buckets, unit, tuning);
  buckets.close();
  return buckets;
}

/** Where the cdb bytes go: records after the 2048-byte header, then the tables, then the header. */
interface CdbOutput {
  append(chunk: Buffer, length: number): void;
  /** True when append is done with the chunk on return (it may be reused). */
  readonly copiesChunks: boolean;
}

const CHUNK_BYTES = 1 << 18;
/** Keys longer than this are copied by Buffer.copy; shorter ones by a loop, which costs less than the call. */
const LOOP_COPY_BYTES = 64;

/** Appends cdb records to the output in chunks (CHUNK_BYTES), noting each record's hash and position for the tables. */
class RecordStream {
  readonly hashes: Uint32Array;
  readonly positions: Uint32Array;
  count = 0;
  position = CDB_HEADER_BYTES;
  /** The chunk being filled; the next record starts at `at`. */
  chunk: Buffer;
  at = 0;

  constructor(
    private readonly output: CdbOutput,
    capacity: number,
    tuning: ValidRcptToTuning,
  ) {
    this.hashes = new Uint32Array(capacity);
    this.positions = new Uint32Array(capacity);
    this.chunk = Buffer.allocUnsafe(tuning.chunkBytes ?? CHUNK_BYTES);
  }

  /** True when a record of `bytes` fits in the chunk after those before it. */
  hasRoom(bytes: number): boolean {
    return this.at + bytes <= this.chunk.length;
  }

  /** Room for a record of `bytes` after a flush (which hasRoom() said was due): a bigger chunk if it is bigger than a chunk. */
  flushForRoom(bytes: number): void {
    this.flush();
    if (bytes > this.chunk.length) this.chunk = Buffer.allocUnsafe(bytes);
  }

  /** The record for the key source[start, start + length) of cdb hash `hash`: value "-" when `reject`, else empty. */
  add(source: Buffer, start: number, length: number, reject: boolean, hash: number): void {
    if (!this.hasRoom(9 + length)) this.flushForRoom(9 + length);
    const chunk = this.chunk;
    let at = this.at + 8;
    if (length > LOOP_COPY_BYTES) source.copy(chunk, at, start, start + length);
    else for (let p = start, end = start + length; p < end; p++) chunk[at++] = source[p];
    this.commitPlaced(length, reject, hash);
  }

  /** The record whose key bytes (`length` of them) are in the chunk already, after room for the record's head. */
  commitPlaced(length: number, reject: boolean, hash: number): void {
    const recordBytes = reject ? 9 + length : 8 + length;
    if (this.position + recordBytes + (this.count + 1) * 16 > CDB_MAX_BYTES) throw new CdbTooLargeError(`at record ${this.count + 1}`, CDB_MAX_BYTES);
    const chunk = this.chunk;
    const at = this.at;
    chunk[at] = length & 255;
    chunk[at + 1] = length >>> 8;
    chunk[at + 2] = 0;
    chunk[at + 3] = 0;
    chunk[at + 4] = reject ? 1 : 0;
    chunk[at + 5] = 0;
    chunk[at + 6] = 0;
    chunk[at + 7] = 0;
    if (reject) chunk[at + 8 + length] = DASH;
    this.at = at + recordBytes;
    this.hashes[this.count] = hash;
    this.positions[this.count] = this.position;
    this.position += recordBytes;
    this.count++;
  }

  flush(): void {
    if (this.at === 0) return;
    this.output.append(this.chunk, this.at);
    if (!this.output.copiesChunks) this.chunk = Buffer.allocUnsafe(this.chunk.length);
    this.at = 0;
  }

  /** Emits the hash tables after the records; returns the header. */
  finish(spareArrays: Uint32Array[] = []): Buffer {
    this.flush();
    const output = this.output;
    return cdbTables(this.hashes, this.positions, this.count, this.position, (table) => output.append(table, table.length), !output.copiesChunks, ...spareArrays);
  }
}

/** Lists the keys of one bucket in `ranges` (start, length), in the order they were added; returns how many. */
function listBucket(pool: Uint8Array, blocks: readonly number[], ranges: Uint32Array): number {
  let count = 0;
  for (let i = 0; i < blocks.length; i += 2) {
    for (let record = blocks[i], end = blocks[i + 1]; record < end; ) {
      const length = pool[record] | (pool[record + 1] << 8);
      ranges[2 * count] = record + KEY_HEAD_BYTES;
      ranges[2 * count + 1] = length;
      count++;
      record += KEY_HEAD_BYTES + length;
    }
  }
  return count;
}

/** Every key greater than the one before: already in final order, no duplicates (sorted lists are common). */
function strictlyAscending(pool: Uint8Array, ranges: Uint32Array, count: number): boolean {
  for (let k = 1; k < count; k++) if (compareRanges(pool, ranges[2 * k - 2], ranges[2 * k - 1], ranges[2 * k], ranges[2 * k + 1]) >= 0) return false;
  return true;
}

/** How many leading bytes all the keys have in common (keys of a bucket often share many). */
function sharedPrefixLength(pool: Uint8Array, ranges: Uint32Array, count: number): number {
  if (count === 0) return 0;
  const first = ranges[0];
  let shared = ranges[1];
  for (let k = 1; k < count && shared > 0; k++) {
    const start = ranges[2 * k];
    const limit = Math.min(shared, ranges[2 * k + 1]);
    let d = 0;
    while (d < limit && pool[first + d] === pool[start + d]) d++;
    shared = d;
  }
  return shared;
}

/**
 * Writes the keys of one bucket (ranges of the pool, visited in `order`,
 * which sorts them) each once; a key both accepted and rejected is added to
 * `conflicts` (up to MAX_REPORTED_PROBLEMS keys), to be named by line later.
 */
function writeSortedBucket(pool: Buffer, ranges: Uint32Array, order: Uint32Array, count: number, records: RecordStream, conflicts: Buffer[]): void {
  let previousStart = -1;
  let previousLength = 0;
  let previousHash = 0;
  let conflictStart = -1;
  for (let i = 0; i < count; i++) {
    const k = order[i];
    const start = ranges[2 * k];
    const length = ranges[2 * k + 1];
    const flag = keyFlagAt(pool, start - KEY_HEAD_BYTES);
    const hash = keyHashAt(pool, start - KEY_HEAD_BYTES);
    // Equal keys have equal lengths and hashes: neighbours are told apart without reading their bytes.
    if (hash === previousHash && length === previousLength && previousStart >= 0 && compareRanges(pool, previousStart, previousLength, start, length) === 0) {
      if (keyFlagAt(pool, previousStart - KEY_HEAD_BYTES) !== flag && conflictStart !== previousStart && conflicts.length < MAX_REPORTED_PROBLEMS) {
        conflicts.push(Buffer.from(pool.subarray(start, start + length)));
        conflictStart = previousStart;
      }
      continue;
    }
    records.add(pool, start, length, flag === 1, hash);
    previousStart = start;
    previousLength = length;
    previousHash = hash;
  }
}

/** Writes the keys of one bucket that are strictly ascending already. */
function writeAscendingBucket(pool: Buffer, ranges: Uint32Array, count: number, records: RecordStream): void {
  for (let k = 0; k < count; k++) {
    const start = ranges[2 * k];
    records.add(pool, start, ranges[2 * k + 1], keyFlagAt(pool, start - KEY_HEAD_BYTES) === 1, keyHashAt(pool, start - KEY_HEAD_BYTES));
  }
}

/** Thrown by writeBuckets when keys are both accepted and rejected: their lines are found by reading the source again. */
class ConflictingKeys extends Error {
  constructor(readonly keys: Buffer[]) {
    super("keys both accepted and rejected");
  }
}

/**
 * Writes the records bucket after bucket, each bucket's keys in byte order
 * and each key once, then the hash tables; returns the header and the number
 * of keys written. Keys both accepted and rejected throw ConflictingKeys
 * after the records; the caller then discards what the output got.
 */
function writeBuckets(buckets: KeyBuckets, tuning: ValidRcptToTuning, output: CdbOutput): { header: Buffer; count: number } {
  const { pool, counts, blocks } = buckets;
  let largest = 0;
  let total = 0;
  for (let b = 0; b < counts.length; b++) {
    largest = Math.max(largest, counts[b]);
    total += counts[b];
  }
  // Key k of the bucket at hand is pool[ranges[2k], ranges[2k] + ranges[2k + 1]).
  const ranges = new Uint32Array(2 * largest);
  const order = new Uint32Array(largest);
  const scratch = newSortScratch(largest);
  const records = new RecordStream(output, total, tuning);
  const conflicts: Buffer[] = [];
  for (let bucket = 0; bucket < counts.length; bucket++) {
    const count = listBucket(pool, blocks[bucket], ranges);
    if (strictlyAscending(pool, ranges, count)) writeAscendingBucket(pool, ranges, count, records);
    else {
      for (let k = 0; k < count; k++) order[k] = k;
      sortKeyOrder({ bytes: pool, ranges, count }, order, scratch, sharedPrefixLength(pool, ranges, count));
      writeSortedBucket(pool, ranges, order, count, records, conflicts);
    }
  }
  if (conflicts.length > 0) throw new ConflictingKeys(conflicts);
  // Every key is written: the pool's memory (at least 9 bytes a key, in
  // memory already) holds the tables' working arrays, so the peak gets no
  // new pages for them.
  const base = pool.byteOffset + ((4 - (pool.byteOffset % 4)) % 4);
  const header = records.finish([new Uint32Array(pool.buffer, base, records.count), new Uint32Array(pool.buffer, base + 4 * records.count, records.count)]);
  return { header, count: records.count };
}

/** Thrown by InOrderRecords at the first key out of order. */
class KeysOutOfOrder extends Error {}

function compareKeys(a: Uint8Array, startA: number, lengthA: number, b: Uint8Array, startB: number, lengthB: number): number {
  const shorter = lengthA < lengthB ? lengthA : lengthB;
  for (let d = 0; d < shorter; d++) {
    const diff = a[startA + d] - b[startB + d];
    if (diff !== 0) return diff;
  }
  return lengthA - lengthB;
}

const verdict = (flag: number) => (flag === 1 ? "rejected" : "accepted");

/**
 * A sink for a list in byte order (sorted dumps are common): the parser
 * copies each key straight into the output as a record, which is kept when
 * the key is greater than the one before and dropped when it repeats it; no
 * buckets, no sort. The first key out of order throws KeysOutOfOrder; the
 * caller then builds the buckets way.
 */
class InOrderRecords implements KeySink {
  readonly headBytes = 0;
  readonly conflicts: SourceProblem[] = [];
  /** The previous key: in the output chunk, or in `saved` once that chunk is written out. */
  private previousKey: Buffer;
  private previousAt = -1;
  private previousLength = 0;
  private previousFlag = 0;
  private previousLine = 0;
  private readonly saved = Buffer.allocUnsafe(MAX_ENTRY_BYTES);

  constructor(
    private readonly records: RecordStream,
    private readonly unit: "line" | "entry",
  ) {
    this.previousKey = this.saved;
  }

  get target(): Buffer {
    return this.records.chunk;
  }

  placeKey(): number {
    return this.roomFor(SHORT_KEY_BYTES);
  }

  commitKey(length: number, flag: number, hash: number, line: number): void {
    const chunk = this.records.chunk;
    const at = this.records.at + 8;
    if (this.previousAt >= 0) {
      const order = compareKeys(this.previousKey, this.previousAt, this.previousLength, chunk, at, length);
      if (order > 0) throw new KeysOutOfOrder();
      if (order === 0) {
        if (flag !== this.previousFlag && this.conflicts.length < MAX_REPORTED_PROBLEMS) {
          this.conflicts.push({ line, reason: `${shown(chunk, at, at + length)} is ${verdict(flag)} here but ${verdict(this.previousFlag)} on ${this.unit} ${this.previousLine}` });
        }
        return;
      }
    }
    this.records.commitPlaced(length, flag === 1, hash);
    this.previousKey = chunk;
    this.previousAt = at;
    this.previousLength = length;
    this.previousFlag = flag;
    this.previousLine = line;
  }

  add(source: Uint8Array, start: number, end: number, flag: number, hash: number, line: number): void {
    const at = this.roomFor(end - start);
    this.records.chunk.set(source.subarray(start, end), at);
    this.commitKey(end - start, flag, hash, line);
  }

  /** Where the key bytes of a record of up to `keyBytes` go, the chunk written out first if full (the previous key saved). */
  private roomFor(keyBytes: number): number {
    const records = this.records;
    if (!records.hasRoom(9 + keyBytes)) {
      if (this.previousAt >= 0 && this.previousKey !== this.saved) {
        this.previousKey.copy(this.saved, 0, this.previousAt, this.previousAt + this.previousLength);
        this.previousKey = this.saved;
        this.previousAt = 0;
      }
      records.flushForRoom(9 + keyBytes);
    }
    return records.at + 8;
  }
}

/** A list in order written as it is parsed; throws KeysOutOfOrder when it is not in order after all. */
function writeInOrder(source: Source, unit: "line" | "entry", tuning: ValidRcptToTuning, output: CdbOutput): { header: Buffer; count: number } {
  // At most a key per 3 bytes of source ("@x" and a line end); only the part used is in memory.
  const records = new RecordStream(output, Math.floor((byteSourceOf(source).size + 2) / 3), tuning);
  const sink = new InOrderRecords(records, unit);
  parseSource(source, sink, unit, tuning);
  if (sink.conflicts.length > 0) throw new ValidRcptToSourceError(sink.conflicts, unit);
  return { header: records.finish(), count: records.count };
}

/**
 * A sink that notes, for a few keys, the line and verdict of their first
 * occurrence and every later one that gives the other verdict: reads the
 * source again to name the lines of a conflict the buckets found (no line
 * is kept per key while building).
 */
class ConflictLines implements KeySink {
  readonly target = Buffer.allocUnsafe(SHORT_KEY_BYTES);
  readonly headBytes = 0;
  private readonly hashes: Set<number>;
  private readonly first = new Map<string, { flag: number; line: number }>();
  private readonly problems = new Map<string, SourceProblem[]>();

  constructor(
    private readonly keys: Buffer[],
    private readonly unit: "line" | "entry",
  ) {
    this.hashes = new Set(keys.map((key) => cdbHash(key)));
    for (const key of keys) this.problems.set(key.toString("latin1"), []);
  }

  placeKey(): number {
    return 0;
  }

  commitKey(length: number, flag: number, hash: number, line: number): void {
    this.add(this.target, 0, length, flag, hash, line);
  }

  add(source: Uint8Array, start: number, end: number, flag: number, hash: number, line: number): void {
    if (!this.hashes.has(hash)) return;
    const key = Buffer.from(source.buffer, source.byteOffset + start, end - start);
    const problems = this.problems.get(key.toString("latin1"));
    if (problems === undefined) return;
    const first = this.first.get(key.toString("latin1"));
    if (first === undefined) this.first.set(key.toString("latin1"), { flag, line });
    else if (first.flag !== flag) problems.push({ line, reason: `${shown(key, 0, key.length)} is ${verdict(flag)} here but ${verdict(first.flag)} on ${this.unit} ${first.line}` });
  }

  /** The conflicts in key order (as the buckets found them), at most MAX_REPORTED_PROBLEMS, by line. */
  found(): SourceProblem[] {
    const all = this.keys.flatMap((key) => this.problems.get(key.toString("latin1")) ?? []);
    return all.slice(0, MAX_REPORTED_PROBLEMS).sort((a, b) => a.line - b.line);
  }
}

/** The error naming the lines of keys both accepted and rejected, found by reading the source again. */
function conflictError(source: Source, keys: Buffer[], unit: "line" | "entry", tuning: ValidRcptToTuning): ValidRcptToSourceError {
  const lines = new ConflictLines(keys, unit);
  parseSource(source, lines, unit, tuning);
  return new ValidRcptToSourceError(lines.found(), unit);
}

/**
 * The cdb of a source: written as it is parsed when samples show a list in
 * order, else (or when a key out of order turns up) through buckets.
 * `open` gives a fresh output for each attempt; `discard` drops one.
 */
function writeValidRcptTo<T extends CdbOutput>(source: Source, unit: "line" | "entry", tuning: ValidRcptToTuning, open: () => T, discard: (output: T) => void): { header: Buffer; count: number; output: T } {
  const { splitters, inOrder } = sampleSource(byteSourceOf(source), tuning.bucketKeys ?? BUCKET_KEYS);
  if (inOrder) {
    const output = open();
    try {
      return { ...writeInOrder(source, unit, tuning, output), output };
    } catch (err) {
      discard(output);
      if (!(err instanceof KeysOutOfOrder)) throw err;
    }
  }
  const buckets = readKeys(source, splitters(), unit, tuning);
  const output = open();
  try {
    return { ...writeBuckets(buckets, tuning, output), output };
  } catch (err) {
    discard(output);
    if (err instanceof ConflictingKeys) throw conflictError(source, err.keys, unit, tuning);
    throw err;
  }
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
export function buildValidRcptTo(source: string | Uint8Array | readonly string[], tuning: ValidRcptToTuning = {}): Buffer {
  const { bytes, unit } = ownedSource(source);
  const memory = () => {
    const chunks: Buffer[] = [];
    return { chunks, append: (chunk: Buffer, length: number) => chunks.push(chunk.subarray(0, length)), copiesChunks: false };
  };
  const { header, output } = writeValidRcptTo(bytes, unit, tuning, memory, () => {});
  return Buffer.concat([header, ...output.chunks]);
}

/**
 * Builds validrcptto.cdb into `targetPath` (temp file + rename) from a list
 * in memory (taken over: lower-cased in place) or in a file, which is read
 * in pieces. Returns the number of addresses written.
 */
export function writeValidRcptToFile(source: Buffer | { path: string }, targetPath: string, tuning: ValidRcptToTuning = {}): number {
  const toFile = () => {
    const file = new AtomicCdbFile(targetPath);
    return { file, append: (chunk: Buffer, length: number) => file.append(chunk, length), copiesChunks: true };
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
