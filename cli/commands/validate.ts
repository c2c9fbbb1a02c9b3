// `qmail-fleet validate <config>`: read, check and plan without touching a
// host. Exit 0 with warnings on stderr, or 1 with one `path: message` line per error.
import { formatIssues, type ConfigIssue } from "../../lib/config";
import { loadConfigFile, type LoadResult } from "../../lib/load-config";
import type { Command } from "../main";

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
    process.stdout.write(`${args[0]}: ok (${plural(hosts.length, "host")}, ${plural(services, "service")})\n`);
    return 0;
  },
};

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/**
 * Reads, checks and plans a config file, printing its warnings and errors to
 * stderr. Local files it names are relative to the config file's directory.
 */
export function loadFleet(file: string): LoadResult {
  const loaded = loadConfigFile(file);
  if (loaded.warnings.length > 0) process.stderr.write(prefixed("warning: ", loaded.warnings) + "\n");
  if (!loaded.ok) process.stderr.write(formatIssues(loaded.errors) + "\n");
  return loaded;
}

const prefixed = (prefix: string, issues: readonly ConfigIssue[]) =>
  formatIssues(issues)
    .split("\n")
    .map((line) => `${prefix}${line}`)
    .join("\n");
