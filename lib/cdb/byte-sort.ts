// Sorts byte strings held as (start, length) ranges of one buffer, in plain
// byte order (memcmp; on a common prefix the shorter key first). No per-key
// objects or strings: a million keys sort in a fraction of a second.
//
// MSD radix sort on 4-byte words: for a group of keys sharing `depth` leading
// bytes, read bytes depth..depth+3 of each key once into a sequential array,
// LSD radix-sort the group on that word, then go on with runs of equal words.
// The (start, length) arrays themselves are permuted, so the only random
// memory access per key and level is the read of its 4 bytes.

const SMALL_GROUP = 24;
const BIG_GROUP = 1 << 16;
let bigCounts: Uint32Array | undefined;

/** Working arrays of the sort (each at least `count` long); the caller may reuse them afterwards. */
export interface SortScratch {
  words: Uint32Array;
  spareWords: Uint32Array;
  spareStarts: Uint32Array;
  spareLengths: Uint16Array;
}

export function newSortScratch(count: number): SortScratch {
  return {
    words: new Uint32Array(count),
    spareWords: new Uint32Array(count),
    spareStarts: new Uint32Array(count),
    spareLengths: new Uint16Array(count),
  };
}

/** Keys as ranges of `bytes`, each at most 65,535 bytes long (which keeps the length arrays small). */
export interface ByteRanges {
  bytes: Uint8Array;
  starts: Uint32Array;
  lengths: Uint16Array;
  count: number;
}

/** Sorts the ranges in place (starts and lengths are permuted together). */
export function sortByteRanges(ranges: ByteRanges, scratch: SortScratch = newSortScratch(ranges.count)): void {
  const { bytes, starts, lengths } = ranges;
  const { words } = scratch;
  const bucketCounts = new Uint32Array(256);

  const stack: number[] = [0, ranges.count, 0];
  while (stack.length > 0) {
    const depth = stack.pop()!;
    const hi = stack.pop()!;
    const lo = stack.pop()!;
    if (hi - lo < SMALL_GROUP) {
      insertionSort(ranges, lo, hi, depth);
      continue;
    }
    // Keys that end inside this word get zero padding; they are told apart
    // from keys holding real zero bytes by their length below.
    for (let i = lo; i < hi; i++) {
      const remaining = lengths[i] - depth;
      const at = starts[i] + depth;
      let word: number;
      if (remaining >= 4) word = ((bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3]) >>> 0;
      else {
        word = 0;
        for (let k = 0; k < 4; k++) word = ((word << 8) | (k < remaining ? bytes[at + k] : 0)) >>> 0;
      }
      words[i] = word;
    }
    radixSortByWord(ranges, scratch, bucketCounts, lo, hi);

    // Runs of equal words: keys going on past this word continue 4 bytes deeper;
    // keys that ended are ordered by length (shorter first) and are then equal.
    let runStart = lo;
    while (runStart < hi) {
      const word = words[runStart];
      let runEnd = runStart + 1;
      while (runEnd < hi && words[runEnd] === word) runEnd++;
      if (runEnd - runStart > 1) {
        const longerStart = partitionByRemaining(ranges, scratch, runStart, runEnd, depth);
        if (runEnd - longerStart > 1) stack.push(longerStart, runEnd, depth + 4);
      }
      runStart = runEnd;
    }
  }
}

/**
 * Stable LSD radix sort of [lo, hi) by words: 16 bits at a time for big groups
 * (half the passes), 8 bits for the rest; passes where all words agree are
 * skipped. Passes alternate between the main and the spare arrays; the data
 * is copied back only when it ends in the spare ones.
 */
