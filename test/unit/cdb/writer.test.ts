import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { CdbReader } from "../../../lib/cdb/reader";
import { buildCdb, CdbBufferWriter, CdbFileWriter, CdbTooLargeError } from "../../../lib/cdb/writer";
import { buildWithCdbmake, buildWithTinycdb, queryWithTinycdb, tempDir } from "./debian-tools";
import { prng } from "../../prng";

type Records = Array<[Buffer, Buffer]>;


function randomBytes(next: () => number, maxLength: number): Buffer {
  const length = Math.floor(next() * (maxLength + 1));
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) bytes[i] = Math.floor(next() * 256);
  return bytes;
}

function expectSameAsDebianTools(records: Records): Buffer {
  const ours = buildCdb(records);
  expect(ours.equals(buildWithCdbmake(records))).toBe(true);
  expect(ours.equals(buildWithTinycdb(records))).toBe(true);
  return ours;
}

describe("cdb writer matches cdbmake and cdb -c byte for byte", () => {
  it("empty database", () => {
    const ours = expectSameAsDebianTools([]);
    expect(ours.length).toBe(2048);
  });

  it("empty key and empty value", () => {
    expectSameAsDebianTools([[Buffer.alloc(0), Buffer.alloc(0)]]);
    expectSameAsDebianTools([[Buffer.alloc(0), Buffer.from("v")], [Buffer.from("k"), Buffer.alloc(0)]]);
  });

  it("duplicate keys are all kept, in order", () => {
    const records: Records = [
      [Buffer.from("a"), Buffer.from("1")],
      [Buffer.from("b"), Buffer.from("2")],
      [Buffer.from("a"), Buffer.from("3")],
      [Buffer.from("a"), Buffer.from("4")],
    ];
    const ours = expectSameAsDebianTools(records);
    const reader = new CdbReader(ours);
    expect(reader.getAll("a").map(String)).toEqual(["1", "3", "4"]);
    expect(reader.get("a")?.toString()).toBe("1");
  });

  it("random binary records, several seeds", () => {
    for (const seed of [1, 2, 3, 42]) {
      const next = prng(seed);
      const records: Records = [];
      const count = 200 + Math.floor(next() * 2000);
      for (let i = 0; i < count; i++) records.push([randomBytes(next, 40), randomBytes(next, 60)]);
      // Some repeated keys to exercise collisions of equal hashes.
      for (let i = 0; i < 50; i++) records.push([records[Math.floor(next() * count)][0], randomBytes(next, 5)]);
      expectSameAsDebianTools(records);
    }
  });

  it("many records landing in few buckets (long probe chains)", () => {
    const records: Records = [];
    for (let i = 0; i < 3000; i++) records.push([Buffer.from(`user${i}@example.com`), Buffer.alloc(0)]);
    expectSameAsDebianTools(records);
  });

  it("large values around 1 MB, larger than the writer's flush buffer", () => {
    const next = prng(7);
    const oneMegabyte = Buffer.alloc(1 << 20);
    for (let i = 0; i < oneMegabyte.length; i++) oneMegabyte[i] = Math.floor(next() * 256);
    const records: Records = [
      [Buffer.from("small"), Buffer.from("x")],
      [Buffer.from("big"), oneMegabyte],
      [oneMegabyte.subarray(0, 300_000), Buffer.from("big key")],
      [Buffer.from("after"), Buffer.from("y")],
    ];
    const ours = expectSameAsDebianTools(records);
    expect(new CdbReader(ours).get("big")?.equals(oneMegabyte)).toBe(true);
  });

  it("string keys are written as UTF-8", () => {
    const ours = new CdbBufferWriter().add("grüße", "wert").toBuffer();
    expect(ours.equals(buildWithTinycdb([[Buffer.from("grüße"), Buffer.from("wert")]]))).toBe(true);
  });
});

