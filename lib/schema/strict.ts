// Objects that reject unknown fields with a "did you mean" hint: a typo in a
// config key must stop the run, not silently drop the option.
import { z } from "zod";
import { escapeInvisible } from "./issue-path";

export function editDistance(a: string, b: string): number {
  const previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = previous[0];
    previous[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = previous[j];
      const cost = a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1;
      previous[j] = Math.min(previous[j] + 1, previous[j - 1] + 1, diagonal + cost);
      diagonal = above;
    }
  }
  return previous[b.length];
}

/** The known name nearest to `unknown` (smallest edit distance, first on ties). */
export function nearestName(unknown: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const distance = editDistance(unknown, candidate);
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return best;
}

/** The closest known name, when it is close enough to be a likely typo. */
export function closestName(unknown: string, known: readonly string[]): string | undefined {
  const best = nearestName(unknown, known);
  if (best === undefined) return undefined;
  return editDistance(unknown, best) <= Math.max(2, Math.floor(unknown.length / 3)) ? best : undefined;
}

/** "a, b and c" */
export function listWords(words: readonly string[]): string {
  return words.length <= 1 ? words.join("") : `${words.slice(0, -1).join(", ")} and ${words[words.length - 1]}`;
}

/**
 * One sentence per unknown key: a likely typo gets "did you mean"; any other
 * key is named with the nearest valid field and the list of valid ones.
 */
export function unknownFieldMessage(keys: readonly string[], known: readonly string[], listKnown = known.length <= 12): string {
  return keys
    .map((key) => {
      const printable = printableKey(key);
      const suggestion = closestName(key, known);
      if (suggestion) return `unknown field '${printable}': did you mean '${suggestion}'?`;
      const nearest = nearestName(key, known);
      const valid = listKnown ? ` (valid fields: ${listWords(known)})` : "";
      return nearest
        ? `unknown field '${printable}': remove it, or use the nearest valid field, '${nearest}'${valid}`
        : `unknown field '${printable}': remove it`;
    })
    .join("; ");
}

/** A key as it can be shown on one line: control and invisible characters escaped, long keys cut. */
export function printableKey(key: string): string {
  const escaped = escapeInvisible(key);
  return escaped.length > 60 ? `${escaped.slice(0, 57)}...` : escaped;
}

/** `z.strictObject` whose unknown-key error names the closest known field. */
export function strictGroup<Shape extends z.core.$ZodLooseShape>(shape: Shape) {
  const known = Object.keys(shape);
  return z.strictObject(shape, {
    error: (issue) => (issue.code === "unrecognized_keys" ? unknownFieldMessage(issue.keys, known) : undefined),
  });
}
