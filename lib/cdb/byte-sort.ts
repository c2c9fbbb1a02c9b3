// Sorts byte strings held as (start, length) ranges of one buffer, in plain
// byte order (memcmp; on a common prefix the shorter key first). No per-key
// objects or strings: a million keys sort in a fraction of a second.
//
// MSD radix sort on 4-byte words: for a group of keys sharing `depth` leading
// bytes, read bytes depth..depth+3 of each key once into a sequential array
// (one random memory access per key instead of one per compared byte), LSD
// radix-sort the group on that word, then recurse into runs of equal words.

const SMALL_GROUP = 24;

/** Working arrays of the sort (each at least `count` long); the caller may reuse them afterwards. */
export interface SortScratch {
  words: Uint32Array;
  spareOrder: Uint32Array;
  spareWords: Uint32Array;
}

export function newSortScratch(count: number): SortScratch {
  return { words: new Uint32Array(count), spareOrder: new Uint32Array(count), spareWords: new Uint32Array(count) };
}

export function sortByteRanges(bytes: Uint8Array, starts: Uint32Array, lengths: ArrayLike<number>, count: number, scratch: SortScratch = newSortScratch(count)): Uint32Array {
  const order = new Uint32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  const { words, spareOrder, spareWords } = scratch;
  const bucketCounts = new Uint32Array(256);

  const stack: number[] = [0, count, 0];
  while (stack.length > 0) {
    const depth = stack.pop()!;
    const hi = stack.pop()!;
    const lo = stack.pop()!;
    if (hi - lo < SMALL_GROUP) {
      insertionSort(bytes, starts, lengths, order, lo, hi, depth);
      continue;
    }
    // Keys that end inside this word get a word with zero padding; they are told
    // apart from keys holding real zero bytes by their length below.
    for (let i = lo; i < hi; i++) {
      const index = order[i];
      const remaining = lengths[index] - depth;
      const at = starts[index] + depth;
      let word: number;
      if (remaining >= 4) word = ((bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3]) >>> 0;
      else {
        word = 0;
        for (let k = 0; k < 4; k++) word = ((word << 8) | (k < remaining ? bytes[at + k] : 0)) >>> 0;
      }
      words[i] = word;
    }
    radixSortByWord(order, words, spareOrder, spareWords, bucketCounts, lo, hi);

    // Runs of equal words: keys still going on past this word recurse 4 bytes deeper;
    // keys that ended are ordered by length (shorter first) and then equal.
    let runStart = lo;
    while (runStart < hi) {
      let runEnd = runStart + 1;
      while (runEnd < hi && words[runEnd] === words[runStart]) runEnd++;
      if (runEnd - runStart > 1) {
        const longerStart = partitionByRemaining(lengths, order, spareOrder, runStart, runEnd, depth);
        if (runEnd - longerStart > 1) stack.push(longerStart, runEnd, depth + 4);
      }
      runStart = runEnd;
    }
  }
  return order;
}

/** Stable LSD radix sort of order[lo..hi) by words[lo..hi), 8 bits at a time; passes where all words agree are skipped. */
function radixSortByWord(order: Uint32Array, words: Uint32Array, spareOrder: Uint32Array, spareWords: Uint32Array, counts: Uint32Array, lo: number, hi: number): void {
  const size = hi - lo;
  for (let shift = 0; shift < 32; shift += 8) {
    counts.fill(0);
    for (let i = lo; i < hi; i++) counts[(words[i] >>> shift) & 255]++;
    if (counts[(words[lo] >>> shift) & 255] === size) continue;
    let total = lo;
    for (let b = 0; b < 256; b++) {
      const c = counts[b];
      counts[b] = total;
      total += c;
    }
    for (let i = lo; i < hi; i++) {
      const w = words[i];
      const at = counts[(w >>> shift) & 255]++;
      spareWords[at] = w;
      spareOrder[at] = order[i];
    }
    words.set(spareWords.subarray(lo, hi), lo);
    order.set(spareOrder.subarray(lo, hi), lo);
  }
}

/** Within a run of equal words: keys ending inside the word first, by length (stable); returns where the longer keys start. */
function partitionByRemaining(lengths: ArrayLike<number>, order: Uint32Array, spareOrder: Uint32Array, lo: number, hi: number, depth: number): number {
  const counts = [0, 0, 0, 0, 0];
  for (let i = lo; i < hi; i++) counts[Math.min(lengths[order[i]] - depth, 4)]++;
  if (counts[4] === hi - lo) return lo;
  const next = [lo, 0, 0, 0, 0];
  for (let r = 1; r < 5; r++) next[r] = next[r - 1] + counts[r - 1];
  const longerStart = next[4];
  for (let i = lo; i < hi; i++) spareOrder[next[Math.min(lengths[order[i]] - depth, 4)]++] = order[i];
  order.set(spareOrder.subarray(lo, hi), lo);
  return longerStart;
}

function compareFrom(bytes: Uint8Array, starts: Uint32Array, lengths: ArrayLike<number>, a: number, b: number, depth: number): number {
  const lengthA = lengths[a];
  const lengthB = lengths[b];
  const shorter = lengthA < lengthB ? lengthA : lengthB;
  const startA = starts[a];
  const startB = starts[b];
  for (let d = depth; d < shorter; d++) {
    const diff = bytes[startA + d] - bytes[startB + d];
    if (diff !== 0) return diff;
  }
  return lengthA - lengthB;
}

function insertionSort(bytes: Uint8Array, starts: Uint32Array, lengths: ArrayLike<number>, order: Uint32Array, lo: number, hi: number, depth: number): void {
  for (let i = lo + 1; i < hi; i++) {
    const current = order[i];
    let j = i;
    while (j > lo && compareFrom(bytes, starts, lengths, order[j - 1], current, depth) > 0) {
      order[j] = order[j - 1];
      j--;
    }
    order[j] = current;
  }
}

/** Byte order of keys a and b (negative, zero, positive). */
export function compareByteRanges(bytes: Uint8Array, starts: Uint32Array, lengths: ArrayLike<number>, a: number, b: number): number {
  return compareFrom(bytes, starts, lengths, a, b, 0);
}

/** Like sortByteRanges, but a list that is already in order (a common case: sorted dumps) costs one sequential pass. */
export function sortByteRangesUnlessSorted(bytes: Uint8Array, starts: Uint32Array, lengths: ArrayLike<number>, count: number, scratch?: SortScratch): Uint32Array {
  for (let i = 1; i < count; i++) {
    if (compareFrom(bytes, starts, lengths, i - 1, i, 0) > 0) return sortByteRanges(bytes, starts, lengths, count, scratch);
  }
  const order = new Uint32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  return order;
}

export function sameBytes(bytes: Uint8Array, starts: Uint32Array, lengths: ArrayLike<number>, a: number, b: number): boolean {
  return lengths[a] === lengths[b] && compareFrom(bytes, starts, lengths, a, b, 0) === 0;
}
