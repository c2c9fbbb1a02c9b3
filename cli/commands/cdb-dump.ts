// `qmail-fleet cdb dump KIND CDB`: a cdb back to the config form it is built
// from, as YAML to paste into a stack file (or, for validrcptto with --list,
// one entry per line for validRcptTo.files). auth.cdb hashes are printed as
// they are and marked as secrets.
import * as fs from "node:fs";

const KINDS = ["validrcptto", "tcprules", "auth"] as const;

export const DUMP_HELP = `usage: qmail-fleet cdb dump <validrcptto|tcprules|auth> CDB [--list]

Prints the config form of a cdb built by qmail-fleet, the Debian tools or
another updater:
  validrcptto   validRcptTo.addresses (with --list: one entry per line, for validRcptTo.files)
  tcprules      the rules of a tcpRules entry (a range comes back as one rule per address)
  auth          authUsers with their hashes as they are: secrets, to be stored with
                pulumi config set --secret
Building the printed form again gives the same cdb for one qmail-fleet built.`;

export async function runDump(args: string[]): Promise<number> {
  if (args.includes("-h") || args.includes("--help")) {
    process.stdout.write(DUMP_HELP + "\n");
    return 0;
  }
  const list = args.includes("--list");
  const positional = args.filter((a) => a !== "--list");
  const [kind, file, ...extra] = positional;
  if (!kind || !(KINDS as readonly string[]).includes(kind) || !file || extra.length > 0 || positional.some((a) => a.startsWith("-") && a !== "-")) {
    process.stderr.write(`qmail-fleet cdb dump: ${!kind ? "which cdb?" : !(KINDS as readonly string[]).includes(kind) ? `unknown kind '${kind}'` : !file ? "CDB is missing" : `unexpected ${[...extra, ...positional.filter((a) => a.startsWith("-"))].join(" ")}`}\n${DUMP_HELP}\n`);
    return 1;
  }
  if (list && kind !== "validrcptto") {
    process.stderr.write("qmail-fleet cdb dump: --list is for validrcptto only\n");
    return 1;
  }
  const { dumpAuth, dumpTcpRules, dumpValidRcptTo } = await import("../../lib/cdb/dump");
  const { commented, toYaml } = await import("../../lib/import/yaml-writer");
  try {
    const bytes = fs.readFileSync(file === "-" ? 0 : file);
    const name = file === "-" ? "the cdb" : file;
    if (kind === "validrcptto") {
      const entries = dumpValidRcptTo(bytes);
      if (list) process.stdout.write(entries.map((e) => `${e}\n`).join(""));
      else process.stdout.write(toYaml({ validRcptTo: { addresses: entries } }, [`${entries.length} entries of ${name}: the value of qmail-fleet:validRcptTo`]));
    } else if (kind === "tcprules") {
      const rules = dumpTcpRules(bytes).map((rule) => ({ ...rule }));
      process.stdout.write(toYaml({ rules }, [`${rules.length} rules of ${name}, first match wins: one entry of qmail-fleet:tcpRules, keyed by the path services name in accessRules`]));
    } else {
      const users = dumpAuth(bytes).map((user) => ({ ...user }));
      process.stdout.write(
        toYaml({ authUsers: commented(["SECRET: password hashes. Store them encrypted, e.g. as JSON: pulumi config set --secret authUsers < users.json"], users as never) }, [
          `${users.length} users of ${name}, hashes as they are`,
        ]),
      );
    }
    return 0;
  } catch (error) {
    const known = (error as Error).name === "CdbDumpError" || (error as Error).name === "CdbFormatError" || (error as NodeJS.ErrnoException).code !== undefined;
    process.stderr.write(`qmail-fleet cdb dump ${kind}: ${known ? (error as Error).message : `internal error: ${(error as Error).message}`}\n`);
    return 1;
  }
}
