// cdb dump: build → dump → build gives the same bytes with the project's
// builders (and for tcprules with Debian's tcprules as the first build), and
// `qmail-fleet cdb dump` prints a form the config reader takes back.
import * as fs from "node:fs";
import * as path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { cdbCommand } from "../../../cli/commands/cdb";
import { buildAuthCdb } from "../../../lib/cdb/auth";
import { CdbDumpError, dumpAuth, dumpTcpRules, dumpValidRcptTo } from "../../../lib/cdb/dump";
import { buildTcpRules } from "../../../lib/cdb/tcprules";
import { buildValidRcptTo } from "../../../lib/cdb/validrcptto";
import { configSourceOf } from "../../../lib/source/config-file";
import { compileWithTcprules, tempDir } from "./debian-tools";
import { prng } from "../../prng";

const VALIDRCPTTO = ["postmaster@example.com", "Alice@Example.com", "list-default@example.com", "@lists.example.com", "!former@example.com", "!@spam.example.net", "bob@example.org"];
const TCPRULES = [
  "# office and the box itself",
  '127.:allow,RBLSMTPD="",RELAYCLIENT=""',
  "10.1.2.40-45:deny",
  '=.example.com:allow,QMAILQUEUE="/var/qmail/bin/simscan",SIMSCAN_DEBUG="2"',
  "192.0.2.7:deny,DIEMSG='421 go away'",
  ':allow,CHKUSER_RCPTLIMIT="50"',
  "",
].join("\n");
const USERS = [
  { user: "alice@example.com", hash: "$6$abcdefgh$Jv8vFJfVdX9eFKDPuMFCzzCDsVYcpyjDD3SHWJu8Q/qjsYh2Ea2aTnRVeZdw2WtnB9uOvnzqIZb1n0LFEWr1R/" },
  { user: "bob@example.com", hash: "$5$saltsalt$4R8gNtGZ3XKFGkxIFMrUkxQ.LXMiBpmUEkm6pD7vuM.", env: { RELAYCLIENT: "", QMAILQUEUE: "/var/qmail/bin/qmail-queue" }, expires: 1893456000 },
  { user: "carol", hash: "$y$j9T$F5Jx5fExrKuPp53xLKQ..1$X3DX6M94c7o7TtoJwRl0QvAmzzXdaQ6HeKJkZrCAW60" },
];

describe("build → dump → build", () => {
  it("validrcptto", () => {
    const first = buildValidRcptTo(VALIDRCPTTO);
    const entries = dumpValidRcptTo(first);
    expect(entries).toContain("alice@example.com");
    expect(entries).toContain("!former@example.com");
    expect(buildValidRcptTo(entries).equals(first)).toBe(true);
  });

  it("validrcptto, 5,000 random addresses", () => {
    const random = prng(11);
    const addresses = Array.from({ length: 5000 }, (_, i) => `${random() < 0.1 ? "!" : ""}u${Math.floor(random() * 1e9)}-${i}@d${i % 37}.example`);
    const first = buildValidRcptTo(addresses);
    expect(buildValidRcptTo(dumpValidRcptTo(first)).equals(first)).toBe(true);
  });

  it("tcprules, first built by Debian's tcprules", () => {
    const debian = compileWithTcprules(TCPRULES);
    expect(debian.ok).toBe(true);
    if (!debian.ok) return;
    const rules = dumpTcpRules(debian.cdb);
    expect(rules.filter((r) => r.address.startsWith("10.1.2.")).map((r) => r.action)).toEqual(Array(6).fill("deny"));
    expect(rules.find((r) => r.address === "192.0.2.7")?.env).toEqual({ DIEMSG: "421 go away" });
    expect(buildTcpRules(rules).equals(debian.cdb)).toBe(true);
    expect(buildTcpRules(rules).equals(buildTcpRules(TCPRULES))).toBe(true);
  });

  it("tcprules whose variables are not in name order: the same rules, variables in name order", () => {
    const first = buildTcpRules('127.:allow,RELAYCLIENT="",RBLSMTPD=""\n');
    const rules = dumpTcpRules(first);
    expect(rules).toEqual([{ address: "127.", action: "allow", env: { RELAYCLIENT: "", RBLSMTPD: "" } }]);
    expect(buildTcpRules(rules).equals(buildTcpRules('127.:allow,RBLSMTPD="",RELAYCLIENT=""\n'))).toBe(true);
  });

  it("auth, hashes as they are", () => {
    const first = buildAuthCdb(USERS);
    const users = dumpAuth(first);
    expect(users.map((u) => u.hash)).toEqual(USERS.map((u) => u.hash));
    expect(users[1].expires).toBe(1893456000);
    expect(buildAuthCdb(users).equals(first)).toBe(true);
  });

  it("a cdb of another kind is refused, naming what it holds", () => {
    expect(() => dumpValidRcptTo(buildAuthCdb(USERS))).toThrow(CdbDumpError);
    expect(() => dumpTcpRules(buildValidRcptTo(["a@example.com"]).subarray(0))).not.toThrow();
    expect(() => dumpTcpRules(buildAuthCdb(USERS))).toThrow(/is this a tcprules cdb/);
  });
});

async function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const out = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => ((stdout += String(chunk)), true));
  const err = vi.spyOn(process.stderr, "write").mockImplementation((chunk) => ((stderr += String(chunk)), true));
  try {
    return { code: await cdbCommand.run(args), stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

describe("qmail-fleet cdb dump", () => {
  let dir = "";
  afterEach(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("prints validRcptTo and authUsers that the config reader takes back to the same cdbs", async () => {
    dir = tempDir("dump-");
    fs.writeFileSync(path.join(dir, "v.cdb"), buildValidRcptTo(VALIDRCPTTO));
    fs.writeFileSync(path.join(dir, "a.cdb"), buildAuthCdb(USERS));
    const valid = await runCli(["dump", "validrcptto", path.join(dir, "v.cdb")]);
    const auth = await runCli(["dump", "auth", path.join(dir, "a.cdb")]);
    expect([valid.code, auth.code, valid.stderr + auth.stderr]).toEqual([0, 0, ""]);
    expect(auth.stdout).toMatch(/SECRET/);
    const raw = configSourceOf(Buffer.from(valid.stdout + auth.stdout), "fleet.yaml").raw as { validRcptTo: { addresses: string[] }; authUsers: Array<{ user: string; hash: string; expires?: number; env?: Record<string, string> }> };
    expect(buildValidRcptTo(raw.validRcptTo.addresses).equals(buildValidRcptTo(VALIDRCPTTO))).toBe(true);
    expect(buildAuthCdb(raw.authUsers).equals(buildAuthCdb(USERS))).toBe(true);
  });

  it("--list prints one validrcptto entry per line", async () => {
    dir = tempDir("dump-");
    fs.writeFileSync(path.join(dir, "v.cdb"), buildValidRcptTo(VALIDRCPTTO));
    const result = await runCli(["dump", "validrcptto", path.join(dir, "v.cdb"), "--list"]);
    expect(buildValidRcptTo(result.stdout).equals(buildValidRcptTo(VALIDRCPTTO))).toBe(true);
  });

  it("refuses a file that is no cdb, without a stack trace", async () => {
    dir = tempDir("dump-");
    fs.writeFileSync(path.join(dir, "x.cdb"), "not a cdb");
    const result = await runCli(["dump", "tcprules", path.join(dir, "x.cdb")]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/not a valid cdb/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
