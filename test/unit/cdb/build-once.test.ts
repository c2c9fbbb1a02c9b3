import { describe, expect, it } from "vitest";
import { buildOnce } from "../../../lib/cdb/build-once";

describe("buildOnce", () => {
  it("builds the same kind and input once, and again for other input or another kind", () => {
    let builds = 0;
    const build = (text: string) => () => (builds++, Buffer.from(text.toUpperCase()));
    const first = buildOnce("test-a", "one\n", build("one\n"));
    expect(buildOnce("test-a", Buffer.from("one\n"), build("one\n"))).toBe(first);
    expect(builds).toBe(1);
    buildOnce("test-a", "two\n", build("two\n"));
    buildOnce("test-b", "one\n", build("one\n"));
    expect(builds).toBe(3);
  });

  it("keeps no failed build: the error comes again", () => {
    let calls = 0;
    const failing = () => {
      calls++;
      throw new Error("line 1: bad entry");
    };
    expect(() => buildOnce("test-fail", "x", failing)).toThrow("line 1: bad entry");
    expect(() => buildOnce("test-fail", "x", failing)).toThrow("line 1: bad entry");
    expect(calls).toBe(2);
  });

  it("keeps only the most recent few builds", () => {
    let builds = 0;
    const build = () => (builds++, Buffer.alloc(1));
    for (const input of ["a", "b", "c", "d", "e"]) buildOnce("test-lru", input, build);
    expect(builds).toBe(5);
    buildOnce("test-lru", "e", build); // kept
    expect(builds).toBe(5);
    buildOnce("test-lru", "a", build); // dropped as the oldest
    expect(builds).toBe(6);
  });
});

describe("one validrcptto build for the check and the plan", () => {
  // The config check builds the address list entry by entry, the plan builds
  // the same entries as lines; buildOnce hands one's bytes to the other.
  it("gives the same bytes for entries and for the same entries as lines", async () => {
    const { buildValidRcptTo } = await import("../../../lib/cdb/validrcptto");
    const entries = ["User@Example.COM", "  spaced@example.com  ", "", "# a comment", "list-default@example.com", "@example.net", "!no@example.com", "user@example.com", "ünï@example.org"];
    expect(buildValidRcptTo(`${entries.join("\n")}\n`).equals(buildValidRcptTo(entries))).toBe(true);
  });
});
