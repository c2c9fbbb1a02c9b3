// djb's cdb hash: h = ((h << 5) + h) ^ byte, starting at 5381, kept to 32 bits.

export const CDB_HASH_START = 5381;

export function cdbHash(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let h = CDB_HASH_START;
  for (let i = start; i < end; i++) h = (((h << 5) + h) ^ bytes[i]) >>> 0;
  return h;
}
