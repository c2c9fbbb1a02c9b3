// The boundaries of the buckets a validrcptto build spreads keys into, by
// their first 12 bytes, in byte order: every key of bucket b sorts before
// every key of bucket b + 1, and equal keys share a bucket. Each bucket is
// then small enough to sort and write from the CPU cache. Sorting a million
// keys where they lie, scattered over a 40 MB input, costs a cache miss per
// key and pass instead; in buckets the key bytes move once, in sequential
// streams. The kernel (assembly/validrcptto.ts) files the keys.

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
