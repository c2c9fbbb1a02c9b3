// Keys spread into buckets by their first 12 bytes, in byte order: every key
// of bucket b sorts before every key of bucket b + 1, and equal keys share a
// bucket. Each bucket is then small enough to sort and write from the CPU
// cache. Sorting a million keys where they lie, scattered over a 40 MB input,
// costs a cache miss per key and pass instead; here the key bytes move once,
// in sequential streams.
//
// A key is stored in its bucket as a record: length (16 bits, little-endian),
// a flag byte, the key's cdb hash (32 bits, little-endian, computed while the
// parser reads the key, so the writer does not read the key again for it),
// then the key bytes.
// Buckets grow by blocks taken from one pool, so no bucket needs to be sized
// in advance.

export const KEY_HEAD_BYTES = 7;
/** Bytes of a key that choose its bucket. */
export const PREFIX_BYTES = 12;
const BLOCK_BYTES = 1 << 13;
/** Records above this size get a block of their own: a block's unused tail is then under 1/16 of it. */
const BIG_RECORD_BYTES = BLOCK_BYTES / 16;
/** Keys up to this long can be copied before their length is known (see shortKeyAt). */
export const SHORT_KEY_BYTES = BIG_RECORD_BYTES - KEY_HEAD_BYTES;

/** Word 0, 1 or 2 of the key source[start, end) zero-padded to 12 bytes, big-endian (so numeric order is byte order). */
function prefixWord(source: Uint8Array, start: number, end: number, word: number): number {
  const at = start + word * 4;
  if (at + 4 <= end) return ((source[at] << 24) | (source[at + 1] << 16) | (source[at + 2] << 8) | source[at + 3]) >>> 0;
  let value = 0;
  for (let k = 0; k < 4; k++) value = ((value << 8) | (at + k < end ? source[at + k] : 0)) >>> 0;
  return value;
}

function comparePrefix(words: Uint32Array, i: number, w0: number, w1: number, w2: number): number {
  const a = words[i * 3];
  if (a !== w0) return a < w0 ? -1 : 1;
  const b = words[i * 3 + 1];
  if (b !== w1) return b < w1 ? -1 : 1;
  const c = words[i * 3 + 2];
  return c === w2 ? 0 : c < w2 ? -1 : 1;
}

/**
 * Bucket boundaries from sample keys (ranges of `bytes`): `buckets - 1`
 * prefixes, ascending, without repeats. Any boundaries give a correct order;
 * samples spread over the input make buckets of about equal size.
 */
export function splittersFromSamples(bytes: Uint8Array, samples: Array<[number, number]>, buckets: number): Uint32Array {
  const prefixes = new Uint32Array(samples.length * 3);
  samples.forEach(([start, end], i) => {
    for (let w = 0; w < 3; w++) prefixes[i * 3 + w] = prefixWord(bytes, start, end, w);
  });
  const order = samples.map((_, i) => i).sort((i, j) => comparePrefix(prefixes, i, prefixes[j * 3], prefixes[j * 3 + 1], prefixes[j * 3 + 2]));
  const chosen: number[] = [];
  for (let b = 1; b < buckets && samples.length > 0; b++) {
    const i = order[Math.floor((b * samples.length) / buckets)];
    const n = chosen.length / 3;
    if (n > 0 && comparePrefix(prefixes, i, chosen[n * 3 - 3], chosen[n * 3 - 2], chosen[n * 3 - 1]) === 0) continue;
    chosen.push(prefixes[i * 3], prefixes[i * 3 + 1], prefixes[i * 3 + 2]);
  }
  return Uint32Array.from(chosen);
}

export class KeyBuckets {
  readonly pool: Buffer;
  /** Per bucket: its blocks as [start, end) pairs of the pool, in the order they were filled. */
  readonly blocks: number[][];
  readonly counts: Uint32Array;
  /** placeKey() chooses the bucket by the first PREFIX_BYTES of a key. */
  readonly headBytes = PREFIX_BYTES;
  private readonly splitters: Uint32Array;
  /**
   * Per value t of a prefix's first 16 bits: the first boundary whose first
   * 16 bits are t or more. A key's bucket is then searched among the few
   * boundaries that share its first 16 bits, not among all of them.
   */
  private readonly firstAtOrAbove: Uint16Array;
  // Offsets in the pool; a bucket with no block yet has blockEnd 0.
  private readonly cursor: Uint32Array;
  private readonly blockStart: Uint32Array;
  private readonly blockEnd: Uint32Array;
  private poolUsed = 0;
  private lastBucket = 0;
  private placedBucket = 0;
  private closed = false;

  /**
   * @param splitters bucket boundaries (see splittersFromSamples)
   * @param poolBytes at least 17/16 of the key bytes plus KEY_HEAD_BYTES per key (blocks leave unused tails); pages never written are never backed by memory
   */
  constructor(splitters: Uint32Array, poolBytes: number) {
    this.splitters = splitters;
    const buckets = splitters.length / 3 + 1;
    // Filled a run of values at a time: a loop over all 65,537 would be compiled mid-run, for nothing.
    this.firstAtOrAbove = new Uint16Array(0x10001);
    let filled = 0;
    for (let i = 0; i < buckets - 1; i++) {
      // Values up to this boundary's first 16 bits not taken by an earlier boundary: this one is the first at or above them.
      const end = (splitters[i * 3] >>> 16) + 1;
      if (end > filled) this.firstAtOrAbove.fill(i, filled, end);
      filled = Math.max(filled, end);
    }
    this.firstAtOrAbove.fill(buckets - 1, filled);
    this.pool = Buffer.allocUnsafe(poolBytes + buckets * BLOCK_BYTES);
    this.blocks = Array.from({ length: buckets }, () => []);
    this.counts = new Uint32Array(buckets);
    this.cursor = new Uint32Array(buckets);
    this.blockStart = new Uint32Array(buckets);
    this.blockEnd = new Uint32Array(buckets);
  }

