// The pack resolves its packages from the project's node_modules; the
// versions it declares (for `npm install` in policy/) must be the project's.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const REPO = join(__dirname, "..", "..", "..");
const dependencies = (path: string) => (JSON.parse(readFileSync(join(REPO, path), "utf8")) as { dependencies: Record<string, string> }).dependencies;

describe("policy/package.json", () => {
  it("declares @pulumi/policy and @pulumi/pulumi at the project's versions", () => {
    const project = dependencies("package.json");
    const pack = dependencies("policy/package.json");
    expect(Object.keys(pack).sort()).toEqual(["@pulumi/policy", "@pulumi/pulumi"]);
    for (const [name, version] of Object.entries(pack)) expect(version, name).toBe(project[name]);
  });
});
