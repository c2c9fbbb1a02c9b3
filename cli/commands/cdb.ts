// `qmail-fleet cdb`: builds validrcptto.cdb, the tcpserver rules cdb and
// auth.cdb from plain files. Imports only lib/cdb and node built-ins, so it
// starts fast (no Pulumi SDK, no zod).
import * as fs from "node:fs";
import * as path from "node:path";
import type { Command } from "../main";
import type { CdbKind } from "../../lib/cdb/summary";

// Each kind loads only the modules it needs (auth pulls in node:crypto): a
// validrcptto build of a million addresses should not pay for the others.
const load = {
  auth: () => import("../../lib/cdb/auth"),
  summary: () => import("../../lib/cdb/summary"),
  tcprules: () => import("../../lib/cdb/tcprules"),
  validrcptto: () => import("../../lib/cdb/validrcptto"),
  writer: () => import("../../lib/cdb/writer"),
};

const SALT_SECRET_VARIABLE = "QMAIL_FLEET_SALT_SECRET";

const COMMON_OPTIONS = `
options:
  -o, --output FILE   where to write the cdb (built in a temporary file beside it, then renamed)
  --diff              compare with the FILE being replaced and report keys added (+), removed (-)
                      and changed (~); only key names are printed
  -h, --help          this help

INPUT may be '-' for standard input. Exit status 0 on success, 1 on any error
(the message names the input line).`;

const HELP: Record<CdbKind | "overview", string> = {
  overview: `usage: qmail-fleet cdb <validrcptto|tcprules|auth> INPUT -o FILE [--diff]

Builds the cdb files qmail-smtpd and tcpserver read, byte-identical to the
Debian tools (cdbmake, cdb -c, tcprules) for the same records.

  validrcptto   list of valid recipients -> validrcptto.cdb (VALIDRCPTTO_CDB)
  tcprules      tcprules source           -> rules cdb (tcpserver -x)
  auth          users file                -> auth.cdb (AUTH_CDB)

Run \`qmail-fleet cdb <kind> --help\` for the input format.

  qmail-fleet cdb dump <validrcptto|tcprules|auth> CDB
                prints a cdb back in its config form (see cdb dump --help)`,
  validrcptto: `usage: qmail-fleet cdb validrcptto INPUT -o validrcptto.cdb [--diff]

INPUT: one entry per line; '#' comment lines and blank lines are ignored,
surrounding spaces are ignored.
  user@example.com            accept this address
  list-default@example.com    accept list-<anything>@example.com
  @example.com                accept every address at example.com (catch-all)
  !user@example.com           reject explicitly (also for -default and @domain)
Keys are lower-cased, de-duplicated and sorted, so the same set always gives
the same bytes. Value in the cdb: empty = accept, "-" = reject.
${COMMON_OPTIONS}`,
  tcprules: `usage: qmail-fleet cdb tcprules INPUT -o tcp.smtp.cdb [--diff]

INPUT: tcprules source, one rule per line, first match wins:
  127.:allow,RELAYCLIENT=""
  1.2.3.40-50:deny
  =.example.com:allow
  joe@10.0.0.1:allow,X="1"
  :allow
Same syntax and same output as ucspi-tcp's tcprules, except that a line with
no ':' and a variable with no '=value' are errors here (tcprules silently
drops or mangles them).
${COMMON_OPTIONS}`,
  auth: `usage: ${SALT_SECRET_VARIABLE}=... qmail-fleet cdb auth INPUT -o auth.cdb [--diff]

INPUT: users file, one attribute per line, USER:ATTRIBUTE:VALUE
  alice@example.com:hash:$6$...             ready crypt hash ($1$, $5$, $6$, $y$)
  bob@example.com:plain:correct horse       plain password: the rest of the line, verbatim
  bob@example.com:expires:2027-01-31        unix seconds, YYYY-MM-DD (UTC) or ISO time with zone
  bob@example.com:env:QMAILQUEUE=/var/qmail/bin/simscan
Plain passwords are hashed with SHA-512 crypt; each salt is derived from the
secret in ${SALT_SECRET_VARIABLE} (at least 16 bytes, required when the file holds
plain passwords) and the user name, so a rebuild gives the same bytes. Keep the
users file private; passwords are read only from it, never from the command
line, and never printed. The output is created with mode 0600.
${COMMON_OPTIONS}`,
};

interface Arguments {
  kind?: string;
  input?: string;
  output?: string;
  diff: boolean;
  help: boolean;
}

function parseArguments(args: string[]): Arguments | string {
  const parsed: Arguments = { diff: false, help: false };
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "-h" || arg === "--help") parsed.help = true;
    else if (arg === "--diff") parsed.diff = true;
    else if (arg === "-o" || arg === "--output") {
      if (i + 1 >= args.length) return `${arg} needs a file name`;
      parsed.output = args[++i];
    } else if (arg.startsWith("--output=")) parsed.output = arg.slice("--output=".length);
    else if (arg.startsWith("-") && arg !== "-") return `unknown option ${arg}`;
    else positional.push(arg);
  }
  if (positional.length > 2) return `too many arguments: ${positional.slice(2).join(" ")}`;
  [parsed.kind, parsed.input] = positional;
  return parsed;
}

