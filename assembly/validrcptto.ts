// The byte work of a validrcptto.cdb build, compiled to WebAssembly (this is
// AssemblyScript: TypeScript with machine types). lib/cdb/validrcptto.ts
// drives it: it reads the list into this module's memory, names bad lines,
// and writes the records and tables this module lays out.
//
// Per plain line (local@domain, optionally '!' first) the key is lower-cased
// in place and hashed in one pass, then filed:
//  - in order (a sorted list): straight into the output as a cdb record,
//    dropped when it repeats the key before it;
//  - in buckets: into the bucket its first 12 bytes choose, each bucket a
//    chain of blocks. A bucket is then sorted (MSD radix on 8-byte words)
//    and written while its keys are in the CPU cache.
// Anything else on a line (blanks, comment, bad entry) stops the parse at
// that line and the caller handles it.
//
// Memory is handed out by a bump allocator from __heap_base, grown on demand;
// one build per instance. Every region has SLACK bytes after its end, as keys
// are read and copied 8 bytes at a time.

const SLACK: usize = 64;
const PAGE: usize = 65536;

const NEWLINE: u32 = 0x0a;
const CR: u32 = 0x0d;
const SPACE: u32 = 0x20;
const BANG: u32 = 0x21;
const HASH: u32 = 0x23;
const DASH: u8 = 0x2d;
const AT: u32 = 0x40;
const CDB_HASH_START: u32 = 5381;
const CDB_HEADER_BYTES: u64 = 2048;
const CDB_MAX_BYTES: u64 = 0xffffffff;
const MAX_KEY_BYTES: u32 = 65535;

// What parse(), fileKey() and writeBucket() report.
export const DONE: i32 = 0;
/** The line at `cursor` is not a plain entry: the caller reads it (it ends at `lineEnd`). */
export const ODD_LINE: i32 = 1;
/** In order: the key is below the one before it; the list is not sorted. */
export const OUT_OF_ORDER: i32 = 2;
/** In order: the key repeats the one before with the other verdict (see previousFlag, previousLine). */
export const CONFLICT: i32 = 3;
/** The output has no room for the next record: the caller writes it out and calls outputWritten(). */
export const OUTPUT_FULL: i32 = 4;
/** The records would pass the cdb size limit (4 GiB - 1) at record `count` + 1. */
export const TOO_LARGE: i32 = 5;
/** Memory could not grow. */
export const NO_MEMORY: i32 = 6;
/** Listing: the key at keyStart (flag keyFlag) is on line lineNumber; parse goes on from `cursor`. */
export const LISTED: i32 = 7;

// ---- memory ----

let top: usize = 0;

/** `bytes` of memory, 8-aligned, followed by SLACK bytes of its own; 0 when memory cannot grow. */
export function alloc(bytes: usize): usize {
  if (top == 0) top = (__heap_base + 7) & ~(<usize>7);
  const start = top;
  // More than the 4 GiB a module can address (the sum would wrap around).
  if (bytes > <usize>0xffff0000 - start) return 0;
  const end = start + ((bytes + 7) & ~(<usize>7)) + SLACK;
  const have = (<usize>memory.size()) * PAGE;
  if (end > have) {
    // By an eighth at least: each grow is a call into the engine.
    const pages = <i32>((end - have + PAGE - 1) / PAGE);
    const more = <i32>(have / PAGE / 8);
    if (memory.grow(pages > more ? pages : more) < 0 && memory.grow(pages) < 0) return 0;
  }
  top = end;
  return start;
}

// ---- parsing ----

/** Where parse() stopped: the start of the line it reports, or the end of its range. */
export let cursor: usize = 0;
/** The end (newline or end of range) of the line parse() reports. */
export let lineEnd: usize = 0;
/** The number of the line at `cursor` (the caller sets the count before the first line). */
export let lineNumber: u32 = 0;
// The key of the line parse() is at.
export let keyStart: usize = 0;
export let keyLength: u32 = 0;
let keyHash: u32 = 0;
export let keyFlag: u32 = 0;

// Eight bytes at a time (SWAR): a u64 holds 8 bytes, the first in its low
// byte. Each test below sets the high bit of every byte that passes it,
// exactly (no carry crosses from one byte to the next).
const ONES: u64 = 0x0101010101010101;
const HIGH_BITS: u64 = 0x8080808080808080;
const LOW_BITS: u64 = 0x7f7f7f7f7f7f7f7f;

/** Bytes below n (n at most 0x80). */
// @ts-ignore: decorator
@inline function bytesBelow(x: u64, n: u64): u64 {
  return ~(((x & LOW_BITS) + (0x80 - n) * ONES) | x) & HIGH_BITS;
}

