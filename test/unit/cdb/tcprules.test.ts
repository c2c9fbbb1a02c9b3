import { describe, expect, it } from "vitest";
import { CdbReader } from "../../../lib/cdb/reader";
import { buildTcpRules, renderTcpRules, TcpRulesSourceError, type TcpRule } from "../../../lib/cdb/tcprules";
import { compileWithTcprules } from "./debian-tools";

function expectSameAsTcprules(source: string | Buffer): Buffer {
  const theirs = compileWithTcprules(source);
  if (!theirs.ok) throw new Error(`tcprules refused the corpus: ${theirs.stderr}`);
  const ours = buildTcpRules(source);
  expect(ours.equals(theirs.cdb)).toBe(true);
  return ours;
}

const CORPUS: Record<string, string> = {
  "the reference examples": '127.:allow,RELAYCLIENT=""\n1.2.3.40-50:deny\n=.example.com:allow\n:allow\n',
  "a typical smtp file": [
    "# tcp.smtp",
    '127.0.0.1:allow,RELAYCLIENT="",RBLSMTPD=""',
    '10.0.:allow,RELAYCLIENT="",QMAILQUEUE="/var/qmail/bin/simscan"',
    '192.168.1.:allow,RELAYCLIENT="",JGREYLIST=""',
    '203.0.113.7:allow,RBLSMTPD="-Blocked: see https://example.com/why?ip=203.0.113.7"',
    "198.51.100.:deny",
    '=mx.partner.example:allow,RELAYCLIENT=""',
    '=.trusted.example:allow,JGREYLIST="",MAXCONNIP="20"',
    '=:allow,JGREYLIST="unknown reverse DNS"',
    "ident@192.0.2.1:allow",
    ":allow,MAXCONNIP=\"5\",DATABYTES=\"20000000\"",
    "",
  ].join("\n"),
  "ranges: several forms, capped at 255, empty, reversed, leading zeros, huge": [
    "1.2.3.250-300:allow",
    "1.2.3.-5:deny",
    "1.2.3.5-:allow",
    "1-3.2.3.:allow",
    "1.2.3.9-5:allow",
    "1.2.3.01-03:allow",
    "1.2-3.4:allow",
    "1.2.3.1-2.5:allow",
    '10.1-2.:deny,X="y"',
    "1.2.3.18446744073709551617-2:allow",
    "",
  ].join("\n"),
  "addresses that are not ranges despite a '-'": "x@1.2.3.1-2:allow\n=a-b.example:allow\n=.x-y.example:deny\n",
  "duplicates: every rule is stored, in order": '1.2.3.4:deny\n1.2.3.4:allow,A="1"\n1.2.3.:allow\n1.2.3.:deny\n1.2.3.4:allow\n',
  "variables: empty, other delimiters, commas and '=' inside values, empty name": [
    ':allow,A="",B="x",C=/a,b/,D=\'say "hi"\',E="k=v",F=""',
    'a:allow,="1"',
    'b:deny,X="1",Y="2"',
    "",
  ].join("\n"),
  "whitespace, comments and blank lines as tcprules treats them": "# c\n\n   \n1.2.3.4:allow \t \n #not_a_comment:allow\n:deny\t\n",
  "no final newline": "1.2.3.4:allow\n:deny",
  "empty source": "",
  "only comments": "# a\n# b\n",
};

describe("tcprules cdb matches Debian's tcprules byte for byte", () => {
  for (const [name, source] of Object.entries(CORPUS)) {
    it(name, () => {
      expectSameAsTcprules(source);
    });
  }

  it("binary bytes and UTF-8 in addresses and values", () => {
    expectSameAsTcprules(Buffer.concat([Buffer.from('=h\u00f6st.example:allow,N="w\u00e4rt"\n'), Buffer.from([0x61, 0xff, 0x3a, 0x61, 0x6c, 0x6c, 0x6f, 0x77, 0x0a])]));
  });

  it("encodes deny as D\\0 and variables as +NAME=value\\0, first match first", () => {
    const reader = new CdbReader(expectSameAsTcprules('1.2.3.4:deny,X="1"\n1.2.3.4:allow\n'));
    expect(reader.getAll("1.2.3.4").map((v) => v.toString("latin1"))).toEqual(["D\0+X=1\0", ""]);
  });
});

