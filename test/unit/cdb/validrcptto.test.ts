import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { CdbReader } from "../../../lib/cdb/reader";
import { buildValidRcptTo, lookupRecipient, validRcptToCandidates, ValidRcptToSourceError, writeValidRcptToFile } from "../../../lib/cdb/validrcptto";
import { buildWithTinycdb, queryWithTinycdb, tempDir } from "./debian-tools";

const SOURCE = `# valid recipients
Alice@Example.COM
bob@example.com
  carol@example.com\t
!spam@example.com
lists-default@example.com
!lists-private-default@example.com
a-b-default@example.com
@catchall.example.org
!@closed.example.net
root@closed.example.net
bob@example.com
`;

/** Sorted (bytewise) unique records as the builder must write them. */
function expectedRecords(pairs: Array<[string, string]>): Array<[Buffer, Buffer]> {
  const unique = new Map(pairs);
  return [...unique.entries()]
    .map(([k, v]) => [Buffer.from(k), Buffer.from(v)] as [Buffer, Buffer])
    .sort((a, b) => Buffer.compare(a[0], b[0]));
}

describe("validrcptto.cdb", () => {
  it("is byte-identical to cdb -c fed the lower-cased, sorted, de-duplicated records", () => {
    const ours = buildValidRcptTo(SOURCE);
    const theirs = buildWithTinycdb(
      expectedRecords([
        ["alice@example.com", ""],
        ["bob@example.com", ""],
        ["carol@example.com", ""],
        ["spam@example.com", "-"],
        ["lists-default@example.com", ""],
        ["lists-private-default@example.com", "-"],
        ["a-b-default@example.com", ""],
        ["@catchall.example.org", ""],
        ["@closed.example.net", "-"],
        ["root@closed.example.net", ""],
      ]),
    );
    expect(ours.equals(theirs)).toBe(true);
  });

  it("gives the same bytes whatever the input order, from text or from an array", () => {
    const entries = SOURCE.split("\n").filter((l) => l.trim() !== "" && !l.startsWith("#"));
    const reversed = [...entries].reverse();
    const fromText = buildValidRcptTo(SOURCE);
    expect(buildValidRcptTo(reversed).equals(fromText)).toBe(true);
    expect(buildValidRcptTo(reversed.join("\r\n")).equals(fromText)).toBe(true);
    expect(buildValidRcptTo(Buffer.from(SOURCE)).equals(fromText)).toBe(true);
  });

  it("sorts bytewise like sort(1) with LC_ALL=C, on random keys sharing prefixes", () => {
    let seed = 99;
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296;
    const alphabet = "ab-.@z0~\u00e9";
    const keys = new Set<string>();
    while (keys.size < 3000) {
      let local = "";
      const length = Math.floor(next() * 12);
      for (let i = 0; i < length; i++) local += alphabet[Math.floor(next() * alphabet.length)].replace("@", "x");
      keys.add(`${local}@d${Math.floor(next() * 3)}.example`);
    }
    const list = [...keys];
    const ours = buildValidRcptTo(list);
    expect(ours.equals(buildWithTinycdb(expectedRecords(list.map((k) => [k, ""]))))).toBe(true);
  });

  it("lower-cases ASCII only, at every byte position and around the letter boundaries", () => {
    let seed = 7;
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296;
    // Neighbours of 'A'..'Z' and 'a'..'z' in ASCII, digits, and non-ASCII letters that must stay as they are.
    const alphabet = ["A", "Z", "a", "z", "[", "`", "{", "?", "~", "0", "-", ".", "_", "\u00c4", "\u00e9", "\u0130", "\u{1F600}"];
    const entries: string[] = [];
    for (let i = 0; i < 2000; i++) {
      let local = "";
      const length = 1 + Math.floor(next() * 13);
      for (let k = 0; k < length; k++) local += alphabet[Math.floor(next() * alphabet.length)];
      entries.push(`${local}${i}@Dom${"X".repeat(i % 5)}.Example`);
    }
    const asciiLower = (text: string) => text.replace(/[A-Z]/g, (c) => c.toLowerCase());
    const ours = buildValidRcptTo(entries);
    expect(ours.equals(buildWithTinycdb(expectedRecords(entries.map((e) => [asciiLower(e), ""]))))).toBe(true);
    // Same again with the text shifted by 1..3 bytes, so every byte meets every position in a 4-byte word.
    for (const padding of [" ", "  ", "   "]) expect(buildValidRcptTo(padding + entries.join("\n")).equals(ours)).toBe(true);
  });

  it("writes the same bytes to a file (temp + rename) as in memory", () => {
    const dir = tempDir("validrcptto");
    const target = path.join(dir, "validrcptto.cdb");
    const lines: string[] = [];
    for (let i = 0; i < 50_000; i++) lines.push(`User${(i * 7919) % 50_000}@Host${i % 97}.Example`);
    const count = writeValidRcptToFile(Buffer.from(lines.join("\n")), target);
    expect(count).toBe(50_000);
    expect(fs.readFileSync(target).equals(buildValidRcptTo(lines))).toBe(true);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("refuses bad lines with line numbers and reasons", () => {
    const source = "ok@example.com\nfoo bar@example.com\nnoatsign\n!\na@b@c\nx@\n\u0001x@y\n";
    let error: unknown;
    try {
      buildValidRcptTo(source);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ValidRcptToSourceError);
    const problems = (error as ValidRcptToSourceError).problems;
    expect(problems.map((p) => p.line)).toEqual([2, 3, 4, 5, 6, 7]);
    expect((error as Error).message).toContain("line 2: \"foo bar@example.com\" contains whitespace");
    expect((error as Error).message).toContain("line 3: \"noatsign\" has no '@'");
    expect((error as Error).message).toContain("line 6: \"x@\" has an empty domain");
    expect(() => buildValidRcptTo(["a@b", "c\nd@e"])).toThrow(/entry 2: .*line break/);
  });

  it("refuses an address that is both accepted and rejected", () => {
    expect(() => buildValidRcptTo("a@b.c\nx@y.z\n!A@B.C\n")).toThrow(/line 3: "a@b.c" is rejected here but accepted on line 1/);
  });
});

describe("recipient lookup in qmail-smtpd's order", () => {
  it("tries the exact address, then -default prefixes from the right, then @domain", () => {
    expect(validRcptToCandidates("A-B-C@D.example")).toEqual(["a-b-c@d.example", "a-b-default@d.example", "a-default@d.example", "@d.example"]);
    expect(validRcptToCandidates("-x@d")).toEqual(["-x@d", "-default@d", "@d"]);
    expect(validRcptToCandidates("plain@d")).toEqual(["plain@d", "@d"]);
  });

  it("agrees with cdb -q on a built file", () => {
    const dir = tempDir("lookup");
    const file = path.join(dir, "validrcptto.cdb");
    fs.writeFileSync(file, buildValidRcptTo(SOURCE));
    const reader = new CdbReader(fs.readFileSync(file));
    const viaTinycdb = (key: string) => queryWithTinycdb(file, key);
    const viaReader = (key: string) => reader.get(key);
    const cases: Array<[string, string, string | undefined]> = [
      ["ALICE@example.com", "accept", "alice@example.com"],
      ["spam@example.com", "reject", "spam@example.com"],
      ["lists-foo@example.com", "accept", "lists-default@example.com"],
      ["lists-private-x@example.com", "reject", "lists-private-default@example.com"],
      ["a-b-c-d@example.com", "accept", "a-b-default@example.com"],
      ["a-x@example.com", "unknown", undefined],
      ["nobody@example.com", "unknown", undefined],
      ["anyone@catchall.example.org", "accept", "@catchall.example.org"],
      ["root@closed.example.net", "accept", "root@closed.example.net"],
      ["other@closed.example.net", "reject", "@closed.example.net"],
    ];
    for (const [address, verdict, key] of cases) {
      const theirs = lookupRecipient(viaTinycdb, address);
      expect(lookupRecipient(viaReader, address)).toEqual(theirs);
      expect(theirs.verdict).toBe(verdict);
      expect(theirs.verdict === "unknown" ? undefined : theirs.matchedKey).toBe(key);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
