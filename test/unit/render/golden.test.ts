// Golden files: the scripts and plan of each test/golden/<case>.yaml are
// compared byte for byte with test/golden/<case>/. UPDATE_GOLDEN=1 rewrites
// them; review the diff. Every script also passes sh -n and shellcheck.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { planFleet } from "../../../lib/plan";
import type { FleetPlan } from "../../../lib/host-plan";
import { readConfigSource } from "../../../lib/source/config-file";
import { mustParse } from "../schema/fixtures";
import { shellProblems } from "./shell-check";

const GOLDEN = join(__dirname, "..", "..", "golden");
const EXAMPLES = join(__dirname, "..", "..", "..", "examples");
const update = process.env.UPDATE_GOLDEN === "1";

/** The plan, with the warnings a user would see: the parser's, then the planner's. */
function planOf(file: string): FleetPlan {
  const { config, warnings } = mustParse(readConfigSource(file).raw);
  const plan = planFleet(config, { readFile: (path) => readFileSync(join(file, "..", path)) });
  return { ...plan, warnings: [...warnings, ...plan.warnings] };
}

/** Golden file name of a host file: its path with / as _. */
const goldenName = (path: string) => path.replace(/^\//, "").replace(/\//g, "_");

function planSummary(plan: FleetPlan): string {
  const hosts = plan.hosts.map((host) => ({
    ...host,
    files: host.files.map(({ content, ...file }) => ({ ...file, mode: file.mode.toString(8), bytes: content.length })),
    directories: host.directories.map((d) => ({ ...d, mode: d.mode.toString(8) })),
  }));
  return JSON.stringify({ hosts, warnings: plan.warnings }, null, 2) + "\n";
}

const cases = readdirSync(GOLDEN)
  .filter((name) => name.endsWith(".yaml"))
  .map((name) => name.replace(/\.yaml$/, ""));

describe("golden scripts", () => {
  it("has the preset and maximal cases", () => {
    expect(cases).toEqual(expect.arrayContaining(["mx", "submission", "smtps", "maximal"]));
  });

  it.each(cases)("%s matches test/golden", (name) => {
    const plan = planOf(join(GOLDEN, `${name}.yaml`));
    const expected: Array<[string, string]> = [["plan.json", planSummary(plan)]];
    for (const host of plan.hosts)
      for (const file of host.files) expected.push([join(host.name, goldenName(file.path)), file.content.toString()]);
    const dir = join(GOLDEN, name);
    for (const [relative, text] of expected) {
      const target = join(dir, relative);
      if (update) {
        mkdirSync(join(target, ".."), { recursive: true });
        writeFileSync(target, text);
      }
      expect(existsSync(target), `${target} is missing; run with UPDATE_GOLDEN=1`).toBe(true);
      expect(text, target).toBe(readFileSync(target, "utf8"));
    }
  });

  it.each(cases)("%s renders the same bytes twice", (name) => {
    const file = join(GOLDEN, `${name}.yaml`);
    expect(planSummary(planOf(file))).toBe(planSummary(planOf(file)));
    const bytes = (plan: FleetPlan) => plan.hosts.flatMap((h) => h.files.map((f) => f.content.toString("hex")));
    expect(bytes(planOf(file))).toEqual(bytes(planOf(file)));
  });
});

describe("every generated script passes sh -n and shellcheck", () => {
  const sources = [
    ...cases.map((name) => join(GOLDEN, `${name}.yaml`)),
    ...readdirSync(EXAMPLES)
      .filter((name) => /\.(ya?ml|json)$/.test(name))
      .map((name) => join(EXAMPLES, name)),
  ];
  const scripts = sources.flatMap((file) =>
    planOf(file).hosts.flatMap((host) => host.files.map((f) => [`${file} ${host.name}:${f.path}`, f.content.toString()] as const)),
  );

  it.each(scripts)("%s", (_where, text) => {
    expect(shellProblems(text)).toBe("");
  });
});
