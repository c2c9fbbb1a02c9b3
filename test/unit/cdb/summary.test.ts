import { describe, expect, it } from "vitest";
import { buildAuthCdb } from "../../../lib/cdb/auth";
import { CdbReader } from "../../../lib/cdb/reader";
import { cdbCountLine, cdbRecordCount, summarizeCdb } from "../../../lib/cdb/summary";
import { buildTcpRules } from "../../../lib/cdb/tcprules";
import { buildValidRcptTo } from "../../../lib/cdb/validrcptto";

const SECRET = "stack-secret-for-tests-0123456789";

describe("cdb summaries", () => {
  it("counts addresses and reports added and removed keys against a previous build", () => {
    const before = buildValidRcptTo(["a@x.com", "b@x.com", "c@x.com"]);
    const after = buildValidRcptTo(["a@x.com", "c@x.com", "d@x.com", "e@x.com", "!f@x.com"]);
    const summary = summarizeCdb("validrcptto", after, before);
    expect(summary.line).toBe("validrcptto.cdb: 5 addresses (+3 -1)");
    expect(summary.added).toEqual(["d@x.com", "e@x.com", "f@x.com"]);
    expect(summary.removed).toEqual(["b@x.com"]);
    expect(summarizeCdb("validrcptto", after).line).toBe("validrcptto.cdb: 5 addresses (new)");
  });

  it("groups thousands and names a changed value (accept -> reject) with ~", () => {
    const many = Array.from({ length: 12408 }, (_, i) => `u${i}@x.com`);
    const before = buildValidRcptTo(many);
    const after = buildValidRcptTo([...many.slice(1), "!u0@x.com"]);
    expect(summarizeCdb("validrcptto", after, before).line).toBe("validrcptto.cdb: 12,408 addresses (+0 -0 ~1)");
  });

  it("auth.cdb: user names only, never hashes or passwords", () => {
    const before = buildAuthCdb([{ user: "a@x", password: "old password" }, { user: "b@x", password: "pw b" }], { saltSecret: SECRET });
    const after = buildAuthCdb([{ user: "a@x", password: "new password" }, { user: "c@x", password: "pw c" }], { saltSecret: SECRET });
    const summary = summarizeCdb("auth", after, before);
    expect(summary.line).toBe("auth.cdb: 2 users (+1 -1 ~1)");
    expect([summary.added, summary.removed, summary.changed]).toEqual([["c@x"], ["b@x"], ["a@x"]]);
    const everything = JSON.stringify(summary);
    expect(everything).not.toMatch(/\$6\$|password|pw /);
  });

  it("names non-ASCII addresses as text", () => {
    const summary = summarizeCdb("validrcptto", buildValidRcptTo(["jürgen@x.de", "j\u00fcrgen@y.de"]), buildValidRcptTo(["j\u00fcrgen@y.de"]));
    expect(summary.added).toEqual(["jürgen@x.de"]);
  });

  it("tcprules: counts stored entries (a range is one per address), custom file name", () => {
    const rules = buildTcpRules('1.2.3.1-3:deny\n127.:allow,RELAYCLIENT=""\n:allow\n');
    expect(summarizeCdb("tcprules", rules, undefined, "tcp.smtp.cdb").line).toBe("tcp.smtp.cdb: 5 rule entries (new)");
    const one = buildTcpRules(":allow\n");
    expect(summarizeCdb("tcprules", one, rules).line).toBe("tcp.smtp.cdb: 1 rule entry (+0 -4)");
  });

  it("counts records from the header alone, as many as a pass over the records finds", () => {
    const builds = [
      buildValidRcptTo(Array.from({ length: 3001 }, (_, i) => `u${i}@x.com`)),
      buildValidRcptTo(""),
      buildTcpRules('1.2.3.1-3:deny\n127.:allow,RELAYCLIENT=""\n:allow\n'),
      buildAuthCdb([{ user: "a@x", password: "pw a" }], { saltSecret: SECRET }),
    ];
    expect(builds.map(cdbRecordCount)).toEqual(builds.map((cdb) => [...new CdbReader(cdb).records()].length));
    expect(builds.map(cdbRecordCount)).toEqual([3001, 0, 5, 1]);
    expect(() => cdbRecordCount(Buffer.alloc(100))).toThrow(/shorter than the 2048-byte header/);
  });

  it("the count line is the summary's line without a comparison", () => {
    const cdb = buildValidRcptTo(["a@x.com"]);
    expect(cdbCountLine("validrcptto", cdbRecordCount(cdb))).toBe("validrcptto.cdb: 1 address");
    expect(`${cdbCountLine("validrcptto", 1)} (new)`).toBe(summarizeCdb("validrcptto", cdb).line);
    expect(cdbCountLine("tcprules", 1_234_567, "x.cdb")).toBe("x.cdb: 1,234,567 rule entries");
  });
});
