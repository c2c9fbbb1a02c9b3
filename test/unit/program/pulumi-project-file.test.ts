// The engine runs the program, and the provider, in the directory of
// Pulumi.yaml's `main` file: a main under dist/ would make the stack file's
// relative paths (validRcptTo.files, knownHostsFile) and the build directory
// relative to dist/ instead of the project.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import * as yaml from "js-yaml";
import { describe, expect, it } from "vitest";

const ROOT = join(__dirname, "..", "..", "..");
const project = yaml.load(readFileSync(join(ROOT, "Pulumi.yaml"), "utf8")) as { main: string; runtime: { options?: { typescript?: boolean } } };

describe("Pulumi.yaml", () => {
  it("names a main file at the project's root", () => {
    expect(dirname(project.main)).toBe(".");
  });

  it("runs compiled JavaScript: the main file loads dist/index.js and no TypeScript compiler is asked for", () => {
    expect(project.runtime.options?.typescript).toBe(false);
    expect(readFileSync(join(ROOT, project.main), "utf8")).toMatch(/require\("\.\/dist\/index\.js"\)/);
  });
});
