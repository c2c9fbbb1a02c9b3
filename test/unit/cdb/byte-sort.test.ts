import { describe, expect, it } from "vitest";
import { sortByteRanges, sortByteRangesUnlessSorted } from "../../../lib/cdb/byte-sort";

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296;
}

/** Packs keys into one buffer as the builders hold them. */
function pack(keys: Buffer[]) {
  const bytes = Buffer.concat(keys);
  const starts = new Uint32Array(keys.length);
  const lengths = new Uint16Array(keys.length);
  let at = 0;
  keys.forEach((key, i) => {
    starts[i] = at;
    lengths[i] = key.length;
    at += key.length;
  });
  return { bytes, starts, lengths, count: keys.length };
}

/** Keys in their current order, each as hex and its start offset (the start identifies the key). */
function unpack(ranges: ReturnType<typeof pack>): Array<[string, number]> {
  return Array.from({ length: ranges.count }, (_, i) => [ranges.bytes.subarray(ranges.starts[i], ranges.starts[i] + ranges.lengths[i]).toString("hex"), ranges.starts[i]]);
}

function expectSortedLikeMemcmp(keys: Buffer[]): void {
  const ranges = pack(keys);
  sortByteRanges(ranges);
  const original = unpack(pack(keys));
  const expected = [...keys].sort(Buffer.compare);
  const got = unpack(ranges);
  expect(got.map((g) => g[0])).toEqual(expected.map((e) => e.toString("hex")));
  // Starts and lengths move together: every (key, start) pair is one of the input's.
  expect([...got].sort((a, b) => a[1] - b[1])).toEqual(original);
}

describe("byte-order sort of key ranges", () => {
  it("random binary keys with zero bytes, shared prefixes, duplicates and empty keys", () => {
    const next = prng(5);
    const keys: Buffer[] = [];
    const prefixes = [Buffer.alloc(0), Buffer.from("ab"), Buffer.from([0, 0]), Buffer.from("abcdabcd")];
    for (let i = 0; i < 5000; i++) {
      const tail = Buffer.alloc(Math.floor(next() * 9));
      for (let k = 0; k < tail.length; k++) tail[k] = next() < 0.3 ? 0 : Math.floor(next() * 256);
      keys.push(Buffer.concat([prefixes[Math.floor(next() * prefixes.length)], tail]));
    }
    for (let i = 0; i < 300; i++) keys.push(keys[Math.floor(next() * keys.length)]);
    expectSortedLikeMemcmp(keys);
  });

  it("a group big enough for 16-bit digits", () => {
    const next = prng(6);
    const keys: Buffer[] = [];
    for (let i = 0; i < 70_000; i++) keys.push(Buffer.from(`user.${Math.floor(next() * 1e9).toString(36)}@h${Math.floor(next() * 50)}.example`));
    expectSortedLikeMemcmp(keys);
  });

  it("leaves sorted input as it is and sorts unsorted input", () => {
    const sorted = pack(["a", "ab", "b", "b", "c"].map((k) => Buffer.from(k)));
    const before = unpack(sorted);
    sortByteRangesUnlessSorted(sorted);
    expect(unpack(sorted)).toEqual(before);
    const unsorted = pack(["b", "a", "c"].map((k) => Buffer.from(k)));
    sortByteRangesUnlessSorted(unsorted);
    expect(unpack(unsorted).map((p) => Buffer.from(p[0], "hex").toString())).toEqual(["a", "b", "c"]);
  });
});
