// Objects that reject unknown fields with a "did you mean" hint: a typo in a
// config key must stop the run, not silently drop the option.
import { z } from "zod";

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

/** The closest known name, when it is close enough to be a likely typo. */
export function closestName(unknown: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const distance = editDistance(unknown, candidate);
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return bestDistance <= Math.max(2, Math.floor(unknown.length / 3)) ? best : undefined;
}

export function unknownFieldMessage(keys: readonly string[], known: readonly string[]): string {
  return keys
    .map((key) => {
      const suggestion = closestName(key, known);
      return suggestion
        ? `unknown field '${key}': did you mean '${suggestion}'?`
        : `unknown field '${key}': remove it (known fields: ${known.join(", ")})`;
    })
    .join("; ");
}

/** `z.strictObject` whose unknown-key error names the closest known field. */
export function strictGroup<Shape extends z.core.$ZodLooseShape>(shape: Shape) {
  const known = Object.keys(shape);
  return z.strictObject(shape, {
    error: (issue) => (issue.code === "unrecognized_keys" ? unknownFieldMessage(issue.keys, known) : undefined),
  });
}
