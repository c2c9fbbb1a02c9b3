// PEM blocks for tests, armour built from its label so that no test file
// carries anything shaped like a committed private key.

export function pemBlock(label: string, body: string): string {
  return `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;
}

/** The first `label` block of a PEM text (e.g. openssl's output), armour included. */
export function extractPem(text: string, label: string): string {
  const match = new RegExp(`-----BEGIN ${label}-----[\\s\\S]+?-----END ${label}-----\\n`).exec(text);
  if (!match) throw new Error(`no ${label} block in the text`);
  return match[0];
}
