// SHA-512 crypt (`$6$`), as specified by Ulrich Drepper ("Unix crypt using
// SHA-256 and SHA-512") and implemented by glibc, libxcrypt and
// `openssl passwd -6`. node:crypto supplies SHA-512; the rest is the spec.
import { createHash } from "node:crypto";

export const CRYPT_ALPHABET = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
export const DEFAULT_ROUNDS = 5000;
export const MIN_ROUNDS = 1000;
export const MAX_ROUNDS = 999_999_999;
const MAX_SALT_LENGTH = 16;

function sha512(...parts: Buffer[]): Buffer {
  const hash = createHash("sha512");
  for (const part of parts) hash.update(part);
  return hash.digest();
}

/** `length` bytes of `block` repeated. */
function repeatTo(block: Buffer, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let at = 0; at < length; at += block.length) block.copy(out, at, 0, Math.min(block.length, length - at));
  return out;
}

// Output byte order of the final digest, three bytes to four characters.
const ENCODING_ORDER = [
  [0, 21, 42], [22, 43, 1], [44, 2, 23], [3, 24, 45], [25, 46, 4], [47, 5, 26], [6, 27, 48],
  [28, 49, 7], [50, 8, 29], [9, 30, 51], [31, 52, 10], [53, 11, 32], [12, 33, 54], [34, 55, 13],
  [56, 14, 35], [15, 36, 57], [37, 58, 16], [59, 17, 38], [18, 39, 60], [40, 61, 19], [62, 20, 41],
];

function encode(digest: Buffer): string {
  let out = "";
  const put = (w: number, n: number) => {
    for (let i = 0; i < n; i++, w >>>= 6) out += CRYPT_ALPHABET[w & 63];
  };
  for (const [a, b, c] of ENCODING_ORDER) put((digest[a] << 16) | (digest[b] << 8) | digest[c], 4);
  put(digest[63], 2);
  return out;
}

export interface Sha512CryptOptions {
  /** Rounds; clamped to 1000..999999999 as glibc does. Omitted: 5000 and no `rounds=` in the output. */
  rounds?: number;
}

/**
 * The `$6$` hash of `password` with `salt` (at most 16 characters are used,
 * as in glibc; a salt must not contain `$`).
 */
export function sha512Crypt(password: string | Buffer, salt: string, options: Sha512CryptOptions = {}): string {
  if (salt.includes("$")) throw new Error("sha512-crypt: the salt must not contain '$'");
  const key = typeof password === "string" ? Buffer.from(password, "utf8") : password;
  const saltText = salt.slice(0, MAX_SALT_LENGTH);
  const saltBytes = Buffer.from(saltText, "utf8");
  const customRounds = options.rounds !== undefined;
  const rounds = customRounds ? Math.min(MAX_ROUNDS, Math.max(MIN_ROUNDS, Math.floor(options.rounds!))) : DEFAULT_ROUNDS;

  const alternate = sha512(key, saltBytes, key);
  const a = createHash("sha512");
  a.update(key);
  a.update(saltBytes);
  let remaining = key.length;
  for (; remaining > 64; remaining -= 64) a.update(alternate);
  a.update(alternate.subarray(0, remaining));
  for (let bits = key.length; bits > 0; bits >>>= 1) a.update(bits & 1 ? alternate : key);
  let digest = a.digest();

  const keyRepeatDigest = sha512(...Array<Buffer>(key.length).fill(key));
  const p = repeatTo(keyRepeatDigest, key.length);
  const saltRepeatDigest = sha512(...Array<Buffer>(16 + digest[0]).fill(saltBytes));
  const s = repeatTo(saltRepeatDigest, saltBytes.length);

  for (let round = 0; round < rounds; round++) {
    const c = createHash("sha512");
    c.update(round & 1 ? p : digest);
    if (round % 3 !== 0) c.update(s);
    if (round % 7 !== 0) c.update(p);
    c.update(round & 1 ? digest : p);
    digest = c.digest();
  }

  const roundsPart = customRounds ? `rounds=${rounds}$` : "";
  return `$6$${roundsPart}${saltText}$${encode(digest)}`;
}