/** Bytes equal to c. */
// @ts-ignore: decorator
@inline function bytesEqual(x: u64, c: u64): u64 {
  const t = x ^ (c * ONES);
  return ~(((t & LOW_BITS) + LOW_BITS) | t) & HIGH_BITS;
}

/** The 8 bytes, ASCII lower-cased (as qmail-smtpd's case_lowerb does). */
// @ts-ignore: decorator
@inline function lowerCased(x: u64): u64 {
  const y = x & LOW_BITS;
  const upper = (y + (0x80 - 0x41) * ONES) & ~(y + (0x80 - 0x5b) * ONES) & ~x & HIGH_BITS;
  return x | (upper >> 2);
}

/** cdb's hash (h * 33 ^ byte) over the first n bytes of x. */
// @ts-ignore: decorator
@inline function hashBytes(hash: u32, x: u64, n: usize): u32 {
  if (n == 8) {
    hash = ((hash << 5) + hash) ^ <u32>(x & 0xff);
    hash = ((hash << 5) + hash) ^ <u32>((x >> 8) & 0xff);
    hash = ((hash << 5) + hash) ^ <u32>((x >> 16) & 0xff);
    hash = ((hash << 5) + hash) ^ <u32>((x >> 24) & 0xff);
    hash = ((hash << 5) + hash) ^ <u32>((x >> 32) & 0xff);
    hash = ((hash << 5) + hash) ^ <u32>((x >> 40) & 0xff);
    hash = ((hash << 5) + hash) ^ <u32>((x >> 48) & 0xff);
    return ((hash << 5) + hash) ^ <u32>(x >> 56);
  }
  for (let k: usize = 0; k < n; k++) hash = ((hash << 5) + hash) ^ <u32>((x >> (<u64>k << 3)) & 0xff);
  return hash;
}

/**
 * Reads the line at `i` as a plain entry: lower-cases and hashes its key in
 * place and sets key*; returns where the next line starts, or 0 when the
 * line is not plain (blanks, a comment, a bad entry, a very long key).
 * Whole words are lower-cased in place, so bytes after the key may be too:
 * they are lower-cased when their turn comes anyway.
 */
// @ts-ignore: decorator
@inline function scanLine(i: usize, end: usize): usize {
  let flag: u32 = 0;
  if (<u32>load<u8>(i) == BANG) {
    flag = 1;
    i++;
  }
  const start = i;
  let hash = CDB_HASH_START;
  let ats: u32 = 0;
  let lastAt: usize = 0;
  for (;;) {
    const x = load<u64>(i);
    const stops = bytesBelow(x, SPACE + 1) | bytesEqual(x, 0x7f);
    let n: usize = stops != 0 ? <usize>(ctz(stops) >> 3) : 8;
    if (n > end - i) n = end - i;
    const lower = lowerCased(x);
    store<u64>(i, lower);
    let atBytes = bytesEqual(lower, AT);
    if (n < 8) atBytes &= (<u64>1 << (<u64>n << 3)) - 1;
    if (atBytes != 0) {
      ats += <u32>popcnt(atBytes);
      lastAt = i + <usize>((63 - clz(atBytes)) >> 3);
    }
    hash = hashBytes(hash, lower, n);
    i += n;
    if (n < 8) break;
  }
  const keyEnd = i;
  if (i + 1 < end && <u32>load<u8>(i) == CR && <u32>load<u8>(i + 1) == NEWLINE) i++;
  if (i < end && <u32>load<u8>(i) != NEWLINE) return 0;
  if (ats != 1 || lastAt == keyEnd - 1 || keyEnd - start > <usize>MAX_KEY_BYTES) return 0;
  // A key starting with '#' is a comment; "!" alone is no entry.
  if (flag == 0 && <u32>load<u8>(start) == HASH) return 0;
  keyStart = start;
  keyLength = <u32>(keyEnd - start);
  keyHash = hash;
  keyFlag = flag;
  return i < end ? i + 1 : end;
}

/** How the keys are filed: IN_ORDER, BUCKETS, or LISTING (each reported, none kept). */
let mode: i32 = 0;
const IN_ORDER: i32 = 1;
const BUCKETS: i32 = 2;
const LISTING: i32 = 3;

/** Every key is reported (LISTED) and none kept: to find the lines of a few keys again. */
export function startListing(): void {
  mode = LISTING;
}

/**
 * Files the complete lines of [start, end) (each ends with a newline, but
 * the last line of the input may end at `end`). Lines are numbered from
 * lineNumber + 1. Returns DONE, or the report about the line at `cursor`;
 * after it is handled, parse goes on from the next line.
 */
