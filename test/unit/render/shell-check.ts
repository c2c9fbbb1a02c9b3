// Runs generated scripts through `sh -n` and shellcheck. Both are required:
// a missing shellcheck fails the tests instead of skipping them.
import { spawnSync } from "node:child_process";

function run(command: string, args: string[], input: string): { status: number | null; output: string } {
  const result = spawnSync(command, args, { input, encoding: "utf8" });
  if (result.error) throw new Error(`cannot run ${command} (${result.error.message}): install it (Debian: apt-get install ${command === "sh" ? "dash" : command})`);
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/** Empty when the script is clean; otherwise what sh -n and shellcheck said. */
export function shellProblems(script: string): string {
  const syntax = run("sh", ["-n"], script);
  if (syntax.status !== 0) return `sh -n: ${syntax.output}`;
  const lint = run("shellcheck", ["--shell=sh", "--severity=style", "-"], script);
  return lint.status === 0 ? "" : `shellcheck:\n${lint.output}`;
}
