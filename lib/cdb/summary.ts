// One-line summaries of a cdb for previews and drift reports: record count and,
// against a previous build, keys added, removed and changed. Only keys are
// ever named (user names for auth.cdb), never values (hashes).
import { CdbFormatError, CdbReader } from "./reader";
import { CDB_HEADER_BYTES } from "./writer";

export type CdbKind = "validrcptto" | "auth" | "tcprules";

const NOUNS: Record<CdbKind, [string, string]> = {
  validrcptto: ["address", "addresses"],
  auth: ["user", "users"],
  tcprules: ["rule entry", "rule entries"],
};

export interface CdbSummary {
  line: string;
  records: number;
  /** Keys (latin1-decoded bytes for tcprules, UTF-8 otherwise) new since the previous build. */
  added: string[];
  removed: string[];
  /** Keys whose first value changed (a new password hash, other variables). */
  changed: string[];
}

/** First value per key; keys as latin1 strings, so distinct byte strings never collapse into one. */
function firstValues(cdb: Buffer): { records: number; values: Map<string, Buffer> } {
  const values = new Map<string, Buffer>();
  let records = 0;
  for (const { key, value } of new CdbReader(cdb).records()) {
    records++;
    const k = key.toString("latin1");
    if (!values.has(k)) values.set(k, value);
  }
  return { records, values };
}

/** 12,408: thousands separated by commas, without Intl (whose first use costs tens of milliseconds). */
const count = (n: number) => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");

const defaultFileName = (kind: CdbKind) => `${kind === "tcprules" ? "tcp.smtp" : kind}.cdb`;

/**
 * Number of records, read from the header alone: every hash table has two
 * slots per record, as cdbmake, tinycdb and our writer all build them. This
 * is what lets a million-address summary cost nothing beyond the build.
 */
export function cdbRecordCount(cdb: Buffer): number {
  if (cdb.length < CDB_HEADER_BYTES) throw new CdbFormatError(`${cdb.length} bytes, shorter than the 2048-byte header`);
  let slots = 0;
  for (let at = 4; at < CDB_HEADER_BYTES; at += 8) slots += cdb.readUInt32LE(at);
  return slots / 2;
}

/** `validrcptto.cdb: 1,000,000 addresses`: the count line without a comparison. */
export function cdbCountLine(kind: CdbKind, records: number, fileName = defaultFileName(kind)): string {
  const [one, many] = NOUNS[kind];
  return `${fileName}: ${count(records)} ${records === 1 ? one : many}`;
}

export function summarizeCdb(kind: CdbKind, current: Buffer, previous?: Buffer, fileName = defaultFileName(kind)): CdbSummary {
  // Names are shown as UTF-8 text, except tcprules keys, which are raw bytes.
  const display = (key: string) => (kind === "tcprules" ? key : Buffer.from(key, "latin1").toString("utf8"));
  const now = firstValues(current);
  const head = cdbCountLine(kind, now.records, fileName);
  if (previous === undefined) return { line: `${head} (new)`, records: now.records, added: [...now.values.keys()].map(display), removed: [], changed: [] };

  const before = firstValues(previous);
  const added: string[] = [];
  const changed: string[] = [];
  for (const [key, value] of now.values) {
    const old = before.values.get(key);
    if (old === undefined) added.push(key);
    else if (!old.equals(value)) changed.push(key);
  }
  const removed = [...before.values.keys()].filter((key) => !now.values.has(key));
  const changes = `+${count(added.length)} -${count(removed.length)}${changed.length > 0 ? ` ~${count(changed.length)}` : ""}`;
  return { line: `${head} (${changes})`, records: now.records, added: added.map(display), removed: removed.map(display), changed: changed.map(display) };
}