export function parse(start: usize, end: usize): i32 {
  let i = start;
  while (i < end) {
    lineNumber++;
    const next = scanLine(i, end);
    if (next == 0) {
      cursor = i;
      let e = i;
      while (e < end && <u32>load<u8>(e) != NEWLINE) e++;
      lineEnd = e;
      return ODD_LINE;
    }
    const status = fileScannedKey();
    if (status != DONE) {
      // CONFLICT and LISTED: the line is done; else it is read again (after OUTPUT_FULL).
      const done = status == CONFLICT || status == LISTED;
      cursor = done ? next : i;
      if (!done) lineNumber--;
      lineEnd = next;
      return status;
    }
    i = next;
  }
  cursor = end;
  return DONE;
}

/**
 * Files the key [start, start + length), lower-cased, of line `line` (a
 * line parse() reported and the caller read).
 */
export function fileKey(start: usize, length: u32, flag: u32, hash: u32, line: u32): i32 {
  keyStart = start;
  keyLength = length;
  keyFlag = flag;
  keyHash = hash;
  const saved = lineNumber;
  lineNumber = line;
  const status = fileScannedKey();
  lineNumber = saved;
  return status;
}

// @ts-ignore: decorator
@inline function fileScannedKey(): i32 {
  if (mode == BUCKETS) return fileInBucket();
  return mode == IN_ORDER ? fileInOrder() : LISTED;
}

// ---- records ----

/** Output region: records (or a table) from outputStart to outputAt. */
export let outputStart: usize = 0;
export let outputAt: usize = 0;
/** Records are added while they fit below this (one always fits in an empty region). */
let outputLimit: usize = 0;
let outputCapacity: usize = 0;
/** Records written: their hashes and positions, for the tables. */
export let count: u32 = 0;
let capacity: u32 = 0;
let hashes: usize = 0;
let positions: usize = 0;
let position: u64 = CDB_HEADER_BYTES;

/** Room for `chunk` bytes of records at a time, and the index of up to `records` records. */
export function startRecords(records: u32, chunk: u32): i32 {
  if (mode == BUCKETS) bucketMemoryEnd = top;
  if (records > 0x1fffffff) return NO_MEMORY;
  outputCapacity = <usize>chunk > 9 + <usize>MAX_KEY_BYTES ? <usize>chunk : 9 + <usize>MAX_KEY_BYTES;
  outputStart = alloc(outputCapacity);
  outputAt = outputStart;
  outputLimit = outputStart + chunk;
  capacity = records;
  hashes = alloc(<usize>records * 4);
  positions = alloc(<usize>records * 4);
  if (outputStart == 0 || hashes == 0 || positions == 0) return NO_MEMORY;
  return DONE;
}

/** The caller wrote out outputStart..outputAt: the region is free again. */
export function outputWritten(): void {
  if (mode == IN_ORDER && previousAt >= outputStart && previousAt < outputAt) {
    memory.copy(savedKey, previousAt, previousLength);
    previousAt = savedKey;
  }
  outputAt = outputStart;
}

/** Copies `length` bytes 8 at a time (both regions have SLACK after them). */
// @ts-ignore: decorator
@inline function copyKey(to: usize, from: usize, length: u32): void {
  for (let d: usize = 0; d < <usize>length; d += 8) store<u64>(to + d, load<u64>(from + d));
}

/**
 * Appends the record of key [key, key + length) (value "-" when `reject`,
 * else empty), if the output has room; returns where its key bytes are.
 * 0 with `recordStatus` set when it does not fit.
 */
let recordStatus: i32 = DONE;
// @ts-ignore: decorator
@inline function addRecord(key: usize, length: u32, reject: u32, hash: u32): usize {
  return addRecordAfter(0, 0, key, length, reject, hash);
}

/** addRecord for a key whose first `prefixLength` (at most 16) bytes are at `prefix`, the rest at `key`. */
// @ts-ignore: decorator
@inline function addRecordAfter(prefix: usize, prefixLength: u32, key: usize, length: u32, reject: u32, hash: u32): usize {
  const bytes = 8 + prefixLength + length + reject;
  const at = outputAt;
  if (at + <usize>bytes > outputLimit && at != outputStart) {
    recordStatus = OUTPUT_FULL;
    return 0;
  }
  // Each record also takes two 8-byte slots of the tables.
  if (position + <u64>bytes + (<u64>count + 1) * 16 > CDB_MAX_BYTES || count == capacity) {
    recordStatus = TOO_LARGE;
    return 0;
  }
  store<u32>(at, prefixLength + length);
  store<u32>(at + 4, reject);
  if (prefixLength != 0) {
    store<u64>(at + 8, load<u64>(prefix));
    store<u64>(at + 16, load<u64>(prefix + 8));
  }
  copyKey(at + 8 + prefixLength, key, length);
  if (reject) store<u8>(at + 8 + prefixLength + length, DASH);
  store<u32>(hashes + (<usize>count << 2), hash);
  store<u32>(positions + (<usize>count << 2), <u32>position);
  count++;
  position += bytes;
  outputAt = at + bytes;
  return at + 8;
}

