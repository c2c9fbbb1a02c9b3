// Config paths as users read them: hosts[1].services[0].port.

export type PathKey = string | number;

export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let text = "";
  for (const key of path) {
    if (typeof key === "number") text += `[${key}]`;
    else text += text === "" ? escapeInvisible(String(key)) : `.${escapeInvisible(String(key))}`;
  }
  return text;
}

/** Control characters and characters that show as nothing or as a plain space (no-break, zero-width, BOM), as \uXXXX. */
export function escapeInvisible(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u00a0\u00ad\u061c\u1680\u2000-\u200f\u2028-\u202f\u205f-\u206f\u3000\ufeff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
