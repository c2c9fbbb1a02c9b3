// sandbox/pulumi runs the engine from the repository, but a relative --cwd
// (or -C) names a directory where it was called from, as pulumi takes it.
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const WRAPPER = resolve(__dirname, "..", "..", "..", "sandbox", "pulumi");
const caller = mkdtempSync(join(tmpdir(), "pulumi-cwd-"));
mkdirSync(join(caller, "proj"));
afterAll(() => rmSync(caller, { recursive: true, force: true }));

describe("sandbox/pulumi --cwd", () => {
  it.each([["--cwd proj"], ["--cwd=proj"], ["-C proj"], ["-Cproj"]])("%s is the caller's directory", async (flag) => {
    // No Pulumi.yaml there: the engine's error names the directory it searched from.
    const result = await promisify(execFile)(WRAPPER, [...flag.split(" "), "stack", "ls"], { cwd: caller }).catch((error) => error);
    expect(`${result.stderr}`).toContain(`searching upwards from ${join(caller, "proj")})`);
  });
});