// ---- in order ----

let previousAt: usize = 0;
let previousLength: u32 = 0;
let savedKey: usize = 0;
/** The line and flag of the key written last: at a CONFLICT, the earlier verdict on the key at keyStart. */
export let previousFlag: u32 = 0;
export let previousLine: u32 = 0;

/** Keys in order go straight into the records (see startRecords). */
export function startInOrder(): i32 {
  mode = IN_ORDER;
  savedKey = alloc(<usize>MAX_KEY_BYTES);
  previousAt = 0;
  return savedKey == 0 ? NO_MEMORY : DONE;
}

function compareKeys(a: usize, lengthA: u32, b: usize, lengthB: u32): i32 {
  const shorter = lengthA < lengthB ? lengthA : lengthB;
  let d: u32 = 0;
  for (; d + 8 <= shorter; d += 8) {
    const x = load<u64>(a + d);
    const y = load<u64>(b + d);
    if (x != y) return bswap<u64>(x) < bswap<u64>(y) ? -1 : 1;
  }
  for (; d < shorter; d++) {
    const x = <i32>load<u8>(a + d);
    const y = <i32>load<u8>(b + d);
    if (x != y) return x - y;
  }
  return <i32>lengthA - <i32>lengthB;
}

function fileInOrder(): i32 {
  if (previousAt != 0) {
    const order = compareKeys(previousAt, previousLength, keyStart, keyLength);
    if (order > 0) return OUT_OF_ORDER;
    if (order == 0) {
      return keyFlag == previousFlag ? DONE : CONFLICT;
    }
  }
  const at = addRecord(keyStart, keyLength, keyFlag, keyHash);
  if (at == 0) return recordStatus;
  previousAt = at;
  previousLength = keyLength;
  previousFlag = keyFlag;
  previousLine = lineNumber;
  return DONE;
}

// ---- buckets ----

// A key in a bucket: length (u16), flag (u8), a spare byte, cdb hash (u32), then its bytes.
const KEY_HEAD: usize = 8;
// A block: the next block of its bucket (u32), the end of its keys (u32), then keys.
const BLOCK_HEAD: usize = 8;
const BLOCK_BYTES: usize = 8192;
/** Keys above this get a block of their own, so no block is left with a big unused tail. */
const BIG_KEY: usize = BLOCK_BYTES / 16;

let bucketCount: u32 = 0;
/** Per boundary: its first 12 bytes as a u64 (bytes 0..7) and a u32 (8..11), big-endian. */
let splitHigh: usize = 0;
let splitLow: usize = 0;
/** Per value t of a key's first 16 bits: the first boundary whose first 16 bits are t or more. */
let firstAtOrAbove: usize = 0;
/**
 * Per bucket: the bytes every key of it starts with (those its two
 * boundaries share), up to 12, as 16 bytes, and how many. A bucket keeps
 * only the rest of each key.
 */
let prefixes: usize = 0;
let prefixLengths: usize = 0;
/** Per bucket (u32 each): the head of its chain of blocks, the block being filled, keys, key bytes (with heads). */
let firstBlock: usize = 0;
let fillBlock: usize = 0;
let keyCounts: usize = 0;
let keyBytes: usize = 0;
let lastBucket: u32 = 0;
/** Memory that holds only buckets and the input they were parsed from: free once every bucket is written. */
let bucketMemoryStart: usize = 0;
let bucketMemoryEnd: usize = 0;

/**
 * Buckets bounded by `boundaries` prefixes at `splitters` (three big-endian
 * u32 words each, ascending, as lib/cdb/key-buckets.ts makes them).
 */
