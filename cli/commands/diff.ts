// `qmail-fleet diff BASE HEAD` or `qmail-fleet diff --base REF [HEAD]`: what
// a config change does to the fleet, decided offline (no host, no state): per
// host the files added, removed and changed, the services that restart, the
// hazards the head config newly acknowledges, and the house rules it breaks.
// Markdown for a pull request comment, or JSON. Exit 0: no change; 2:
// changes (a newly acknowledged or dropped hazard counts); 1: bad input.
import { readdirSync } from "node:fs";
import { formatIssues, type ConfigIssue } from "../../lib/config";
import { loadConfigFile, type LoadResult } from "../../lib/load-config";
import { GitSourceError, loadConfigAtRef } from "../diff/config-at-ref";
import { acknowledgedHazardChanges } from "../diff/acknowledged-hazards";
import { diffFleets } from "../diff/fleet-diff";
import { diffMarkdown } from "../diff/markdown";
import { PolicyConfigError, readPolicyPackConfig } from "../diff/policy-pack-config";
import type { PolicyConfig } from "../../lib/policy/rules";
import { offlinePolicyResults } from "../diff/offline-policy";
import { rolloutChange } from "../diff/rollout-change";
import type { Command } from "../main";

export const USAGE = "usage: qmail-fleet diff [--format markdown|json] [--policy-config FILE] (BASE-CONFIG HEAD-CONFIG | --base GIT-REF [HEAD-CONFIG])";

const HELP = `${USAGE}

Plans both configs as pulumi up would and prints, per host, the files added,
removed and changed (run scripts as text diffs, cdbs as the keys added and
removed, secret files as [secret] with nothing of their contents), the
services added, removed and restarted, the hazards the head config
acknowledges that the base did not (and, in a line, those it keeps or drops),
and the house rules of the policy pack that the head config breaks. Touches no
host and reads no state.

  --base GIT-REF   the base is HEAD-CONFIG as commit GIT-REF has it (git show),
                   with the files it names by relative path at that commit too;
                   HEAD-CONFIG defaults to the one Pulumi.<stack>.yaml here
  --format F       markdown (default; for a pull request comment) or json
  --policy-config FILE
                   the policy pack's config (as pulumi preview --policy-pack-config):
                   each rule's level and settings; default: the rules' defaults

A secret the config holds encrypted ({ secure: ... }) is compared by its
ciphertext: a new ciphertext shows as a change of the file it goes into.

Exit 0: no host changes and the same hazards acknowledged; 2: changes (a
hazard newly acknowledged, or no longer, counts); 1: bad input (nothing
printed on stdout).`;

type Format = "markdown" | "json";
interface DiffArgs {
  policyConfig?: string;
  base?: string;
  ref?: string;
  head: string;
  format: Format;
}

export const diffCommand: Command = {
  summary: "what a config change does to each host (files, restarts, house rules), offline, for a pull request",
  async run(args) {
    if (args.includes("--help") || args.includes("-h")) {
      process.stdout.write(`${HELP}\n`);
      return 0;
    }
    const parsed = parseArgs(args);
    if (typeof parsed === "string") return fail(`${parsed}\n${USAGE}`);

    let base: LoadResult;
    let baseLabel: string;
    let policy: PolicyConfig = {};
    try {
      if (parsed.policyConfig !== undefined) policy = readPolicyPackConfig(parsed.policyConfig);
      base = parsed.ref !== undefined ? loadConfigAtRef(parsed.head, parsed.ref) : loadConfigFile(parsed.base!);
      baseLabel = parsed.ref !== undefined ? `${parsed.head} at ${parsed.ref}` : parsed.base!;
    } catch (error) {
      if (error instanceof GitSourceError || error instanceof PolicyConfigError) return fail(error.message);
      throw error;
    }
    const head = loadConfigFile(parsed.head);
    // The base's warnings were read when it was reviewed; only its errors stop the diff.
    report(baseLabel, { ...base, warnings: [] });
    report(parsed.head, head);
    if (!base.ok || !head.ok) return 1;

    const diff = diffFleets(
      { label: baseLabel, plan: base.plan },
      { label: parsed.head, plan: head.plan },
      offlinePolicyResults(head.config, head.plan, policy),
      rolloutChange(base.config, head.config),
      acknowledgedHazardChanges(base, head),
    );
    process.stdout.write(parsed.format === "json" ? `${JSON.stringify(diff, null, 2)}\n` : diffMarkdown(diff));
    return diff.changed ? 2 : 0;
  },
};

function parseArgs(args: string[]): DiffArgs | string {
  const positional: string[] = [];
  let ref: string | undefined;
  let policyConfig: string | undefined;
  let format: Format = "markdown";
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const [flag, inline] = arg.startsWith("--") && arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
    if (flag === "--base" || flag === "--format" || flag === "--policy-config") {
      const value = inline ?? args[++i];
      if (value === undefined || value === "") return `${flag} needs a value`;
      if (flag === "--base") ref = value;
      else if (flag === "--policy-config") policyConfig = value;
      else if (value === "markdown" || value === "json") format = value;
      else return `--format ${value}: give markdown or json`;
    } else if (arg.startsWith("-")) return `unknown option ${arg}`;
    else positional.push(arg);
  }
  if (ref !== undefined) {
    if (positional.length > 1) return "with --base, give at most one config file (the head)";
    const head = positional[0] ?? theStackFileHere();
    if (head === undefined) return "with --base and no config file, the current directory must hold exactly one Pulumi.<stack>.yaml: give the head config";
    return { ref, head, format, ...(policyConfig !== undefined ? { policyConfig } : {}) };
  }
  if (positional.length !== 2) return "give two config files (base, then head), or --base GIT-REF";
  return { base: positional[0], head: positional[1], format, ...(policyConfig !== undefined ? { policyConfig } : {}) };
}

function theStackFileHere(): string | undefined {
  const stacks = readdirSync(".").filter((name) => /^Pulumi\.[^.]+\.ya?ml$/.test(name));
  return stacks.length === 1 ? stacks[0] : undefined;
}

/** Warnings about what only a run against the hosts needs: the diff connects to none. */
const OFFLINE_IRRELEVANT = new Set(["ssh.privateKeyFile"]);

/** A config's errors and warnings on stderr, under its name. */
function report(label: string, result: LoadResult): void {
  const loaded = { ...result, warnings: result.warnings.filter((warning) => !OFFLINE_IRRELEVANT.has(warning.path)) };
  const lines = (prefix: string, issues: readonly ConfigIssue[]) => (issues.length === 0 ? [] : formatIssues(issues).split("\n").map((line) => `${prefix}${line}`));
  const out = [...lines("warning: ", loaded.warnings), ...(loaded.ok ? [] : lines("", loaded.errors))];
  if (loaded.warnings.length === 0 && loaded.ok) return;
  process.stderr.write(`${label}:\n${out.map((line) => `  ${line}`).join("\n")}\n`);
}

function fail(message: string): number {
  process.stderr.write(`qmail-fleet diff: ${message}\n`);
  return 1;
}
