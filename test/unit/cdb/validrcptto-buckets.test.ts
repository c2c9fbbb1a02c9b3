// The validrcptto builder spreads keys into buckets by prefix and reads files
// in pieces. These tests force many buckets and tiny reads on small lists, so
// every bucket and read boundary meets duplicates, case, non-ASCII bytes, CRLF
// and lines longer than a read; the bytes must stay those of cdb -c fed the
// lower-cased, de-duplicated, sorted records.
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { buildValidRcptTo, ValidRcptToSourceError, writeValidRcptToFile, type ValidRcptToTuning } from "../../../lib/cdb/validrcptto";
import { prng } from "../../prng";
import { buildWithTinycdb, tempDir } from "./debian-tools";

const dir = tempDir("validrcptto-buckets");
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

// Output chunks of 520 bytes hold a single record of the longest key the
// parser copies as it reads (505 bytes): the previous key, which a key in
// order is compared with, is then nearly always in a chunk written out.
const TUNINGS: Array<[string, ValidRcptToTuning]> = [
  ["defaults", {}],
  ["a bucket per few keys", { bucketKeys: 1 }],
  ["some buckets, reads shorter than a line, small output chunks", { bucketKeys: 8, readBytes: 7, chunkBytes: 520 }],
  ["one bucket, reads of 64 bytes, small output chunks", { bucketKeys: 1e9, readBytes: 64, chunkBytes: 520 }],
];

/** ASCII-only lower-casing of raw bytes, as qmail-smtpd does. */
/** What `build` throws (undefined when it does not). */
function thrownBy(build: () => unknown): unknown {
  try {
    build();
  } catch (error) {
    return error;
  }
  return undefined;
}

function lowerAscii(bytes: Buffer): Buffer {
  return Buffer.from(bytes.map((b) => (b >= 0x41 && b <= 0x5a ? b | 0x20 : b)));
}

/** cdb -c fed the records the builder must write: keys lower-cased, once each, in byte order. */
function expectedCdb(entries: Array<{ key: Buffer; reject: boolean }>): Buffer {
  const unique = new Map<string, [Buffer, Buffer]>();
  for (const { key, reject } of entries) {
    const lower = lowerAscii(key);
    unique.set(lower.toString("latin1"), [lower, Buffer.from(reject ? "-" : "")]);
  }
  return buildWithTinycdb([...unique.values()].sort((a, b) => Buffer.compare(a[0], b[0])));
}

/** Both ways the builder is used: in memory and from a file. */
function buildBoth(source: Buffer, tuning: ValidRcptToTuning): [Buffer, Buffer] {
  const file = path.join(dir, "list.txt");
  const target = path.join(dir, "validrcptto.cdb");
  fs.writeFileSync(file, source);
  writeValidRcptToFile({ path: file }, target, tuning);
  return [buildValidRcptTo(Buffer.from(source), tuning), fs.readFileSync(target)];
}

/** A list with shared 12-byte prefixes, duplicates (in other case), rejects, non-ASCII bytes, CRLF, blanks and comments. */
function mixedList(count: number, seed: number): { source: Buffer; entries: Array<{ key: Buffer; reject: boolean }> } {
  const next = prng(seed);
  const pick = <T>(items: readonly T[]) => items[Math.floor(next() * items.length)];
  const locals = ["postmaster", "info", "a", "Anna.Schneider", "anna.schneiderin", "J\u00fcrgen", "\u00c9LODIE", "x-default", ""];
  const entries: Array<{ key: Buffer; reject: boolean }> = [];
  const lines: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const roll = next();
    if (roll < 0.03) {
      lines.push(Buffer.from(pick(["", "   ", "# a comment", "\t"])));
      continue;
    }
    let key: Buffer;
    if (roll < 0.15 && entries.length > 0) {
      // The same key again, in upper case: a duplicate once lower-cased.
      const earlier = pick(entries);
      key = Buffer.from(earlier.key.toString("latin1").toUpperCase(), "latin1");
      entries.push({ key, reject: earlier.reject });
      lines.push(Buffer.concat([Buffer.from(earlier.reject ? "!" : ""), key]));
      continue;
    }
    const local = Buffer.concat([Buffer.from(pick(locals), "utf8"), Buffer.from(next() < 0.5 ? `.${Math.floor(next() * 5000)}` : "")]);
    // Raw bytes that are not UTF-8 at all; keys are bytes, not text.
    const raw = next() < 0.05 ? Buffer.from([0xc4, 0xff, 0x80]) : Buffer.alloc(0);
    key = Buffer.concat([local, raw, Buffer.from(`@Mail-${Math.floor(next() * 40)}.Example.NET`)]);
    // Decided by the key itself, so a key drawn twice is never both accepted and rejected.
    const reject = lowerAscii(key).reduce((sum, b) => sum + b, 0) % 10 === 0;
    entries.push({ key, reject });
    lines.push(Buffer.concat([Buffer.from(next() < 0.1 ? "  " : ""), Buffer.from(reject ? "!" : ""), key]));
  }
  const endings = lines.map(() => Buffer.from(next() < 0.3 ? "\r\n" : "\n"));
  return { source: Buffer.concat(lines.flatMap((line, i) => [line, endings[i]])), entries };
}