export function startBuckets(splitters: usize, boundaries: u32): i32 {
  mode = BUCKETS;
  bucketMemoryStart = top;
  bucketCount = boundaries + 1;
  splitHigh = alloc(<usize>boundaries * 8);
  splitLow = alloc(<usize>boundaries * 4);
  firstAtOrAbove = alloc(0x10001 * 2);
  firstBlock = alloc(<usize>bucketCount * 4);
  fillBlock = alloc(<usize>bucketCount * 4);
  keyCounts = alloc(<usize>bucketCount * 4);
  keyBytes = alloc(<usize>bucketCount * 4);
  prefixes = alloc(<usize>bucketCount * 16);
  prefixLengths = alloc(<usize>bucketCount);
  if (prefixLengths == 0) return NO_MEMORY;
  memory.fill(prefixes, 0, <usize>bucketCount * 16);
  memory.fill(prefixLengths, 0, <usize>bucketCount);
  for (let b: u32 = 0; b < bucketCount; b++) {
    store<u32>(firstBlock + (<usize>b << 2), 0);
    store<u32>(fillBlock + (<usize>b << 2), 0);
    store<u32>(keyCounts + (<usize>b << 2), 0);
    store<u32>(keyBytes + (<usize>b << 2), 0);
  }
  let filled: u32 = 0;
  for (let i: u32 = 0; i < boundaries; i++) {
    const w0 = load<u32>(splitters + <usize>i * 12);
    const w1 = load<u32>(splitters + <usize>i * 12 + 4);
    const w2 = load<u32>(splitters + <usize>i * 12 + 8);
    store<u64>(splitHigh + (<usize>i << 3), ((<u64>w0) << 32) | <u64>w1);
    store<u32>(splitLow + (<usize>i << 2), w2);
    // Values up to this boundary's first 16 bits not taken by an earlier boundary: this one is the first at or above them.
    const upTo = (w0 >>> 16) + 1;
    for (; filled < upTo; filled++) store<u16>(firstAtOrAbove + (<usize>filled << 1), <u16>i);
  }
  for (; filled <= 0x10000; filled++) store<u16>(firstAtOrAbove + (<usize>filled << 1), <u16>boundaries);
  // A key of bucket b is at or above boundary b - 1 and below boundary b: it
  // starts with the bytes they share. (Those are never the zero padding of a
  // boundary shorter than 12 bytes: two boundaries that share it are equal.)
  for (let b: u32 = 1; b + 1 < bucketCount; b++) {
    const below = splitters + <usize>(b - 1) * 12;
    const above = splitters + <usize>b * 12;
    let shared: u32 = 0;
    for (; shared < 12; shared++) {
      // The words are big-endian numbers stored little-endian: byte j of word w is at 4w + 3 - j.
      const at = <usize>((shared & ~3) + 3 - (shared & 3));
      const byte = load<u8>(below + at);
      if (byte != load<u8>(above + at)) break;
      store<u8>(prefixes + (<usize>b << 4) + <usize>shared, byte);
    }
    store<u8>(prefixLengths + <usize>b, <u8>shared);
  }  lastBucket = 0;
  return DONE;
}

/** The first 8 bytes of [at, at + length) as a big-endian u64, zero-padded. */
// @ts-ignore: decorator
@inline function word8(at: usize, length: u32): u64 {
  if (length == 0) return 0;
  const w = bswap<u64>(load<u64>(at));
  return length >= 8 ? w : w & ~(<u64>0xffffffffffffffff >>> (<u64>length << 3));
}

/** Whether boundary i is at or below the prefix (high, low); without a branch, as the answer is as good as random. */
// @ts-ignore: decorator
@inline function boundaryAtOrBelow(i: u32, high: u64, low: u32): bool {
  const h = load<u64>(splitHigh + (<usize>i << 3));
  const l = load<u32>(splitLow + (<usize>i << 2));
  return <bool>(<u32>(h < high) | (<u32>(h == high) & <u32>(l <= low)));
}

/** The bucket of the key: how many boundaries are at or below its first 12 bytes. */
function bucketOf(key: usize, length: u32): u32 {
  const n = bucketCount - 1;
  if (n == 0) return 0;
  const high = word8(key, length);
  const low = length > 8 ? <u32>(word8(key + 8, length - 8) >>> 32) : 0;
  // Sorted and clustered lists send runs of keys to one bucket: try the last one first.
  const last = lastBucket;
  if ((last == 0 || boundaryAtOrBelow(last - 1, high, low)) && (last == n || !boundaryAtOrBelow(last, high, low))) return last;
  const top = <usize>(high >>> 48);
  // The answer is in [lo, lo + size]: the boundaries from lo on that are at or below the key.
  let lo = <u32>load<u16>(firstAtOrAbove + (top << 1));
  let size = <u32>load<u16>(firstAtOrAbove + ((top + 1) << 1)) - lo;
  // Halving without a branch (a select): which half it goes on in is as good as random.
  while (size > 0) {
    const half = (size + 1) >>> 1;
    lo = select<u32>(lo + half, lo, boundaryAtOrBelow(lo + half - 1, high, low));
    size -= half;
  }
  lastBucket = lo;
  return lo;
}

/** A new block of `bytes` at the head of the bucket's chain (order does not matter: a bucket is sorted). */
function newBlock(bucket: u32, bytes: usize): usize {
  const block = alloc(bytes);
  if (block == 0) return 0;
  store<u32>(block, load<u32>(firstBlock + (<usize>bucket << 2)));
  store<u32>(block + 4, <u32>(block + BLOCK_HEAD));
  store<u32>(firstBlock + (<usize>bucket << 2), <u32>block);
  return block;
}

