// What the stack-file program loads before its first resource: the
// components take the SDK's own modules (components/pulumi-sdk.ts), not its
// index, which would add the automation API and the TypeScript compiler to
// every run. Checked on the compiled program, as the engine runs it.
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = join(__dirname, "..", "..", "..");

describe("the compiled program's modules", () => {
  it("loads neither @pulumi/pulumi's index nor the TypeScript compiler", () => {
    const script = `require(${JSON.stringify(join(ROOT, "dist", "components", "index.js"))});
      process.stdout.write(JSON.stringify(Object.keys(require.cache)));`;
    const loaded: string[] = JSON.parse(execFileSync(process.execPath, ["-e", script], { cwd: ROOT, encoding: "utf8" }));
    expect(loaded.filter((file) => /node_modules\/typescript\//.test(file))).toEqual([]);
    expect(loaded.filter((file) => /node_modules\/@pulumi\/pulumi\/(index|automation\/index)\.js$/.test(file))).toEqual([]);
    // The components themselves did load.
    expect(loaded.some((file) => file.endsWith(join("dist", "components", "fleet.js")))).toBe(true);
  });
});
