// The sandbox's own shell scripts meet the bar set for generated run scripts.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const SANDBOX = resolve(__dirname, "..", "..", "..", "sandbox");

const scripts = readdirSync(SANDBOX)
  .map((name) => join(SANDBOX, name))
  .filter((path) => statSync(path).isFile() && /^#!\/bin\/(ba)?sh/.test(readFileSync(path, "utf8")));

describe("sandbox scripts", () => {
  it("are found", () => {
    expect(scripts.map((s) => s.slice(SANDBOX.length + 1))).toEqual(
      expect.arrayContaining(["mailhubs", "build-engine", "install-deps", "pulumi", "qmail-smtpd-test-double"]),
    );
  });

  it.each(scripts.map((s) => [s.slice(SANDBOX.length + 1), s]))("%s passes shellcheck", (_name, path) => {
    // Throws with shellcheck's report when it finds anything.
    execFileSync("shellcheck", ["-x", path], { cwd: resolve(SANDBOX, ".."), stdio: ["ignore", "pipe", "pipe"] });
  });
});