function fileInBucket(): i32 {
  const bucket = bucketOf(keyStart, keyLength);
  const shared = <u32>load<u8>(prefixLengths + <usize>bucket);
  keyStart += shared;
  keyLength -= shared;
  const need = KEY_HEAD + <usize>keyLength;
  let block: usize;
  if (need > BIG_KEY) {
    block = newBlock(bucket, BLOCK_HEAD + need);
    if (block == 0) return NO_MEMORY;
  } else {
    block = <usize>load<u32>(fillBlock + (<usize>bucket << 2));
    if (block == 0 || <usize>load<u32>(block + 4) + need > block + BLOCK_BYTES) {
      block = newBlock(bucket, BLOCK_BYTES);
      if (block == 0) return NO_MEMORY;
      store<u32>(fillBlock + (<usize>bucket << 2), <u32>block);
    }
  }
  const at = <usize>load<u32>(block + 4);
  putKey(at);
  store<u32>(block + 4, <u32>(at + need));
  const c = keyCounts + (<usize>bucket << 2);
  store<u32>(c, load<u32>(c) + 1);
  const k = keyBytes + (<usize>bucket << 2);
  store<u32>(k, load<u32>(k) + <u32>need);
  return DONE;
}

// @ts-ignore: decorator
@inline function putKey(at: usize): void {
  store<u16>(at, <u16>keyLength);
  store<u8>(at + 2, <u8>keyFlag);
  store<u32>(at + 4, keyHash);
  copyKey(at + KEY_HEAD, keyStart, keyLength);
}

// ---- sorting and writing a bucket ----

/** Per key of the bucket being written: its word at the current depth, and where it is. */
let words: usize = 0;
let keys: usize = 0;
let spareWords: usize = 0;
let spareKeys: usize = 0;
let digitCounts: usize = 0;
/** Up to MAX_CONFLICTS keys both accepted and rejected: where a copy of each is and its length (u32 each). */
const MAX_CONFLICTS: u32 = 20;
export let conflicts: usize = 0;
export let conflictCount: u32 = 0;

/** The number of keys filed in buckets (each once per line it is on). */
export function bucketKeys(): u32 {
  let total: u32 = 0;
  for (let b: u32 = 0; b < bucketCount; b++) total += load<u32>(keyCounts + (<usize>b << 2));
  return total;
}

/** Working memory for writing the buckets: call after the last key is filed, after startRecords. */
export function startWriting(): i32 {
  let largest: u32 = 0;
  for (let b: u32 = 0; b < bucketCount; b++) {
    const c = load<u32>(keyCounts + (<usize>b << 2));
    if (c > largest) largest = c;
  }
  words = alloc(<usize>largest * 8);
  spareWords = alloc(<usize>largest * 8);
  keys = alloc(<usize>largest * 4);
  spareKeys = alloc(<usize>largest * 4);
  digitCounts = alloc(8 * 256 * 4);
  conflicts = alloc(<usize>MAX_CONFLICTS * 8);
  conflictCount = 0;
  return digitCounts == 0 || conflicts == 0 ? NO_MEMORY : DONE;
}

// @ts-ignore: decorator
@inline function keyLengthAt(key: usize): u32 {
  return <u32>load<u16>(key);
}

/** Word 8 bytes wide at `depth` of a bucket key (zero past its end; keys hold no zero byte, so that sorts first). */
// @ts-ignore: decorator
@inline function wordAt(key: usize, depth: u32): u64 {
  const length = keyLengthAt(key);
  return depth >= length ? 0 : word8(key + KEY_HEAD + depth, length - depth);
}

function insertionSort(lo: u32, hi: u32): void {
  for (let i = lo + 1; i < hi; i++) {
    const w = load<u64>(words + (<usize>i << 3));
    const k = load<u32>(keys + (<usize>i << 2));
    let j = i;
    while (j > lo) {
      const before = load<u64>(words + (<usize>(j - 1) << 3));
      if (before <= w) break;
      store<u64>(words + (<usize>j << 3), before);
      store<u32>(keys + (<usize>j << 2), load<u32>(keys + (<usize>(j - 1) << 2)));
      j--;
    }
    store<u64>(words + (<usize>j << 3), w);
    store<u32>(keys + (<usize>j << 2), k);
  }
}

/** Groups smaller than this are sorted by insertion. */
const SMALL_GROUP: u32 = 32;

/**
 * Sorts positions [lo, hi), whose words agree above bit shift + 8, by word:
 * MSD radix a byte at a time, from the byte at `shift` down (a bucket's keys
 * are mostly told apart by their first byte or two that differ).
 */
