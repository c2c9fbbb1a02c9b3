// The SSL key and certificate chain as Node's crypto reads them, read once
// per text. A program checks and plans each host's pair several times (the
// fleet's check, the mailhub's plan, the file's summary), and a fleet often
// gives every host the same pair; each key or certificate parse costs a few
// milliseconds, which a 50-host fleet paid a few hundred times per run.
import { createPrivateKey, X509Certificate, type KeyObject } from "node:crypto";
import { pemCertificates } from "./shared-files";

/** The last few pairs: a fleet has one pair per host at most. */
const KEEP = 256;

/** A key or chain that does not parse is kept as `undefined`: it fails the same way each time. */
const keys = new Map<string, KeyObject | undefined>();
const chains = new Map<string, Array<X509Certificate | undefined>>();
const matches = new Map<string, boolean>();

function remembered<K, V>(cache: Map<K, V>, key: K, read: () => V): V {
  if (cache.has(key)) return cache.get(key) as V;
  const value = read();
  cache.set(key, value);
  if (cache.size > KEEP) cache.delete(cache.keys().next().value!);
  return value;
}

/** The private key, or undefined when it cannot be read. */
export function readPrivateKey(pem: string): KeyObject | undefined {
  return remembered(keys, pem, () => {
    try {
      return createPrivateKey(pem);
    } catch {
      return undefined;
    }
  });
}

/** Each PEM certificate of the chain, in order; undefined for one that cannot be read. */
export function readCertificateChain(text: string): ReadonlyArray<X509Certificate | undefined> {
  return remembered(chains, text, () =>
    pemCertificates(text).map((pem) => {
      try {
        return new X509Certificate(pem);
      } catch {
        return undefined;
      }
    }),
  );
}

/** Whether the key belongs to the chain's first certificate (both readable). */
export function keyMatchesCertificate(keyPem: string, chainText: string): boolean {
  return remembered(matches, `${keyPem}\0${chainText}`, () => {
    const key = readPrivateKey(keyPem);
    const [first] = readCertificateChain(chainText);
    return key !== undefined && first !== undefined && first.checkPrivateKey(key);
  });
}