describe("validrcptto.cdb through buckets and pieces", () => {
  const { source, entries } = mixedList(6000, 15);
  const expected = expectedCdb(entries);

  for (const [name, tuning] of TUNINGS) {
    it(`unsorted mixed list, ${name}: same bytes as cdb -c`, () => {
      for (const ours of buildBoth(source, tuning)) expect(ours.equals(expected)).toBe(true);
    });
  }

  it("sorted input and its reverse give the same bytes", () => {
    const lines = source.toString("latin1").split(/\r?\n/);
    const sorted = Buffer.from([...lines].sort().join("\n"), "latin1");
    const reversed = Buffer.from([...lines].sort().reverse().join("\r\n"), "latin1");
    for (const [, tuning] of TUNINGS) {
      for (const ours of [...buildBoth(sorted, tuning), ...buildBoth(reversed, tuning)]) expect(ours.equals(expected)).toBe(true);
    }
  });

  it("empty input, comments only, one key, one key without a line end", () => {
    const cases: Array<[string, Array<{ key: Buffer; reject: boolean }>]> = [
      ["", []],
      ["# nothing here\n\n  \n", []],
      ["One@Example.COM\n", [{ key: Buffer.from("one@example.com"), reject: false }]],
      ["!@x", [{ key: Buffer.from("@x"), reject: true }]],
    ];
    for (const [text, wanted] of cases) {
      const expectedBytes = expectedCdb(wanted);
      for (const [, tuning] of TUNINGS) for (const ours of buildBoth(Buffer.from(text), tuning)) expect(ours.equals(expectedBytes)).toBe(true);
    }
  });

  it("the same key accepted and rejected is refused with both lines, whatever the pieces", () => {
    const lines = Array.from({ length: 300 }, (_, i) => `user${i}@example.com`);
    lines.push("!USER17@Example.com");
    for (const [, tuning] of TUNINGS) {
      const file = path.join(dir, "conflict.txt");
      fs.writeFileSync(file, lines.join("\r\n"));
      expect(() => writeValidRcptToFile({ path: file }, path.join(dir, "conflict.cdb"), tuning)).toThrow(/line 301: "user17@example.com" is rejected here but accepted on line 18/);
      expect(() => buildValidRcptTo(lines, tuning)).toThrow(/entry 301: "user17@example.com" is rejected here but accepted on entry 18/);
      expect(fs.existsSync(path.join(dir, "conflict.cdb"))).toBe(false);
    }
  });

  it("conflicts the buckets find are named by reading the list again: every later line that says otherwise, by line", () => {
    const lines = Array.from({ length: 400 }, (_, i) => `user${(i * 7919) % 400}@example.com`);
    // user5 accepted first, then rejected twice and accepted again; user300 rejected first, then accepted.
    const user5 = lines.indexOf("user5@example.com");
    const user300 = lines.indexOf("user300@example.com");
    lines[user300] = "!user300@example.com";
    lines.push("!User5@example.com", "user300@EXAMPLE.com", "user5@example.com", "!USER5@example.com");
    const expected = [
      { line: 401, reason: `"user5@example.com" is rejected here but accepted on line ${user5 + 1}` },
      { line: 402, reason: `"user300@example.com" is accepted here but rejected on line ${user300 + 1}` },
      { line: 404, reason: `"user5@example.com" is rejected here but accepted on line ${user5 + 1}` },
    ];
    const file = path.join(dir, "conflicts.txt");
    fs.writeFileSync(file, lines.join("\n"));
    for (const [, tuning] of TUNINGS) {
      const error = thrownBy(() => writeValidRcptToFile({ path: file }, path.join(dir, "conflicts.cdb"), tuning));
      expect(error).toBeInstanceOf(ValidRcptToSourceError);
      expect((error as ValidRcptToSourceError).problems).toEqual(expected);
      expect(fs.existsSync(path.join(dir, "conflicts.cdb"))).toBe(false);
    }
  });

  it("at most 20 conflicts are named, in line order", () => {
    const lines = Array.from({ length: 100 }, (_, i) => `user${(i * 37) % 100}@example.com`);
    for (let i = 0; i < 30; i++) lines.push(`!user${(i * 13) % 100}@example.com`);
    for (const [, tuning] of TUNINGS) {
      const error = thrownBy(() => buildValidRcptTo(lines.join("\n"), tuning));
      const problems = (error as ValidRcptToSourceError).problems;
      expect(problems).toHaveLength(20);
      expect(problems.map((p) => p.line)).toEqual([...problems.map((p) => p.line)].sort((a, b) => a - b));
      for (const { line, reason } of problems) expect(reason).toBe(`"${lines[line - 1].slice(1)}" is rejected here but accepted on line ${lines.indexOf(lines[line - 1].slice(1)) + 1}`);
    }
  });

  it("bad lines are named by their line number across read boundaries", () => {
    const lines = Array.from({ length: 200 }, (_, i) => `user${i}@example.com`);
    lines[49] = "no at sign";
    lines[149] = "x".repeat(70) + "@";
    const file = path.join(dir, "bad.txt");
    fs.writeFileSync(file, lines.join("\n"));
    for (const [, tuning] of TUNINGS) {
      const error = thrownBy(() => writeValidRcptToFile({ path: file }, path.join(dir, "bad.cdb"), tuning));
      expect(error).toBeInstanceOf(ValidRcptToSourceError);
      expect((error as ValidRcptToSourceError).problems.map((p) => p.line)).toEqual([50, 150]);
    }
  });

  it("keys of every size: the shortest lines there are, and keys longer than a block's spare room", () => {
    const next = prng(4711);
    const entries: Array<{ key: Buffer; reject: boolean }> = [];
    // "@x" lines: the most keys a source of its size can hold.
    for (let i = 0; i < 3000; i++) entries.push({ key: Buffer.from(`@${String.fromCharCode(97 + (i % 26))}${i % 7 === 0 ? "" : (i % 5).toString()}`), reject: false });
    for (let i = 0; i < 60; i++) entries.push({ key: Buffer.from(`${"Long".repeat(1 + Math.floor(next() * 1500))}${i}@example.com`), reject: i % 3 === 0 });
    const order = entries.map((_, i) => i).sort(() => next() - 0.5);
    const source = Buffer.concat(order.flatMap((i) => [Buffer.from(entries[i].reject ? "!" : ""), entries[i].key, Buffer.from("\n")]));
    const expectedBytes = expectedCdb(entries);
    for (const [, tuning] of TUNINGS) for (const ours of buildBoth(source, tuning)) expect(ours.equals(expectedBytes)).toBe(true);
  });

  it("keys that are prefixes of each other, across boundaries shorter than 12 bytes (a bucket keeps what its boundaries do not share)", () => {
    const next = prng(2611);
    const entries: Array<{ key: Buffer; reject: boolean }> = [];
    for (let i = 0; i < 4000; i++) {
      // a@b, a@bb, a@bba, ... and x.y@z9: chains of keys each one byte longer than another.
      const tail = Array.from({ length: Math.floor(next() * 14) }, () => "ab9."[Math.floor(next() * 4)]).join("");
      const key = Buffer.from(`${["a@b", "a.b@c", "ab@", "x.y@z9"][i % 4]}${tail}`);
      if (key[key.length - 1] === 0x40) continue; // "ab@": an empty domain
      entries.push({ key, reject: key.length % 5 === 0 });
    }
    const order = entries.map((_, i) => i).sort(() => next() - 0.5);
    const source = Buffer.concat(order.flatMap((i) => [Buffer.from(entries[i].reject ? "!" : ""), entries[i].key, Buffer.from("\n")]));
    const expectedBytes = expectedCdb(entries);
    for (const [, tuning] of TUNINGS) for (const ours of buildBoth(source, tuning)) expect(ours.equals(expectedBytes)).toBe(true);
  });

  it("a list in order is written as it is read: repeats dropped, a conflict named, a late key out of order still sorted", () => {
    const keys = Array.from({ length: 5000 }, (_, i) => `user${String(i).padStart(5, "0")}@example.com`);
    const inOrder = [keys[0], keys[0].toUpperCase(), ...keys.slice(1)];
    const expectedBytes = expectedCdb(keys.map((k) => ({ key: Buffer.from(k), reject: false })));
    for (const [, tuning] of TUNINGS) {
      for (const ours of buildBoth(Buffer.from(inOrder.join("\n")), tuning)) expect(ours.equals(expectedBytes)).toBe(true);
      // The last key belongs at the front: found out of order after everything else was written.
      const late = [...keys.slice(1), keys[0]].join("\n");
      for (const ours of buildBoth(Buffer.from(late), tuning)) expect(ours.equals(expectedBytes)).toBe(true);
      expect(() => buildValidRcptTo([...keys.slice(0, 10), `!${keys[9]}`, ...keys.slice(10)], tuning)).toThrow(/entry 11: "user00009@example.com" is rejected here but accepted on entry 10/);
    }
    // No temporary file is left behind by an attempt that was given up.
    expect(fs.readdirSync(dir).filter((name) => name.endsWith(".tmp"))).toEqual([]);
  });
});