function sortByWord(lo: u32, hi: u32, shift: u32): void {
  for (;;) {
    const n = hi - lo;
    if (n < SMALL_GROUP) {
      insertionSort(lo, hi);
      return;
    }
    // Each level of the recursion has counts of its own.
    const counts = digitCounts + (<usize>(shift >> 3) << 10);
    memory.fill(counts, 0, 256 * 4);
    const s = <u64>shift;
    for (let i = lo; i < hi; i++) {
      const c = counts + (<usize>((load<u64>(words + (<usize>i << 3)) >> s) & 0xff) << 2);
      store<u32>(c, load<u32>(c) + 1);
    }
    if (load<u32>(counts + (<usize>((load<u64>(words + (<usize>lo << 3)) >> s) & 0xff) << 2)) == n) {
      // One byte value for all: on to the next byte.
      if (shift == 0) return;
      shift -= 8;
      continue;
    }
    let total = lo;
    for (let b: usize = 0; b < 256; b++) {
      const c = load<u32>(counts + (b << 2));
      store<u32>(counts + (b << 2), total);
      total += c;
    }
    for (let i = lo; i < hi; i++) {
      const w = load<u64>(words + (<usize>i << 3));
      const c = counts + (<usize>((w >> s) & 0xff) << 2);
      const to = load<u32>(c);
      store<u32>(c, to + 1);
      store<u64>(spareWords + (<usize>to << 3), w);
      store<u32>(spareKeys + (<usize>to << 2), load<u32>(keys + (<usize>i << 2)));
    }
    memory.copy(words + (<usize>lo << 3), spareWords + (<usize>lo << 3), <usize>n << 3);
    memory.copy(keys + (<usize>lo << 2), spareKeys + (<usize>lo << 2), <usize>n << 2);
    if (shift == 0) return;
    // counts[b] is now where group b ends.
    let start = lo;
    for (let b: usize = 0; b < 256; b++) {
      const end = load<u32>(counts + (b << 2));
      if (end - start > 1) sortByWord(start, end, shift - 8);
      start = end;
    }
    return;
  }
}

/**
 * Sorts positions [lo, hi) by the key bytes from `depth` on (MSD: runs that
 * share a word go on to the next one). Keys equal to the end stay together.
 */
function sortKeys(lo: u32, hi: u32, depth: u32): void {
  for (let i = lo; i < hi; i++) store<u64>(words + (<usize>i << 3), wordAt(<usize>load<u32>(keys + (<usize>i << 2)), depth));
  sortByWord(lo, hi, 56);
  let run = lo;
  while (run < hi) {
    const w = load<u64>(words + (<usize>run << 3));
    let runEnd = run + 1;
    while (runEnd < hi && load<u64>(words + (<usize>runEnd << 3)) == w) runEnd++;
    // A word whose last byte is zero holds the end of every key in the run: they are equal.
    if (runEnd - run > 1 && (w & 0xff) != 0) sortKeys(run, runEnd, depth + 8);
    run = runEnd;
  }
}

function sameKey(a: usize, b: usize): bool {
  const length = keyLengthAt(a);
  if (length != keyLengthAt(b) || load<u32>(a + 4) != load<u32>(b + 4)) return false;
  return compareKeys(a + KEY_HEAD, length, b + KEY_HEAD, length) == 0;
}

/**
 * Writes bucket `bucket` as records, its keys in byte order and each once.
 * OUTPUT_FULL: nothing was written; the caller writes the output out and calls again.
 */
export function writeBucket(bucket: u32): i32 {
  const n = load<u32>(keyCounts + (<usize>bucket << 2));
  if (n == 0) return DONE;
  const prefix = prefixes + (<usize>bucket << 4);
  const shared = <u32>load<u8>(prefixLengths + <usize>bucket);
  // A record has the bytes of its key in the bucket, the shared ones and a "-" for a reject more.
  const bytes = <usize>load<u32>(keyBytes + (<usize>bucket << 2)) + <usize>n * (<usize>shared + 1);
  if (outputAt + bytes > outputLimit && outputAt != outputStart) return OUTPUT_FULL;
  if (outputStart + bytes > outputStart + outputCapacity) {
    outputCapacity = bytes;
    outputStart = alloc(bytes);
    if (outputStart == 0) return NO_MEMORY;
    outputAt = outputStart;
    outputLimit = outputStart + bytes;
  }
  let k: u32 = 0;
  for (let block = <usize>load<u32>(firstBlock + (<usize>bucket << 2)); block != 0; block = <usize>load<u32>(block)) {
    const end = <usize>load<u32>(block + 4);
    for (let key = block + BLOCK_HEAD; key < end; key += KEY_HEAD + <usize>keyLengthAt(key)) {
      store<u32>(keys + (<usize>k << 2), <u32>key);
      k++;
    }
  }
  sortKeys(0, n, 0);
  // The limit is for sizing; a bucket is written whole.
  const limit = outputLimit;
  outputLimit = outputStart + outputCapacity;
  let previous: usize = 0;
  let conflictAt: usize = 0;
  for (let i: u32 = 0; i < n; i++) {
    const key = <usize>load<u32>(keys + (<usize>i << 2));
    if (previous != 0 && sameKey(previous, key)) {
      if (load<u8>(previous + 2) != load<u8>(key + 2) && conflictAt != previous && conflictCount < MAX_CONFLICTS) {
        // The whole key, for the caller to name.
        const length = shared + keyLengthAt(key);
        const copy = alloc(<usize>length + 16);
        if (copy == 0) return NO_MEMORY;
        store<u64>(copy, load<u64>(prefix));
        store<u64>(copy + 8, load<u64>(prefix + 8));
        copyKey(copy + shared, key + KEY_HEAD, keyLengthAt(key));
        store<u32>(conflicts + (<usize>conflictCount << 3), <u32>copy);
        store<u32>(conflicts + (<usize>conflictCount << 3) + 4, length);
        conflictCount++;
        conflictAt = previous;
      }
      continue;
    }
    if (addRecordAfter(prefix, shared, key + KEY_HEAD, keyLengthAt(key), <u32>load<u8>(key + 2), load<u32>(key + 4)) == 0) {
      outputLimit = limit;
      return recordStatus;
    }
    previous = key;
  }
  outputLimit = limit;
  return DONE;
}

