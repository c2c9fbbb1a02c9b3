// Pulumi's property values as the provider receives them over gRPC: plain
// JSON, except that secrets come wrapped in an object carrying the secret
// signature, and values not known yet (in a preview) as a sentinel string.
export const SECRET_SIGNATURE = "1b47061264138c4ac30d75fd1eb44270";
const SIGNATURE_KEY = "4dabf18193072939515e22adb298388d";
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export function secret<T>(value: T): unknown {
  return { [SIGNATURE_KEY]: SECRET_SIGNATURE, value };
}

export function isSecret(value: unknown): value is { value: unknown } {
  return typeof value === "object" && value !== null && (value as Record<string, unknown>)[SIGNATURE_KEY] === SECRET_SIGNATURE;
}

/** The value with every secret wrapper taken off, for the provider's own use. */
export function reveal<T = unknown>(value: unknown): T {
  if (isSecret(value)) return reveal(value.value);
  if (Array.isArray(value)) return value.map((item) => reveal(item)) as T;
  if (typeof value === "object" && value !== null)
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, reveal(item)])) as T;
  return value as T;
}

/** True when any part of the value is not known yet. */
export function hasUnknowns(value: unknown): boolean {
  if (value === UNKNOWN) return true;
  if (Array.isArray(value)) return value.some(hasUnknowns);
  if (typeof value === "object" && value !== null) return Object.values(value).some(hasUnknowns);
  return false;
}

/** Pulumi's wire format has no `undefined`: a property without a value is left out. */
export function withoutUndefined<T extends object>(props: T): T {
  return Object.fromEntries(Object.entries(props).filter(([, value]) => value !== undefined)) as T;
}