  get bucketCount(): number {
    return this.counts.length;
  }

  /** The bucket of the key source[start, end): how many boundaries are at or below its prefix. */
  bucketOf(source: Uint8Array, start: number, end: number): number {
    const splitters = this.splitters;
    const n = splitters.length / 3;
    if (n === 0) return 0;
    const w0 = prefixWord(source, start, end, 0);
    const w1 = end - start > 4 ? prefixWord(source, start, end, 1) : 0;
    const w2 = end - start > 8 ? prefixWord(source, start, end, 2) : 0;
    // Sorted and clustered lists send runs of keys to one bucket: try the last one first.
    const last = this.lastBucket;
    if ((last === 0 || comparePrefix(splitters, last - 1, w0, w1, w2) <= 0) && (last === n || comparePrefix(splitters, last, w0, w1, w2) > 0)) return last;
    const top = w0 >>> 16;
    let lo = this.firstAtOrAbove[top];
    let hi = this.firstAtOrAbove[top + 1];
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (comparePrefix(splitters, mid, w0, w1, w2) <= 0) lo = mid + 1;
      else hi = mid;
    }
    this.lastBucket = lo;
    return lo;
  }

  /** Stores the key source[start, end) with its flag and cdb hash. */
  add(source: Uint8Array, start: number, end: number, flag: number, hash: number): void {
    const bucket = this.bucketOf(source, start, end);
    const length = end - start;
    const need = KEY_HEAD_BYTES + length;
    let at: number;
    if (need > BIG_RECORD_BYTES) {
      // A block of its own, so that no block is left with a big unused tail.
      at = this.take(need);
      this.blocks[bucket].push(at, at + need);
    } else {
      at = this.cursor[bucket];
      if (at + need > this.blockEnd[bucket]) at = this.newBlock(bucket);
      this.cursor[bucket] = at + need;
    }
    this.writeHead(at, length, flag, hash);
    const pool = this.pool;
    at += KEY_HEAD_BYTES;
    for (let i = start; i < end; i++) pool[at++] = source[i];
    this.counts[bucket]++;
  }

  /**
   * For a caller that copies a key while it still reads it: where the key
   * bytes of a record go, in the bucket of the key whose first bytes (up to
   * PREFIX_BYTES, or all of a shorter key) are source[start, headEnd), with
   * room for SHORT_KEY_BYTES of them. Nothing is stored until commitKey().
   */
  placeKey(source: Uint8Array, start: number, headEnd: number): number {
    const bucket = (this.placedBucket = this.bucketOf(source, start, headEnd));
    const at = this.cursor[bucket];
    return (at + KEY_HEAD_BYTES + SHORT_KEY_BYTES > this.blockEnd[bucket] ? this.newBlock(bucket) : at) + KEY_HEAD_BYTES;
  }

  /** Stores the record whose `length` key bytes (at most SHORT_KEY_BYTES) were copied to where placeKey() said. */
  commitKey(length: number, flag: number, hash: number): void {
    const bucket = this.placedBucket;
    const at = this.cursor[bucket];
    this.writeHead(at, length, flag, hash);
    this.cursor[bucket] = at + KEY_HEAD_BYTES + length;
    this.counts[bucket]++;
  }

  /** The pool, where placeKey() places keys. */
  get target(): Buffer {
    return this.pool;
  }

  /** Nothing refers to the source once a key is stored. */
  private writeHead(at: number, length: number, flag: number, hash: number): void {
    const pool = this.pool;
    pool[at] = length & 255;
    pool[at + 1] = length >>> 8;
    pool[at + 2] = flag;
    pool[at + 3] = hash & 255;
    pool[at + 4] = (hash >>> 8) & 255;
    pool[at + 5] = (hash >>> 16) & 255;
    pool[at + 6] = hash >>> 24;
  }

  /** Ends the filling: every bucket's blocks are listed in `blocks`. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (let b = 0; b < this.counts.length; b++) if (this.blockEnd[b] > 0) this.blocks[b].push(this.blockStart[b], this.cursor[b]);
  }

  private newBlock(bucket: number): number {
    if (this.blockEnd[bucket] > 0) this.blocks[bucket].push(this.blockStart[bucket], this.cursor[bucket]);
    const start = this.take(BLOCK_BYTES);
    this.blockStart[bucket] = start;
    this.blockEnd[bucket] = start + BLOCK_BYTES;
    this.cursor[bucket] = start;
    return start;
  }

  private take(bytes: number): number {
    const start = this.poolUsed;
    if (start + bytes > this.pool.length) throw new Error(`key pool of ${this.pool.length} bytes is full (sized too small by the caller)`);
    this.poolUsed += bytes;
    return start;
  }
}

export const keyLengthAt = (pool: Uint8Array, record: number) => pool[record] | (pool[record + 1] << 8);
export const keyFlagAt = (pool: Uint8Array, record: number) => pool[record + 2];
export const keyHashAt = (pool: Uint8Array, record: number) => (pool[record + 3] | (pool[record + 4] << 8) | (pool[record + 5] << 16) | (pool[record + 6] << 24)) >>> 0;
