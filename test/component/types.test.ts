// The package's public types as another project sees them: test/component/consumer
// imports only "qmail-fleet" and @pulumi/command's published types, and must
// compile; its `@ts-expect-error` lines (wrong option types) must each be errors.
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const REPO = join(__dirname, "..", "..");

describe("public types", () => {
  it("a consumer compiles, a connection object fits both Mailhub and @pulumi/command, and wrong option types do not compile", () => {
    const tsc = join(REPO, "node_modules", ".bin", "tsc");
    let output = "";
    try {
      execFileSync(tsc, ["-p", join(__dirname, "consumer", "tsconfig.json")], { stdio: "pipe" });
    } catch (error) {
      output = String((error as { stdout?: Buffer }).stdout ?? error);
    }
    expect(output).toBe("");
  });
});
