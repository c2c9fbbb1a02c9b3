// Deterministic validrcptto lists for the benchmarks: the same addresses every run.
import { prng } from "../../test/prng";

const FIRST = ["anna", "bernd", "carla", "dieter", "eva", "frank", "gabi", "hans", "ines", "jan", "kim", "lena", "max", "nina", "olaf", "paula"];
const LAST = ["mueller", "schmidt", "schneider", "fischer", "weber", "meyer", "wagner", "becker", "schulz", "hoffmann"];

/** `count` unique ~35-byte addresses (as bench/cdb-validrcptto.ts makes them), one a line; the same every run. */
export function addressList(count: number): string {
  const next = prng(20261126);
  const lines: string[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const first = FIRST[Math.floor(next() * FIRST.length)];
    const last = LAST[Math.floor(next() * LAST.length)];
    lines[i] = `${first}.${last}.${i.toString(36)}@mail-${Math.floor(next() * 400)}.example.net\n`;
  }
  return lines.join("");
}

/** The n-th address a one-address up adds; not one addressList makes. */
export const addedAddress = (n: number) => `added.${n}@bench.example.org\n`;
