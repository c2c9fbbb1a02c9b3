// POSIX shell quoting for generated scripts: plain words stay bare, anything
// else is single-quoted with embedded quotes written as '\''.

const BARE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

export function shellQuote(value: string): string {
  // The schema refuses these; a script must never be split by one regardless.
  if (/[\n\r\0]/.test(value)) throw new Error(`refusing to put a newline or NUL into a script: ${JSON.stringify(value)}`);
  if (BARE_WORD.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
