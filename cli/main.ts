// The `qmail-fleet` command: one sub-command per file under cli/commands.

export interface Command {
  /** One line for `qmail-fleet --help`. */
  summary: string;
  /** Returns the process exit code. */
  run(args: string[]): Promise<number>;
}

/**
 * For the commands that read a config: zod without its just-in-time compiled
 * parsers, which pay off over many parses, not over the one a command makes
 * (about 40 ms less start-up). Set before the schemas are built.
 */
function prepareConfigCommand(): void {
  (require("zod") as typeof import("zod")).config({ jitless: true });
}

// Sub-commands are loaded on demand so that e.g. `cdb` does not pay for the Pulumi SDK.
const commands: Record<string, () => Command> = {
  validate: () => (prepareConfigCommand(), (require("./commands/validate") as typeof import("./commands/validate")).validateCommand),
  render: () => (prepareConfigCommand(), (require("./commands/render") as typeof import("./commands/render")).renderCommand),
  diff: () => (prepareConfigCommand(), (require("./commands/diff") as typeof import("./commands/diff")).diffCommand),
  import: () => (prepareConfigCommand(), (require("./commands/import") as typeof import("./commands/import")).importCommand),
  cdb: () => require("./commands/cdb").cdbCommand,
  drift: () => (require("./commands/drift") as typeof import("./commands/drift")).driftCommand,
};

export function usage(): string {
  const lines = ["usage: qmail-fleet <command> [options]", "", "commands:"];
  for (const [name, load] of Object.entries(commands)) lines.push(`  ${name.padEnd(10)} ${load().summary}`);
  lines.push("", "Run `qmail-fleet <command> --help` for a command's options.");
  return lines.join("\n");
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(usage() + "\n");
    return name ? 0 : 1;
  }
  const load = commands[name];
  if (!load) {
    process.stderr.write(`qmail-fleet: unknown command '${name}'\n${usage()}\n`);
    return 1;
  }
  return load().run(rest);
}
