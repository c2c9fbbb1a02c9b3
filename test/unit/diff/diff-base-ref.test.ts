// `qmail-fleet diff --base REF`: the base is the stack file as a commit of a
// (temporary) git repository holds it, with the files it names by relative
// path at that commit too; the working tree is the head.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { diffCommand } from "../../../cli/commands/diff";
import type { FleetDiff } from "../../../cli/diff/fleet-diff";
import { captureOutput } from "../../capture-output";
import { HOST_KEY } from "../schema/fixtures";

const output = captureOutput();

/** A stack file whose validrcptto addresses come from a file beside it. */
const STACK = `config:
  qmail-fleet:services:
    - name: smtpd
      preset: mx
      ip: "0"
      validRcptTo:
        cdbFile: /var/qmail/control/validrcptto.cdb
  qmail-fleet:validRcptTo:
    files: [addresses.txt]
  qmail-fleet:hosts:
    - name: mx1
      address: 192.0.2.10
      ssh:
        hostKey: ${HOST_KEY}
`;

let repo: string;
const git = (...args: string[]) => execFileSync("git", ["-C", repo, "-c", "user.name=t", "-c", "user.email=t@example.com", ...args], { encoding: "utf8" });

beforeAll(() => {
  repo = mkdtempSync(join(tmpdir(), "qf-diff-git-"));
  git("init", "-q", "-b", "main");
  writeFileSync(join(repo, "Pulumi.prod.yaml"), STACK);
  writeFileSync(join(repo, "addresses.txt"), "postmaster@example.com\nalice@example.com\n");
  git("add", ".");
  git("commit", "-q", "-m", "base");
  // The working tree (the pull request's head): one more address, in the file only.
  writeFileSync(join(repo, "addresses.txt"), "postmaster@example.com\nalice@example.com\nbob@example.com\n");
});

async function runDiff(...args: string[]): Promise<number> {
  output.stdout = output.stderr = "";
  return diffCommand.run(args);
}

describe("qmail-fleet diff --base REF", () => {
  it("plans the base from the commit, the files it names included", async () => {
    const head = join(repo, "Pulumi.prod.yaml");
    expect(await runDiff("--format", "json", "--base", "main", head)).toBe(2);
    const diff = JSON.parse(output.stdout) as FleetDiff;
    expect(diff.base).toBe(`${head} at main`);
    expect(diff.hosts[0].files.map((f) => `${f.path} ${f.change}`)).toEqual(["/var/qmail/control/validrcptto.cdb changed"]);
    expect(diff.hosts[0].files[0].keys).toEqual({ added: ["bob@example.com"], removed: [], changed: [] });
    // The working tree is as it was.
    expect(readFileSync(join(repo, "addresses.txt"), "utf8")).toContain("bob@example.com");
    expect(git("status", "--porcelain")).toBe(" M addresses.txt\n");
  });

  it("finds the one stack file of the current directory when no head is given", async () => {
    const cwd = process.cwd();
    process.chdir(repo);
    try {
      expect(await runDiff("--base", "HEAD")).toBe(2);
    } finally {
      process.chdir(cwd);
    }
    expect(output.stdout).toContain("`Pulumi.prod.yaml at HEAD` → `Pulumi.prod.yaml`");
    expect(output.stdout).toContain("added: bob@example.com");
  });

  it("says what to do with a ref the repository does not have, or a file the ref does not hold", async () => {
    const head = join(repo, "Pulumi.prod.yaml");
    expect(await runDiff("--base", "no-such-branch", head)).toBe(1);
    expect(output.stderr).toContain("qmail-fleet diff: --base no-such-branch: no commit named no-such-branch in the git repository at");
    expect(output.stderr).toContain("fetch-depth: 0");
    expect(await runDiff("--base", "--output=/tmp/x", head)).toBe(1);
    expect(output.stderr).toContain("is not a git ref");

    writeFileSync(join(repo, "Pulumi.new.yaml"), STACK);
    expect(await runDiff("--base", "main", join(repo, "Pulumi.new.yaml"))).toBe(1);
    expect(output.stderr).toMatch(/Pulumi\.new\.yaml is not in main \(.+\): give the base config as a file instead/);
    expect(output.stdout).toBe("");
    expect(output.stderr).not.toMatch(/\n\s+at /);
  });
});