describe("cdb file writer", () => {
  it("writes through a temporary file and renames it into place", () => {
    const dir = tempDir("writer");
    const target = path.join(dir, "db.cdb");
    fs.writeFileSync(target, "old");
    const writer = new CdbFileWriter(target);
    writer.add("k", "v");
    expect(fs.readFileSync(target, "utf8")).toBe("old");
    writer.commit();
    expect(fs.readFileSync(target).equals(buildCdb([["k", "v"]]))).toBe(true);
    expect(fs.readdirSync(dir)).toEqual(["db.cdb"]);
    expect(queryWithTinycdb(target, "k")?.toString()).toBe("v");
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("gives the same bytes as the in-memory writer across many flushes", () => {
    const dir = tempDir("writer");
    const target = path.join(dir, "db.cdb");
    const writer = new CdbFileWriter(target);
    const memory = new CdbBufferWriter();
    for (let i = 0; i < 60_000; i++) {
      writer.add(`key-${i}`, `value-${i * 7}`);
      memory.add(`key-${i}`, `value-${i * 7}`);
    }
    writer.commit();
    expect(fs.readFileSync(target).equals(memory.toBuffer())).toBe(true);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("a file of tens of MB, synced early in the background: same bytes, and no descriptor left open once the syncs are done", async () => {
    const dir = tempDir("writer");
    const openDescriptors = () => fs.readdirSync("/proc/self/fd").length;
    const before = openDescriptors();
    const value = Buffer.alloc(64 << 10, 0x61);
    const records: Array<[string, Buffer]> = Array.from({ length: 320 }, (_, i) => [`key-${i}`, value]);
    const committed = new CdbFileWriter(path.join(dir, "db.cdb"));
    const aborted = new CdbFileWriter(path.join(dir, "dropped.cdb"));
    for (const [key, data] of records) {
      committed.add(key, data);
      aborted.add(key, data);
    }
    committed.commit();
    aborted.abort();
    expect(fs.readFileSync(path.join(dir, "db.cdb")).equals(buildCdb(records))).toBe(true);
    expect(fs.readdirSync(dir)).toEqual(["db.cdb"]);
    // The early syncs end on the event loop; their descriptor is closed after the last one.
    for (let waited = 0; openDescriptors() !== before && waited < 5000; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(openDescriptors()).toBe(before);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("refuses to pass the size limit, leaving no temporary file and the old target", () => {
    const dir = tempDir("writer");
    const target = path.join(dir, "db.cdb");
    fs.writeFileSync(target, "old");
    const writer = new CdbFileWriter(target, { limitBytes: 4096 });
    writer.add("a", Buffer.alloc(1000));
    expect(() => writer.add("b", Buffer.alloc(1100))).toThrow(CdbTooLargeError);
    expect(() => new CdbBufferWriter({ limitBytes: 4096 }).add("b", Buffer.alloc(3000))).toThrow(/4 GiB - 1\) at record 1/);
    expect(fs.readdirSync(dir)).toEqual(["db.cdb"]);
    expect(fs.readFileSync(target, "utf8")).toBe("old");
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe("cdb reader", () => {
  it("finds what cdb -q finds and iterates records in order", () => {
    const next = prng(11);
    const records: Records = [];
    for (let i = 0; i < 500; i++) records.push([Buffer.from(`k${Math.floor(next() * 300)}`), randomBytes(next, 8)]);
    const dir = tempDir("reader");
    const file = path.join(dir, "db.cdb");
    const bytes = buildCdb(records);
    fs.writeFileSync(file, bytes);
    const reader = new CdbReader(bytes);
    for (let i = 0; i < 320; i += 7) {
      const key = `k${i}`;
      const theirs = queryWithTinycdb(file, key);
      const ours = reader.get(key);
      expect(ours === undefined ? undefined : Buffer.from(ours)).toEqual(theirs);
    }
    expect([...reader.records()].map((r) => [Buffer.from(r.key), Buffer.from(r.value)])).toEqual(records);
    expect(reader.recordCount).toBe(records.length);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