function readInput(input: string): Buffer {
  return fs.readFileSync(input === "-" ? 0 : input);
}

function previousBuild(output: string): Buffer | undefined {
  try {
    return fs.readFileSync(output);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

async function build(kind: CdbKind, input: string, output: string, diff: boolean): Promise<string> {
  const previous = diff ? previousBuild(output) : undefined;
  const fileName = output.split("/").pop()!;
  if (kind === "validrcptto") {
    const count = (await load.validrcptto()).writeValidRcptToFile(input === "-" ? readInput(input) : { path: input }, output);
    const summary = await load.summary();
    return diff ? summary.summarizeCdb(kind, fs.readFileSync(output), previous, fileName).line : summary.cdbCountLine(kind, count, fileName);
  }
  let bytes: Buffer;
  if (kind === "tcprules") {
    bytes = (await load.tcprules()).buildTcpRules(readInput(input));
    (await load.writer()).writeFileAtomically(output, bytes);
  } else {
    const auth = await load.auth();
    const { users, lineOf } = auth.parseAuthSource(readInput(input).toString("utf8"));
    bytes = auth.buildAuthCdb(users, { saltSecret: process.env[SALT_SECRET_VARIABLE] }, lineOf);
    (await load.writer()).writeFileAtomically(output, bytes, 0o600);
  }
  const summary = await load.summary();
  return diff ? summary.summarizeCdb(kind, bytes, previous, fileName).line : summary.cdbCountLine(kind, summary.cdbRecordCount(bytes), fileName);
}

// Errors about the input, reported as they are; anything else is a bug.
const INPUT_ERRORS = new Set(["ValidRcptToSourceError", "TcpRulesSourceError", "AuthSourceError", "CdbTooLargeError"]);

/**
 * A file system error as the operator can act on it: which of their files it
 * concerns (the input, or the output, not the temporary file beside it) and
 * why, with the error code.
 */
function fileErrorMessage(err: NodeJS.ErrnoException & { dest?: string }, input: string, output: string): string {
  const why = /^[A-Z]+: ([^,]+)/.exec(err.message)?.[1] ?? err.message;
  const reason = `${why}${err.code ? ` (${err.code})` : ""}`;
  const outputDir = path.dirname(path.resolve(output));
  const at = err.path === undefined ? undefined : path.resolve(err.path);
  const aboutOutput =
    err.dest !== undefined ||
    ["write", "fsync", "fdatasync", "rename"].includes(err.syscall ?? "") ||
    (at !== undefined && at !== path.resolve(input) && (at === path.resolve(output) || path.dirname(at) === outputDir));
  if (!aboutOutput) return `cannot read ${input === "-" ? "standard input" : input}: ${reason}`;
  const hint = err.code === "ENOENT" ? `; the directory ${outputDir} must exist` : err.code === "ENOTDIR" ? `; ${outputDir} must be a directory` : "";
  return `cannot write ${output}: ${reason}${hint}`;
}

export const cdbCommand: Command = {
  summary: "build validrcptto.cdb, tcprules cdb or auth.cdb (byte-identical to the Debian tools), or dump one back to config form",
  async run(args: string[]): Promise<number> {
    if (args[0] === "dump") return (await import("./cdb-dump")).runDump(args.slice(1));
    const parsed = parseArguments(args);
    if (typeof parsed === "string") {
      process.stderr.write(`qmail-fleet cdb: ${parsed}\n${HELP.overview}\n`);
      return 1;
    }
    const kind = parsed.kind;
    if (kind === undefined || !(kind in HELP) || kind === "overview") {
      if (parsed.help && kind === undefined) {
        process.stdout.write(HELP.overview + "\n");
        return 0;
      }
      process.stderr.write(`${kind === undefined ? "qmail-fleet cdb: which cdb?" : `qmail-fleet cdb: unknown kind '${kind}'`}\n${HELP.overview}\n`);
      return 1;
    }
    const cdbKind = kind as CdbKind;
    if (parsed.help) {
      process.stdout.write(HELP[cdbKind] + "\n");
      return 0;
    }
    if (parsed.input === undefined || parsed.output === undefined) {
      process.stderr.write(`qmail-fleet cdb ${cdbKind}: ${parsed.input === undefined ? "INPUT" : "-o FILE"} is missing\n${HELP[cdbKind]}\n`);
      return 1;
    }
    try {
      process.stdout.write((await build(cdbKind, parsed.input, parsed.output, parsed.diff)) + "\n");
      return 0;
    } catch (err) {
      const fileError = (err as NodeJS.ErrnoException).code !== undefined;
      const known = (err instanceof Error && INPUT_ERRORS.has(err.name)) || fileError;
      const message = fileError ? fileErrorMessage(err as NodeJS.ErrnoException, parsed.input, parsed.output) : err instanceof Error ? err.message : String(err);
      process.stderr.write(`qmail-fleet cdb ${cdbKind}: ${known ? message : `internal error: ${message}`}\n`);
      return 1;
    }
  },
};