describe("tcprules source errors", () => {
  // Lines the real tcprules refuses too; ours names the line and the reason.
  const refusedByBoth: Array<[string, RegExp]> = [
    [":allow,A\n", /variable "A" has no '=value'/],
    [':allow,A="x\n', /opens with "\\"" but never closes/],
    [":allow,A=\n", /has '=' but no quoted value/],
    [":allow\r\n", /carriage return/],
    [":allowx\n", /expected ',NAME="value"' or the end/],
    [':allow ,X=""\n', /expected ',NAME="value"' or the end/],
    ["1.2.3.a-b:allow\n", /range "a-b" in "1.2.3.a-b" is not NUMBER-NUMBER/],
    [" #not-a-comment:allow\n", /range " #not-a-comment" in " #not-a-comment" is not NUMBER-NUMBER/],
    ['a:allow,X="1"Y\n', /expected ',NAME="value"'/],
    ["A:ALLOW\n", /expected 'allow' or 'deny'/],
    [":\n", /expected 'allow' or 'deny'/],
    ["1.2.3.+1-2:allow\n", /not NUMBER-NUMBER/],
  ];
  for (const [line, reason] of refusedByBoth) {
    it(`refuses ${JSON.stringify(line)} like tcprules`, () => {
      const theirs = compileWithTcprules(`# first\n${line}`);
      expect(theirs.ok).toBe(false);
      expect(() => buildTcpRules(`# first\n${line}`)).toThrow(new RegExp(`line 2: .*${reason.source}`));
    });
  }

  it("is stricter where tcprules silently drops or mangles a rule", () => {
    for (const line of ["1.2.3.4 allow\n", ':allow,A,B="x"\n']) {
      expect(compileWithTcprules(line).ok).toBe(true);
      expect(() => buildTcpRules(line)).toThrow(TcpRulesSourceError);
    }
    expect(() => buildTcpRules("1.2.3.4 allow\n")).toThrow(/line 1: no ':'/);
  });

  it("reports every bad line", () => {
    try {
      buildTcpRules("ok:allow\nbad\n:allowx\n");
      expect.unreachable();
    } catch (err) {
      expect((err as TcpRulesSourceError).problems.map((p) => p.line)).toEqual([2, 3]);
    }
  });
});

describe("structured rules from configuration", () => {
  const rules: TcpRule[] = [
    { address: "127.", action: "allow", env: { RELAYCLIENT: "" } },
    { address: "10.0.0.1-9", action: "deny" },
    { address: "=.example.com", action: "allow", env: { RBLSMTPD: '-say "no"', NOTE: "a,b=c" } },
    { address: "", action: "allow" },
  ];

  it("render to source that tcprules compiles to the same bytes", () => {
    const source = renderTcpRules(rules);
    expect(source.split("\n")[0]).toBe('127.:allow,RELAYCLIENT=""');
    expect(buildTcpRules(rules).equals(expectSameAsTcprules(source))).toBe(true);
  });

  it("refuse what cannot be written as a rule", () => {
    expect(() => renderTcpRules([{ address: "1:2", action: "allow" }])).toThrow(/rule 1 \("1:2"\): address must not contain ':'/);
    expect(() => renderTcpRules([{ address: "#x", action: "allow" }])).toThrow(/must not start with '#'/);
    expect(() => renderTcpRules([{ address: "x", action: "allow", env: { "A,B": "1" } }])).toThrow(/variable name "A,B"/);
    expect(() => renderTcpRules([{ address: "x", action: "allow", env: { A: "1\n2" } }])).toThrow(/value of A must not contain a line break/);
    expect(() => renderTcpRules([{ address: "x", action: "maybe" as "allow" }])).toThrow(/action must be "allow" or "deny"/);
  });
});
