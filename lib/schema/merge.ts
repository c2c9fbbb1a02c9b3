// Field-by-field merging of service entries: fleet entry, then the host's
// entry of the same name, over the preset's fields.

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * `over` wins: nested objects merge key by key, arrays and scalars replace,
 * and `null` removes the field (e.g. `rblsmtpd: null` drops an inherited add-on).
 */
export function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    if (value === null) delete merged[key];
    else if (isPlainObject(value) && isPlainObject(merged[key])) merged[key] = deepMerge(merged[key] as Record<string, unknown>, value);
    else merged[key] = value;
  }
  return merged;
}

/** True when `path` leads to a value that `object` sets itself. */
export function setsPath(object: unknown, path: ReadonlyArray<PropertyKey>): boolean {
  let current = object;
  for (const key of path) {
    if (!isPlainObject(current) && !Array.isArray(current)) return false;
    if (!Object.prototype.hasOwnProperty.call(current, key)) return false;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return true;
}