function radixSortByWord(ranges: ByteRanges, scratch: SortScratch, smallCounts: Uint32Array, lo: number, hi: number): void {
  const size = hi - lo;
  const digitBits = size >= BIG_GROUP ? 16 : 8;
  const mask = (1 << digitBits) - 1;
  const counts = digitBits === 16 ? (bigCounts ??= new Uint32Array(1 << 16)) : smallCounts;
  let fromWords = scratch.words;
  let fromStarts = ranges.starts;
  let fromLengths = ranges.lengths;
  let toWords = scratch.spareWords;
  let toStarts = scratch.spareStarts;
  let toLengths = scratch.spareLengths;
  for (let shift = 0; shift < 32; shift += digitBits) {
    counts.fill(0);
    for (let i = lo; i < hi; i++) counts[(fromWords[i] >>> shift) & mask]++;
    if (counts[(fromWords[lo] >>> shift) & mask] === size) continue;
    let total = lo;
    for (let b = 0; b <= mask; b++) {
      const c = counts[b];
      counts[b] = total;
      total += c;
    }
    for (let i = lo; i < hi; i++) {
      const w = fromWords[i];
      const at = counts[(w >>> shift) & mask]++;
      toWords[at] = w;
      toStarts[at] = fromStarts[i];
      toLengths[at] = fromLengths[i];
    }
    [fromWords, toWords] = [toWords, fromWords];
    [fromStarts, toStarts] = [toStarts, fromStarts];
    [fromLengths, toLengths] = [toLengths, fromLengths];
  }
  if (fromWords !== scratch.words) {
    scratch.words.set(fromWords.subarray(lo, hi), lo);
    ranges.starts.set(fromStarts.subarray(lo, hi), lo);
    ranges.lengths.set(fromLengths.subarray(lo, hi), lo);
  }
}

/** Within a run of equal words: keys ending inside the word first, by length (stable); returns where the longer keys start. */
function partitionByRemaining(ranges: ByteRanges, scratch: SortScratch, lo: number, hi: number, depth: number): number {
  const { starts, lengths } = ranges;
  const counts = [0, 0, 0, 0, 0];
  for (let i = lo; i < hi; i++) counts[Math.min(lengths[i] - depth, 4)]++;
  if (counts[4] === hi - lo) return lo;
  const next = [lo, 0, 0, 0, 0];
  for (let r = 1; r < 5; r++) next[r] = next[r - 1] + counts[r - 1];
  const longerStart = next[4];
  const { spareStarts, spareLengths } = scratch;
  for (let i = lo; i < hi; i++) {
    const at = next[Math.min(lengths[i] - depth, 4)]++;
    spareStarts[at] = starts[i];
    spareLengths[at] = lengths[i];
  }
  starts.set(spareStarts.subarray(lo, hi), lo);
  lengths.set(spareLengths.subarray(lo, hi), lo);
  return longerStart;
}

function compareFrom(bytes: Uint8Array, startA: number, lengthA: number, startB: number, lengthB: number, depth: number): number {
  const shorter = lengthA < lengthB ? lengthA : lengthB;
  for (let d = depth; d < shorter; d++) {
    const diff = bytes[startA + d] - bytes[startB + d];
    if (diff !== 0) return diff;
  }
  return lengthA - lengthB;
}

function insertionSort(ranges: ByteRanges, lo: number, hi: number, depth: number): void {
  const { bytes, starts, lengths } = ranges;
  for (let i = lo + 1; i < hi; i++) {
    const start = starts[i];
    const length = lengths[i];
    let j = i;
    while (j > lo && compareFrom(bytes, starts[j - 1], lengths[j - 1], start, length, depth) > 0) {
      starts[j] = starts[j - 1];
      lengths[j] = lengths[j - 1];
      j--;
    }
    starts[j] = start;
    lengths[j] = length;
  }
}

/** Byte order of keys i and j (negative, zero, positive). */
export function compareAt(ranges: ByteRanges, i: number, j: number): number {
  return compareFrom(ranges.bytes, ranges.starts[i], ranges.lengths[i], ranges.starts[j], ranges.lengths[j], 0);
}

/** Like sortByteRanges, but a list already in order (sorted dumps are common) costs one sequential pass. */
export function sortByteRangesUnlessSorted(ranges: ByteRanges, scratch?: SortScratch): void {
  for (let i = 1; i < ranges.count; i++) {
    if (compareAt(ranges, i - 1, i) > 0) {
      sortByteRanges(ranges, scratch);
      return;
    }
  }
}
