// djb's cdb hash: h = ((h << 5) + h) ^ byte, starting at 5381, kept to 32 bits.

export const CDB_HASH_START = 5381;

export function cdbHash(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let h = CDB_HASH_START;
  // (h << 5) + h is h * 33; Math.imul keeps it in int32 arithmetic, which V8 runs fastest.
  for (let i = start; i < end; i++) h = Math.imul(h, 33) ^ bytes[i];
  return h >>> 0;
}
