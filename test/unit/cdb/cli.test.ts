import * as fs from "node:fs";
import * as path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { cdbCommand } from "../../../cli/commands/cdb";
import { buildValidRcptTo } from "../../../lib/cdb/validrcptto";
import { compileWithTcprules, tempDir } from "./debian-tools";

async function runCli(args: string[], env: Record<string, string | undefined> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const out = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => ((stdout += String(chunk)), true));
  const err = vi.spyOn(process.stderr, "write").mockImplementation((chunk) => ((stderr += String(chunk)), true));
  const saved = { ...process.env };
  Object.assign(process.env, env);
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete process.env[k];
  try {
    const code = await cdbCommand.run(args);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
    process.env = saved;
  }
}

describe("qmail-fleet cdb", () => {
  let dir = "";
  afterEach(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("validrcptto: builds, summarises, and --diff reports changes", async () => {
    dir = tempDir("cli");
    const input = path.join(dir, "valid.txt");
    const output = path.join(dir, "validrcptto.cdb");
    fs.writeFileSync(input, "A@x.com\nb@x.com\n");
    expect(await runCli(["validrcptto", input, "-o", output])).toEqual({ code: 0, stdout: "validrcptto.cdb: 2 addresses\n", stderr: "" });
    expect(fs.readFileSync(output).equals(buildValidRcptTo(["a@x.com", "b@x.com"]))).toBe(true);
    fs.writeFileSync(input, "b@x.com\nc@x.com\nd@x.com\n");
    expect((await runCli(["validrcptto", input, "-o", output, "--diff"])).stdout).toBe("validrcptto.cdb: 3 addresses (+2 -1)\n");
  });

  it("validrcptto: exit 1 naming the line, output left alone", async () => {
    dir = tempDir("cli");
    const input = path.join(dir, "valid.txt");
    const output = path.join(dir, "validrcptto.cdb");
    fs.writeFileSync(output, "previous");
    fs.writeFileSync(input, "ok@x.com\n\nnot an address\n");
    const result = await runCli(["validrcptto", input, "-o", output]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("line 3:");
    expect(fs.readFileSync(output, "utf8")).toBe("previous");
    expect(fs.readdirSync(dir).sort()).toEqual(["valid.txt", "validrcptto.cdb"]);
  });

  it("tcprules: same bytes as Debian's tcprules", async () => {
    dir = tempDir("cli");
    const input = path.join(dir, "tcp.smtp");
    const output = path.join(dir, "tcp.smtp.cdb");
    const source = '127.:allow,RELAYCLIENT=""\n10.0.0.1-3:deny\n:allow\n';
    fs.writeFileSync(input, source);
    const result = await runCli(["tcprules", input, "--output", output]);
    expect(result).toEqual({ code: 0, stdout: "tcp.smtp.cdb: 5 rule entries\n", stderr: "" });
    const theirs = compileWithTcprules(source);
    expect(theirs.ok && fs.readFileSync(output).equals(theirs.cdb)).toBe(true);
  });

  it("auth: salt secret from the environment, passwords never printed, mode 0600", async () => {
    dir = tempDir("cli");
    const input = path.join(dir, "users");
    const output = path.join(dir, "auth.cdb");
    const password = "Very Secret Password";
    fs.writeFileSync(input, `bob@x.com:plain:${password}\nbob@x.com:env:A=1\n`);
    const missing = await runCli(["auth", input, "-o", output], { QMAIL_FLEET_SALT_SECRET: undefined });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("QMAIL_FLEET_SALT_SECRET");
    const ok = await runCli(["auth", input, "-o", output], { QMAIL_FLEET_SALT_SECRET: "0123456789abcdef-secret" });
    expect(ok).toEqual({ code: 0, stdout: "auth.cdb: 1 user\n", stderr: "" });
    expect(fs.statSync(output).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(output).includes(Buffer.from(password))).toBe(false);
    fs.writeFileSync(input, `bob@x.com:plain:${password}\nbob@x.com:env:A="${password}"\n`);
    const bad = await runCli(["auth", input, "-o", output], { QMAIL_FLEET_SALT_SECRET: "0123456789abcdef-secret" });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('line 2: user "bob@x.com": value of A contains a double quote');
    expect(bad.stderr + bad.stdout).not.toContain(password);
  });

  it("--help for each kind; usage errors exit 1", async () => {
    for (const kind of ["validrcptto", "tcprules", "auth"]) {
      const help = await runCli([kind, "--help"]);
      expect(help.code).toBe(0);
      expect(help.stdout).toContain(`usage: `);
      expect(help.stdout).toContain(`qmail-fleet cdb ${kind}`);
    }
    expect((await runCli(["--help"])).stdout).toContain("validrcptto");
    expect((await runCli(["nonsense", "x", "-o", "y"])).code).toBe(1);
    expect((await runCli(["validrcptto", "x"])).stderr).toContain("-o FILE is missing");
    expect((await runCli(["validrcptto", "/nonexistent/file", "-o", "/tmp/x.cdb"])).stderr).toContain("ENOENT");
  });

  it("file errors name the operator's input or output, never the temporary file", async () => {
    dir = tempDir("cli");
    const input = path.join(dir, "valid.txt");
    fs.writeFileSync(input, "a@x.com\n");
    const missingDir = path.join(dir, "missing");
    const noDir = await runCli(["validrcptto", input, "-o", path.join(missingDir, "validrcptto.cdb")]);
    expect(noDir.code).toBe(1);
    expect(noDir.stderr).toBe(`qmail-fleet cdb validrcptto: cannot write ${path.join(missingDir, "validrcptto.cdb")}: no such file or directory (ENOENT); the directory ${missingDir} must exist\n`);
    const underFile = await runCli(["validrcptto", input, "-o", path.join(input, "v.cdb")]);
    expect(underFile.stderr).toBe(`qmail-fleet cdb validrcptto: cannot write ${path.join(input, "v.cdb")}: not a directory (ENOTDIR); ${input} must be a directory\n`);
    for (const kind of ["validrcptto", "tcprules", "auth"]) {
      const inputIsDir = await runCli([kind, dir, "-o", path.join(dir, "out.cdb")]);
      expect(inputIsDir.code).toBe(1);
      expect(inputIsDir.stderr).toBe(`qmail-fleet cdb ${kind}: cannot read ${dir}: illegal operation on a directory (EISDIR)\n`);
    }
    expect((await runCli(["validrcptto", path.join(dir, "nope.txt"), "-o", path.join(dir, "out.cdb")])).stderr).toBe(
      `qmail-fleet cdb validrcptto: cannot read ${path.join(dir, "nope.txt")}: no such file or directory (ENOENT)\n`,
    );
    expect(fs.readdirSync(dir)).toEqual(["valid.txt"]);
  });
});
