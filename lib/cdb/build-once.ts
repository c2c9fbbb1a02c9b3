// A program plans each mailhub on its own: the Fleet checks the whole config,
// then every Mailhub and every part checks and plans its host. The hosts of a
// fleet share one address list and one set of logins, so without this the
// same validrcptto.cdb would be built several times per host, and every
// password hashed again for each. Builds are pure
// functions of their input bytes: one build per distinct input is enough.
import { createHash } from "node:crypto";

/** The last few builds: a fleet rarely has more than one list, and each may be tens of MB. */
const KEEP = 4;
const builds = new Map<string, Buffer>();

/**
 * The bytes `build` makes from `input`, built once per process for the same
 * kind and input. A build that throws is not kept (its error is thrown again
 * by the next call, with the same message).
 */
export function buildOnce(kind: string, input: Buffer | string, build: () => Buffer): Buffer {
  const key = `${kind}\0${createHash("sha256").update(input).digest("hex")}`;
  const kept = builds.get(key);
  if (kept) {
    // Most recently used last, so the oldest is the one dropped.
    builds.delete(key);
    builds.set(key, kept);
    return kept;
  }
  const bytes = build();
  builds.set(key, bytes);
  if (builds.size > KEEP) builds.delete(builds.keys().next().value!);
  return bytes;
}
