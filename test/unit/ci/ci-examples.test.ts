// The CI examples are linted: the GitHub Actions workflow by actionlint
// (built from the Go module proxy by sandbox/build-actionlint; it runs
// shellcheck on every run: script), the GitLab pipeline by a structural check
// (gitlab-ci-check.ts). Each lint is shown to catch a broken copy. Both keep
// secrets out of command lines and logs.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { load } from "js-yaml";
import { beforeAll, describe, expect, it } from "vitest";
import { checkGitlabCi } from "./gitlab-ci-check";

const ROOT = join(__dirname, "..", "..", "..");
const GITHUB = join(ROOT, "examples", "ci", "github-actions.yml");
const GITLAB = join(ROOT, "examples", "ci", "gitlab-ci.yml");

let actionlint: string;
beforeAll(() => {
  actionlint = execFileSync(join(ROOT, "sandbox", "build-actionlint"), { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim().split("\n").pop()!;
}, 20 * 60_000);

function lintWorkflow(text: string): { status: number | null; output: string } {
  const file = join(mkdtempSync(join(tmpdir(), "qf-actionlint-")), "workflow.yml");
  writeFileSync(file, text);
  const result = spawnSync(actionlint, ["-no-color", file], { encoding: "utf8" });
  return { status: result.status, output: result.stdout + result.stderr };
}

describe("examples/ci/github-actions.yml", () => {
  it("passes actionlint (and shellcheck of its scripts)", () => {
    const result = lintWorkflow(readFileSync(GITHUB, "utf8"));
    expect(result.output).toBe("");
    expect(result.status).toBe(0);
  });

  it("actionlint catches a broken copy", () => {
    const broken = readFileSync(GITHUB, "utf8").replace("github.event_name == 'pull_request'", "github.event_nmae == 'pull_request'").replace('"$STACK"', "$STACK");
    const result = lintWorkflow(broken);
    expect(result.status).not.toBe(0);
    expect(result.output).toContain("event_nmae");
  });

  it("hands secrets to steps only through env:, never into a run script", () => {
    const text = readFileSync(GITHUB, "utf8");
    const workflow = load(text) as { jobs: Record<string, { steps: Array<{ run?: string; with?: Record<string, string> }> }> };
    for (const job of Object.values(workflow.jobs))
      for (const step of job.steps) {
        expect(step.run ?? "").not.toContain("${{");
        expect(JSON.stringify(step.with ?? {})).not.toContain("secrets.");
      }
    expect(text).not.toMatch(/set -x|echo[^\n]*\$(SSH_KEY|PULUMI_CONFIG_PASSPHRASE)/);
  });
});

describe("examples/ci/gitlab-ci.yml", () => {
  it("passes the structural check", () => {
    expect(checkGitlabCi(readFileSync(GITLAB, "utf8"))).toEqual([]);
  });

  it("has job scripts that pass shellcheck", () => {
    const pipeline = load(readFileSync(GITLAB, "utf8")) as Record<string, { before_script?: string[]; script?: string[]; extends?: string | string[] }>;
    const defaults = (pipeline.default as { before_script?: string[] }).before_script ?? [];
    for (const [name, job] of Object.entries(pipeline)) {
      if (!job?.script) continue;
      const parents = [job.extends ?? []].flat().map((parent) => pipeline[parent]);
      const before = [...parents].reverse().find((parent) => parent.before_script)?.before_script ?? defaults;
      const script = ["#!/bin/bash", ...before, ...job.script].join("\n") + "\n";
      const result = spawnSync("shellcheck", ["-s", "bash", "-"], { input: script, encoding: "utf8" });
      expect(`${name}: ${result.stdout}${result.stderr}`).toBe(`${name}: `);
      expect(result.status).toBe(0);
    }
  });

  it("the check catches a misspelt keyword, an undeclared stage, a missing need and a bad rule", () => {
    const text = readFileSync(GITLAB, "utf8");
    expect(checkGitlabCi(text.replace("  script:\n    - npx qmail-fleet validate", "  scirpt:\n    - npx qmail-fleet validate"))).toEqual(
      expect.arrayContaining(["validate.scirpt: not a job keyword", "validate: has no script"]),
    );
    expect(checkGitlabCi(text.replace("stage: drift", "stage: drfit"))).toEqual(["drift.stage: drfit is not in stages"]);
    expect(checkGitlabCi(text.replace("needs: [validate]", "needs: [validation]"))).toEqual(["preview.needs: no job named validation"]);
    expect(checkGitlabCi(text.replace('if: $CI_PIPELINE_SOURCE == "schedule"\n  resource_group', 'if: $CI_PIPELINE_SOURCE == == "schedule"\n  resource_group'))).toEqual([
      'drift.rules[0].if: $CI_PIPELINE_SOURCE == == "schedule" is not a rules expression',
    ]);
  });

  it("keeps secrets off command lines and out of the log", () => {
    const text = readFileSync(GITLAB, "utf8");
    expect(text).not.toMatch(/set -x|echo[^\n]*\$(QMAIL_FLEET_SSH_KEY|PULUMI_CONFIG_PASSPHRASE|QMAIL_FLEET_API_TOKEN)/);
    // The API token only ever goes into a header file.
    const uses = text.split("\n").filter((line) => line.includes("$QMAIL_FLEET_API_TOKEN"));
    expect(uses.map((line) => line.trim())).toEqual([`printf 'PRIVATE-TOKEN: %s\\n' "$QMAIL_FLEET_API_TOKEN" > "$header"`]);
  });
});