// ---- tables ----

let groupedHashes: usize = 0;
let groupedPositions: usize = 0;
let tableStarts: usize = 0;
export let header: usize = 0;
let tablePosition: u64 = 0;

/** Groups the records' hashes by table; the tables follow the records. */
export function startTables(): i32 {
  tableStarts = alloc(257 * 4);
  header = alloc(<usize>CDB_HEADER_BYTES);
  if (mode == BUCKETS && bucketMemoryEnd - bucketMemoryStart >= <usize>count * 8) {
    // The buckets' memory, in memory already: no new pages.
    groupedHashes = bucketMemoryStart;
    groupedPositions = bucketMemoryStart + <usize>count * 4;
  } else {
    groupedHashes = alloc(<usize>count * 4);
    groupedPositions = alloc(<usize>count * 4);
    if (groupedPositions == 0) return NO_MEMORY;
  }
  memory.fill(tableStarts, 0, 257 * 4);
  for (let i: u32 = 0; i < count; i++) {
    const c = tableStarts + ((<usize>(load<u32>(hashes + (<usize>i << 2)) & 255) + 1) << 2);
    store<u32>(c, load<u32>(c) + 1);
  }
  let largest: u32 = 0;
  for (let b: usize = 1; b <= 256; b++) {
    const c = load<u32>(tableStarts + (b << 2));
    if (c > largest) largest = c;
    store<u32>(tableStarts + (b << 2), c + load<u32>(tableStarts + ((b - 1) << 2)));
  }
  // Fills in record order, so each table keeps the records' order, as cdbmake's does.
  for (let i: u32 = 0; i < count; i++) {
    const h = load<u32>(hashes + (<usize>i << 2));
    const c = tableStarts + (<usize>(h & 255) << 2);
    const at = load<u32>(c);
    store<u32>(c, at + 1);
    store<u32>(groupedHashes + (<usize>at << 2), h);
    store<u32>(groupedPositions + (<usize>at << 2), load<u32>(positions + (<usize>i << 2)));
  }
  // The fill moved each start to the next table's start: table b is [start(b - 1), start(b)) now, with start(-1) = 0.
  outputCapacity = <usize>largest * 16;
  outputStart = alloc(outputCapacity);
  if (outputStart == 0) return NO_MEMORY;
  tablePosition = position;
  return DONE;
}

/** Lays out table b (0..255) from outputStart to outputAt and its header entry. */
export function writeTable(b: u32): void {
  const start: u32 = b == 0 ? 0 : load<u32>(tableStarts + (<usize>(b - 1) << 2));
  const end = load<u32>(tableStarts + (<usize>b << 2));
  const slots = (end - start) * 2;
  store<u32>(header + (<usize>b << 3), <u32>tablePosition);
  store<u32>(header + (<usize>b << 3) + 4, slots);
  outputAt = outputStart + (<usize>slots << 3);
  if (slots == 0) return;
  memory.fill(outputStart, 0, <usize>slots << 3);
  // Open addressing; position 0 marks a free slot (no record starts there: the header does).
  for (let i = start; i < end; i++) {
    const h = load<u32>(groupedHashes + (<usize>i << 2));
    let where = (h >>> 8) % slots;
    while (load<u32>(outputStart + (<usize>where << 3) + 4) != 0) if (++where == slots) where = 0;
    store<u32>(outputStart + (<usize>where << 3), h);
    store<u32>(outputStart + (<usize>where << 3) + 4, load<u32>(groupedPositions + (<usize>i << 2)));
  }
  tablePosition += <u64>slots << 3;
}
