// `qmail-fleet validate <config>`: parse, check and plan without touching a
// host. Exit 0 with warnings on stderr, or 1 with one `path: message` line per error.
import { dirname, resolve } from "node:path";
import { readFileSync } from "node:fs";
import { formatIssues, parseFleetConfig } from "../../lib/config";
import { planFleet, PlanError } from "../../lib/plan";
import type { Command } from "../main";
import { ConfigFileError, readConfigFile } from "../stack-file";

export const USAGE = "usage: qmail-fleet validate <Pulumi.<stack>.yaml | config.yaml | config.json>";

export const validateCommand: Command = {
  summary: "check a fleet config (stack file or plain YAML/JSON) and print its errors and warnings",
  async run(args) {
    if (args.includes("--help") || args.includes("-h")) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    if (args.length !== 1 || args[0].startsWith("-")) {
      process.stderr.write(`${USAGE}\n`);
      return 1;
    }
    const loaded = loadFleet(args[0]);
    if (!loaded.ok) return 1;
    const hosts = loaded.config.hosts;
    const services = hosts.reduce((sum, host) => sum + host.services.length, 0);
    process.stdout.write(`${args[0]}: ok (${hosts.length} host(s), ${services} service(s))\n`);
    return 0;
  },
};

/**
 * Reads, parses and plans a config file, printing errors and warnings to
 * stderr. known_hosts paths are relative to the config file's directory.
 */
export function loadFleet(file: string) {
  try {
    const parsed = parseFleetConfig(readConfigFile(file));
    if (!parsed.ok) {
      process.stderr.write(formatIssues(parsed.errors) + "\n");
      return { ok: false as const };
    }
    if (parsed.warnings.length > 0) process.stderr.write(indentWarnings(formatIssues(parsed.warnings)) + "\n");
    const plan = planFleet(parsed.config, { readFile: (path) => readFileSync(resolve(dirname(file), path)) });
    for (const warning of plan.warnings) process.stderr.write(`warning: ${warning}\n`);
    return { ok: true as const, config: parsed.config, plan };
  } catch (error) {
    if (error instanceof ConfigFileError || error instanceof PlanError) {
      process.stderr.write(`${error.message}\n`);
      return { ok: false as const };
    }
    throw error;
  }
}

const indentWarnings = (text: string) =>
  text
    .split("\n")
    .map((line) => `warning: ${line}`)
    .join("\n");
