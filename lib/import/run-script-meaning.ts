// What a run script runs, whatever its layout: the final exec chain (each
// program with its arguments, variables expanded where their value is
// known), the environment the last program gets, limits and the user. Two
// scripts that run the same thing have equal meanings (sameMeaning), however
// differently they are written. Pure: what only the host can tell (ids, the
// first line of control/me, envdir contents) comes in as facts, or stays a
// named unknown.
import * as path from "node:path";
import { readShellCommands, ShellSyntaxError, type CompoundCommand, type ShellCommand, type SimpleCommand, type Word } from "./shell-words";
import {
  canonicalText,
  joinValues,
  knownValue,
  lookupValue,
  valueText,
  type Lookup,
  type ScriptValue,
} from "./script-value";

/** What the host can tell about things a script looks up. */
export interface HostFacts {
  /** Numeric ids by user name: `id -u NAME` and `id -g NAME`. */
  users?: Record<string, { uid: string; gid: string }>;
  /** Text of files by absolute path (or relative to serviceDir when that is not given). */
  files?: Record<string, string>;
  /** envdir directories by path: each variable's value, or null for an empty file (unset). */
  envdirs?: Record<string, Record<string, string | null>>;
  /** Output of other commands by their text, e.g. `hostname`. */
  commands?: Record<string, string>;
  /** Files the host was asked for and does not have (so `cat FILE || echo X` gives X). */
  absentFiles?: string[];
}

export interface MeaningOptions {
  /** The service directory the script runs in (relative paths are resolved against it). */
  serviceDir?: string;
  facts?: HostFacts;
  /** Variables the script starts with, exported (the environment an `sh -c` script gets). */
  inherited?: Map<string, ScriptValue>;
  /** The line of the enclosing file the script's first line is on (an `sh -c` script's); default 1. */
  firstLine?: number;
}

export interface ChainStage {
  /** The program as the script names it (relative paths resolved against the directory it runs in). */
  program: ScriptValue;
  /** The program's name as written, where it was relative to the directory the script `cd`s to (it is argv[0]). */
  relativeName?: string;
  /** Its arguments; for tcpserver, sslserver, rblsmtpd and softlimit in one canonical form (see effectiveOptions). */
  args: ScriptValue[];
  /** Effective options of tcpserver, sslserver, rblsmtpd and softlimit by letter (true for a flag). */
  options?: Map<string, ScriptValue | true>;
  /** tcpserver's and sslserver's address and port (a port name given as its number). */
  operands?: ScriptValue[];
  /** rblsmtpd's -a and -r lists, in order. */
  lists?: Array<[string, ScriptValue]>;
  /** env, envdir, envuidgid: they only set variables, which `environment` holds. */
  environmentOnly?: boolean;
  /** 1-based line of the exec command. */
  line: number;
}

/** Something in the script this reading does not evaluate, or that has no effect on what runs. */
export interface ScriptNote {
  line: number;
  endLine: number;
  text: string;
  reason: string;
  /** What the reading took the construct to do instead of leaving it out, e.g. `VAR=value`. */
  assumed?: string;
}

export interface RunScriptMeaning {
  chain: ChainStage[];
  /** Variables the last program gets from the script (null: removed). Inherited ones are not listed. */
  environment: Map<string, ScriptValue | null>;
  /** True when `env -i` (or `env -`) started from an empty environment. */
  environmentCleared: boolean;
  /** envdir directories whose contents the facts did not give. */
  environmentFrom: string[];
  /** The envdir file each variable of the environment came from, where it came from one. */
  environmentFiles: Map<string, string>;
  /** Variables of the environment an `sh -c` script reads (their use is imported from its command line). */
  shellReads: Set<string>;
  /** softlimit flags and ulimit settings, e.g. `softlimit -m` → `2000000`. */
  limits: Map<string, string>;
  /** Where stderr goes: true when `exec 2>&1` (or `2>&1` on the exec) sends it to the log. */
  stderrToLog: boolean;
  /** Lines run before the exec that are not plain settings (start-up checks, function calls, ...). */
  notes: ScriptNote[];
  /** Shell variables at the exec (exported or not), for readers that map values back to options. */
  variables: Map<string, { value: ScriptValue; exported: boolean; line: number }>;
}

export class RunScriptError extends Error {
  constructor(
    message: string,
    /** The script's line the problem is on, where one is to blame. */
    readonly line?: number,
  ) {
    super(message);
  }
}

interface State {
  variables: Map<string, { value: ScriptValue; exported: boolean; line: number }>;
  cwd: string;
  notes: ScriptNote[];
  limits: Map<string, string>;
  stderrToLog: boolean;
  /** Variables `unset` removed and not set since: empty in the script, absent from the program's environment. */
  unset: Set<string>;
  /** The line being read, for variables `${NAME:=default}` sets. */
  line: number;
  exec?: { command: SimpleCommand; prefix: Array<[string, ScriptValue]> };
}

/** Service names run scripts use for their port, as /etc/services has them. */
const PORT_NAMES: Record<string, string> = { smtp: "25", submission: "587", smtps: "465", ssmtp: "465", urd: "465" };

/**
 * How a program's options combine: letters that cancel each other (the last
 * one given wins) and values that equal the program's default (as good as
 * absent). So `-vRH -c50` and `-H -v -c 50 -R` compare equal.
 */
interface OptionRules {
  exclusive: string[];
  defaults: Record<string, string | true>;
  /** Options whose value the program reads as a decimal number (scan_ulong): `-c 040` is `-c 40`. */
  numeric?: string;
}

// tcpserver(1): -Q, -h, -P, -r, -O, -c 40, -t 26 and -d ("currently the
// default") are documented; -b 20 is tcpserver.c's initial backlog.
const TCPSERVER_OPTIONS: OptionRules = {
  exclusive: ["qQv", "hH", "pP", "rR", "oO", "dD"],
  defaults: { Q: true, h: true, P: true, r: true, O: true, d: true, c: "40", b: "20", t: "26" },
  numeric: "cbt",
};
// sslserver's -d default is not documented alike, so only the options it shares for certain.
const SSLSERVER_OPTIONS: OptionRules = {
  exclusive: ["qQv", "hH", "pP", "rR", "oO", "dD", "eE", "sS", "nN"],
  defaults: { Q: true, h: true, P: true, r: true, O: true, c: "40", b: "20", t: "26" },
  numeric: "cbt",
};
const RBLSMTPD_OPTIONS: OptionRules = { exclusive: ["bB", "cC"], defaults: { B: true, C: true, t: "60" }, numeric: "t" };
const SOFTLIMIT_OPTIONS: OptionRules = { exclusive: [], defaults: {} };

function effectiveOptions(given: Array<[string, ScriptValue | undefined]>, rules: OptionRules): Map<string, ScriptValue | true> {
  const effective = new Map<string, ScriptValue | true>();
  for (const [letter, value] of given) {
    const group = rules.exclusive.find((letters) => letters.includes(letter));
    if (group) for (const other of group) effective.delete(other);
    effective.set(letter, value !== undefined && rules.numeric?.includes(letter) ? decimal(value) : value ?? true);
  }
  for (const [letter, value] of [...effective]) {
    const fallback = rules.defaults[letter];
    if (fallback === true ? value === true : fallback !== undefined && value !== true && valueText(value) === fallback) effective.delete(letter);
  }
  return new Map([...effective].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** A number as the program reads it: leading zeros mean nothing to scan_ulong. */
function decimal(value: ScriptValue): ScriptValue {
  const text = valueText(value);
  return text !== undefined && /^[0-9]+$/.test(text) ? knownValue(String(Number(text))) : value;
}

/** multilog's settings for the directories after them when the script does not set them (multilog(8)). */
const MULTILOG_DEFAULTS: Record<string, string> = { s: "s99999", n: "n10" };

/**
 * A multilog script with its size (s) and number (n) settings moved to just
 * before each directory they apply to, and left out where they are multilog's
 * default: `t s99999 n10 ./main` runs as `t ./main`, and a setting after the
 * last directory applies to nothing. Other actions stay where they are.
 */
function multilogActions(actions: ScriptValue[]): ScriptValue[] {
  const current: Record<string, ScriptValue> = Object.fromEntries(Object.entries(MULTILOG_DEFAULTS).map(([letter, text]) => [letter, knownValue(text)]));
  const result: ScriptValue[] = [];
  for (const action of actions) {
    const head = action.segments[0];
    const letter = typeof head === "string" ? head[0] : undefined;
    if (letter !== undefined && letter in MULTILOG_DEFAULTS) {
      const text = valueText(action);
      current[letter] = text !== undefined && /^.[0-9]+$/.test(text) ? knownValue(`${letter}${Number(text.slice(1))}`) : action;
      continue;
    }
    if (letter === "." || letter === "/")
      for (const [setting, fallback] of Object.entries(MULTILOG_DEFAULTS)) if (valueText(current[setting]) !== fallback) result.push(current[setting]);
    result.push(action);
  }
  return result;
}

function optionWords(options: Map<string, ScriptValue | true>): ScriptValue[] {
  return [...options].flatMap(([letter, value]) => (value === true ? [knownValue(`-${letter}`)] : [knownValue(`-${letter}`), value]));
}

/** Variables a supervised script inherits from svscan and that stay exported when assigned. */
const INHERITED_EXPORTED = new Set(["PATH"]);

export function runScriptMeaning(text: string, options: MeaningOptions = {}): RunScriptMeaning {
  const facts = options.facts ?? {};
  const state: State = {
    variables: new Map(),
    cwd: options.serviceDir ?? ".",
    notes: [],
    limits: new Map(),
    stderrToLog: false,
    unset: new Set(),
    line: 0,
  };
  for (const [name, value] of options.inherited ?? []) state.variables.set(name, { value, exported: true, line: 0 });
  // A script saved with DOS line ends cannot start: the kernel looks for the interpreter "/bin/sh\r".
  if (options.firstLine === undefined && text.includes("\r\n"))
    throw new RunScriptError(
      "line 1: CRLF (DOS) line endings: the script cannot start (its interpreter reads as \"/bin/sh\\r\"), so this service does not run on the host today; convert the file to LF line endings (dos2unix), check that the service runs, then import it",
      1,
    );
  let commands;
  try {
    const shift = (options.firstLine ?? 1) - 1;
    commands = readShellCommands(text).map((c) => ({ ...c, line: c.line + shift, endLine: c.endLine + shift }));
  } catch (error) {
    if (error instanceof ShellSyntaxError) {
      const line = error.line + (options.firstLine ?? 1) - 1;
      throw new RunScriptError(`cannot read the script: line ${line}: ${error.message.replace(/^line [0-9]+: /, "")}`, line);
    }
    throw error;
  }
  const note = (c: { line: number; endLine: number; text: string }, reason: string) =>
    state.notes.push({ line: c.line, endLine: c.endLine, text: firstLine(c.text), reason });

  for (let index = 0; index < commands.length; index++) {
    const command = commands[index];
    if (state.exec) {
      note(command, "after the final exec: never runs");
      continue;
    }
    if (command.kind === "compound") {
      const assigned = assignedNames(command.text);
      if (command.keyword === "if" && evaluateIf(command, state, facts)) continue;
      if (command.keyword === "for" && evaluateExportLoop(command, state)) continue;
      if (command.keyword === "if" && assigned.length > 0) {
        conditionalAssignment(command, assigned, state, facts);
        continue;
      }
      if (command.keyword === "case" && evaluateCase(command, state, facts)) continue;
      note(command, `${describeCompound(command.keyword)}: not evaluated`);
      // Variables it may set are no longer known.
      for (const name of assigned) {
        state.variables.set(name, {
          value: lookupValue({ kind: "command", subject: `${name} as set at line ${command.line}` }),
          exported: state.variables.get(name)?.exported ?? INHERITED_EXPORTED.has(name),
          line: command.line,
        });
      }
      continue;
    }
    if (command.joinedBy === "||" && isExitOnFailure(command)) continue; // `X=$(id -u u) || exit 111`
    if (!state.exec && settingAfterCheck(command, commands[index + 1], commands[index + 2], state, facts)) {
      index++;
      continue;
    }
    if (command.joinedBy === "&&" || command.joinedBy === "||" || command.joinedBy === "|" || command.joinedBy === "&") {
      note(command, `joined by '${command.joinedBy}': not evaluated`);
      continue;
    }
    if (command === commands[commands.length - 1] && runsWithoutExec(command) && !backgrounded(text, command.endLine - (options.firstLine ?? 1) + 1)) {
      // The last command runs a server without exec: the shell stays the supervised process.
      state.exec = { command, prefix: [] };
      for (const redirection of command.redirections) if (redirection === "2>&1") state.stderrToLog = true;
      state.notes.push({
        line: command.line,
        endLine: command.endLine,
        text: firstLine(command.text),
        reason: "the server is run without exec: the shell stays the supervised process, so svc's signals reach the shell, not the server",
        assumed: "the import reads it as the final exec; the rendered script runs it with exec",
      });
      continue;
    }
    runSimple(command, state, facts, note);
  }
  if (!state.exec) throw noFinalExec(commands);
  const broken = brokenContinuation(text, state.exec.command, (options.firstLine ?? 1) - 1);
  if (broken !== undefined)
    throw new RunScriptError(
      `line ${broken}: the line ends in a backslash followed by a space, so it does not continue on line ${broken + 1}: the shell ends the exec at line ${broken}, so this service does not run on the host today; delete the blank after the backslash, check that the service runs, then import it`,
      broken,
    );
  return chainMeaning(state, facts);
}

/** Why no exec was found: one inside a block the reading does not choose a branch of, by line, or none at all. */
function noFinalExec(commands: ShellCommand[]): RunScriptError {
  for (const command of commands) {
    if (command.kind !== "compound") continue;
    // `exec PROGRAM`, not `exec 2>&1`, on any of the block's lines.
    const execLines = command.text
      .split("\n")
      .flatMap((text, i) => (/(^|[;&|({ \t])exec[ \t]+(?![0-9]*[<>])[^ \t#;]/.test(text) ? [command.line + i] : []));
    if (execLines.length === 0) continue;
    const block = command.keyword === "if" ? "an if/else" : describeCompound(command.keyword);
    const where = execLines.length === 1 ? `line ${execLines[0]}` : `lines ${execLines.join(", ")}`;
    return new RunScriptError(
      `line ${command.line}: the server's exec (${where}) is inside ${block} (lines ${command.line}-${command.endLine}) whose branches the import does not choose between: nothing to import; write the run script with the one exec the host runs as its last line, check that the service runs, then import it`,
      command.line,
    );
  }
  return new RunScriptError("the script has no final `exec` of a server: nothing to import", commands[commands.length - 1]?.line);
}

/**
 * The line of the exec command that ends in `\ ` (a backslash, then blanks)
 * with more to come: the shell reads an escaped space and ends the command,
 * so what was meant as its next line runs, if ever, as a command of its own.
 */
function brokenContinuation(text: string, exec: SimpleCommand, shift: number): number | undefined {
  const lines = text.split("\n");
  const last = exec.endLine - shift;
  const ending = /(^|[^\\])(\\\\)*\\[ \t]+$/;
  if (!ending.test(lines[last - 1] ?? "")) return undefined;
  return lines.slice(last).some((line) => line.trim() !== "" && !line.trim().startsWith("#")) ? last + shift : undefined;
}

function runSimple(
  command: SimpleCommand,
  state: State,
  facts: HostFacts,
  note: (c: SimpleCommand, reason: string) => void,
): void {
  state.line = command.line;
  const words = command.words;
  // Leading NAME=value words.
  const assignments: Array<[string, ScriptValue]> = [];
  let index = 0;
  for (; index < words.length; index++) {
    const assignment = splitAssignment(words[index]);
    if (!assignment) break;
    assignments.push([assignment.name, expandJoined(assignment.value, state, facts)]);
  }
  const rest = words.slice(index);
  if (rest.length === 0) {
    for (const [name, value] of assignments) {
      const old = state.variables.get(name);
      state.variables.set(name, { value, exported: old?.exported ?? INHERITED_EXPORTED.has(name), line: command.line });
    }
    if (command.redirections.length > 0) note(command, "redirection of an assignment: not evaluated");
    return;
  }
  const name = wordText(rest[0]);
  if (name === "export") {
    for (const word of rest.slice(1)) {
      const assignment = splitAssignment(word);
      if (assignment) {
        state.variables.set(assignment.name, { value: expandJoined(assignment.value, state, facts), exported: true, line: command.line });
      } else {
        const variable = wordText(word);
        if (variable === undefined || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(variable)) {
          note(command, "export of something other than a variable name");
          continue;
        }
        const old = state.variables.get(variable);
        if (!old && state.unset.has(variable)) continue; // exported, but still unset
        state.variables.set(variable, {
          value: old?.value ?? lookupValue({ kind: "inherited", subject: variable }),
          exported: true,
          line: old ? old.line : command.line,
        });
      }
    }
    return;
  }
  if (name === "unset" && rest.slice(1).every((word) => /^(-v|[A-Za-z_][A-Za-z0-9_]*)$/.test(wordText(word) ?? ""))) {
    for (const word of rest.slice(1)) {
      const variable = wordText(word)!;
      if (variable === "-v") continue;
      state.variables.delete(variable);
      state.unset.add(variable);
    }
    return;
  }
  // `readonly NAME=value` assigns as `NAME=value` does; `readonly NAME` changes no value.
  if (name === "readonly" && rest.length > 1 && rest.slice(1).every((word) => splitAssignment(word) || /^[A-Za-z_][A-Za-z0-9_]*$/.test(wordText(word) ?? ""))) {
    for (const word of rest.slice(1)) {
      const assignment = splitAssignment(word);
      if (!assignment) continue;
      const old = state.variables.get(assignment.name);
      state.variables.set(assignment.name, { value: expandJoined(assignment.value, state, facts), exported: old?.exported ?? INHERITED_EXPORTED.has(assignment.name), line: command.line });
    }
    return;
  }
  // `: ${IP:=192.0.2.10}`: the expansions are all it does (they may set variables).
  if (name === ":" && rest.slice(1).every((word) => word.every((part) => part.kind === "variable"))) {
    for (const word of rest.slice(1)) expandJoined(word, state, facts);
    return;
  }
  if (name === "exec") {
    if (rest.length === 1) {
      // `exec 2>&1` (or another redirection of the script itself)
      for (const redirection of command.redirections) {
        if (redirection === "2>&1") state.stderrToLog = true;
        else note(command, `redirection ${redirection}: not evaluated`);
      }
      return;
    }
    state.exec = { command: { ...command, words: rest.slice(1) }, prefix: assignments };
    for (const redirection of command.redirections) {
      if (redirection === "2>&1") state.stderrToLog = true;
      else note(command, `redirection ${redirection}: not evaluated`);
    }
    return;
  }
  if (name === "cd" && rest.length === 2) {
    const dir = valueText(expandJoined(rest[1], state, facts));
    if (dir !== undefined) {
      state.cwd = dir.startsWith("/") ? path.posix.normalize(dir) : path.posix.join(state.cwd, dir);
      return;
    }
  }
  if ((name === "." || name === "source") && rest.length === 2) {
    sourceFile(command, valueText(expandJoined(rest[1], state, facts)), state, facts, note);
    return;
  }
  if (name === "ulimit" && rest.length >= 2) {
    const args = rest.slice(1).map((w) => wordText(w) ?? "?");
    state.limits.set(`ulimit ${args.slice(0, -1).join(" ")}`.trim(), args[args.length - 1]);
    note(command, "ulimit: a limit of the script's own shell");
    return;
  }
  note(command, "a command run before the exec: not evaluated");
}

/** Servers whose run without exec still is the service (a shell left between supervise and it). */
const SERVERS = new Set(["tcpserver", "sslserver", "softlimit", "setuidgid", "envuidgid", "envdir", "chpst", "env"]);

function runsWithoutExec(command: SimpleCommand): boolean {
  if (command.joinedBy !== ";" || command.words.length === 0 || splitAssignment(command.words[0])) return false;
  const name = wordText(command.words[0]);
  if (name === undefined) return false;
  return SERVERS.has(path.posix.basename(name));
}

/** True when the script's line ends its command with `&`: started in the background, the script then exits. */
function backgrounded(script: string, line: number): boolean {
  return /(^|[^&])&[ \t]*(#.*)?$/.test(script.split("\n")[line - 1] ?? "");
}

/**
 * `. /var/qmail/control/conf-common` (Gentoo's run scripts): a file of plain
 * settings is read as if its lines were the script's, at the line that sources
 * it. A file that does more, or that the host does not have, is named.
 */
function sourceFile(command: SimpleCommand, file: string | undefined, state: State, facts: HostFacts, note: (c: SimpleCommand, reason: string) => void): void {
  if (file === undefined) return note(command, "sources a file whose name depends on the host: not evaluated");
  const resolved = file.startsWith("/") ? path.posix.normalize(file) : path.posix.join(state.cwd, file);
  const text = facts.files?.[resolved];
  if (text === undefined)
    return note(command, facts.absentFiles?.includes(resolved) ? `sources ${resolved}, which the host does not have: not evaluated` : `sources ${resolved}, which was not read: not evaluated`);
  let commands;
  try {
    commands = readShellCommands(text);
  } catch {
    return note(command, `sources ${resolved}, which this reading cannot parse: not evaluated`);
  }
  if (!onlySettings(commands)) return note(command, `sources ${resolved}, which does more than set variables: not evaluated`);
  for (const simple of commands) runSimple({ ...simple, line: command.line }, state, facts, () => undefined);
}

/**
 * `test -f FILE && VAR=value` (or `|| VAR=value`): a setting that runs on a
 * check's outcome, read as the if form is. A check on values the reading
 * knows is evaluated; otherwise the setting is taken to run and the note
 * says so. False when the pair is not of this form.
 */
function settingAfterCheck(check: SimpleCommand, setting: ShellCommand | undefined, after: ShellCommand | undefined, state: State, facts: HostFacts): boolean {
  if (setting?.kind !== "simple" || (setting.joinedBy !== "&&" && setting.joinedBy !== "||") || !onlySettings([{ ...setting, joinedBy: ";" }])) return false;
  if (after?.kind === "simple" && after.joinedBy !== ";") return false; // a longer list: named as before
  const runsOnSuccess = setting.joinedBy === "&&";
  const result = testResult(check.text, state, facts);
  if (result !== undefined) {
    if (result === runsOnSuccess) runSimple(setting, state, facts, () => undefined);
    return true;
  }
  runSimple(setting, state, facts, () => undefined);
  const names = assignedNames(setting.text.replace(/^export\s+/, ""));
  const values = names.map((name) => {
    const variable = state.variables.get(name)!;
    return `${name}=${canonicalText(variable.value)}${variable.exported ? " (exported)" : " (not exported)"}`;
  });
  state.notes.push({
    line: check.line,
    endLine: setting.endLine,
    text: firstLine(check.text),
    reason: `a setting of ${names.join(", ")} joined to a check by '${setting.joinedBy}' (a conditional variable assignment): the check is not evaluated`,
    assumed: `the import assumed the check ${runsOnSuccess ? "succeeds" : "fails"}, so ${values.join(", ")}; if it does not on the host, change the imported option by hand`,
  });
  return true;
}

/**
 * `if COND; then VAR=value; export VAR; fi`: a variable set on a condition the
 * reading cannot test. When the then-branch only sets variables, the reading
 * takes it (what a check such as `[ -f control/validrcptto.cdb ]` finds on a
 * host in service) and says so; otherwise the variables become unknown.
 */
function conditionalAssignment(command: CompoundCommand, names: string[], state: State, facts: HostFacts): void {
  const what = `an if block that sets ${names.join(", ")} (a conditional variable assignment)`;
  const noteIt = (reason: string, assumed: string) =>
    state.notes.push({ line: command.line, endLine: command.endLine, text: firstLine(command.text), reason, assumed });
  const branch = thenBranch(command.text);
  if (branch) {
    for (const simple of branch.commands)
      runSimple({ ...simple, line: command.line + branch.lineOffset + simple.line - 1 }, state, facts, () => undefined);
    const values = names.map((name) => {
      const variable = state.variables.get(name)!;
      return `${name}=${canonicalText(variable.value)}${variable.exported ? " (exported)" : " (not exported)"}`;
    });
    noteIt(`${what}: its condition is not evaluated`, `the import assumed the condition holds, so ${values.join(", ")}; if it does not hold on the host, change the imported option by hand`);
    return;
  }
  for (const name of names)
    state.variables.set(name, {
      value: lookupValue({ kind: "command", subject: `${name} as set at line ${command.line}` }),
      exported: state.variables.get(name)?.exported || INHERITED_EXPORTED.has(name) || new RegExp(`\\bexport\\s+([^;\\n]*\\s)?${name}\\b`).test(command.text),
      line: command.line,
    });
  noteIt(`${what}: not evaluated`, `the import takes ${names.join(", ")} as unknown (its value depends on the host): set the option by hand`);
}

/**
 * `if [ "$SSL" = "1" ]; then PROG="sslserver -e"; else PROG=tcpserver; fi`
 * whose conditions test values the reading knows, and whose branches only set
 * variables: run as the shell would, the branch the values select. False when
 * it cannot be (a condition depends on the host, a branch does more).
 */
function evaluateIf(command: CompoundCommand, state: State, facts: HostFacts): boolean {
  const sections = ifSections(command.text);
  if (!sections) return false;
  for (const section of sections) {
    let holds = true;
    if (section.condition !== undefined) {
      const result = testResult(section.condition, state, facts);
      if (result === undefined) return false;
      holds = result;
    }
    if (!holds) continue;
    let body;
    try {
      body = readShellCommands(section.body);
    } catch {
      return false;
    }
    if (!onlySettings(body)) return false;
    for (const simple of body) runSimple({ ...simple, line: command.line + section.bodyLine + simple.line - 1 }, state, facts, () => undefined);
    return true;
  }
  return true; // no condition holds and there is no else: nothing runs
}

/** An if block's parts: each condition with its branch (the else branch has none), lines counted from the block's first. */
function ifSections(text: string): Array<{ condition?: string; body: string; bodyLine: number }> | undefined {
  const keywords = [...text.matchAll(/(^|[;\n])([ \t]*)(if|then|elif|else|fi)(?=[\s;]|$)/g)].map((m) => ({
    word: m[3],
    start: m.index! + m[1].length + m[2].length,
    end: m.index! + m[0].length,
  }));
  // Plain if ... then ... [elif ... then ...]* [else ...] fi, nothing nested.
  if (keywords[0]?.word !== "if" || keywords[0].start !== 0 || keywords[keywords.length - 1].word !== "fi") return undefined;
  const lineOf = (at: number) => text.slice(0, at).split("\n").length - 1;
  const sections: Array<{ condition?: string; body: string; bodyLine: number }> = [];
  for (let i = 0; i < keywords.length - 1; i++) {
    const { word } = keywords[i];
    const next = keywords[i + 1];
    if (word === "if" || word === "elif") {
      if (next.word !== "then") return undefined;
      const after = keywords[i + 2];
      if (!after || !["elif", "else", "fi"].includes(after.word)) return undefined;
      sections.push({ condition: text.slice(keywords[i].end, next.start), body: text.slice(next.end, after.start), bodyLine: lineOf(next.end) });
      i++;
    } else if (word === "else") {
      if (next.word !== "fi" || i + 1 !== keywords.length - 1) return undefined;
      sections.push({ body: text.slice(keywords[i].end, next.start), bodyLine: lineOf(keywords[i].end) });
    } else return undefined;
  }
  return sections;
}

/** A condition `[ A = B ]`, `[ A != B ]`, `[ -n A ]`, `[ -z A ]` (or `test ...`) on known values; undefined otherwise. */
function testResult(condition: string, state: State, facts: HostFacts): boolean | undefined {
  let commands;
  try {
    commands = readShellCommands(condition);
  } catch {
    return undefined;
  }
  const [only, ...more] = commands;
  if (only?.kind !== "simple" || more.length > 0 || only.redirections.length > 0) return undefined;
  const words = only.words;
  const head = wordText(words[0]);
  let operands: Word[];
  if (head === "[" && wordText(words[words.length - 1]) === "]") operands = words.slice(1, -1);
  else if (head === "test") operands = words.slice(1);
  else return undefined;
  const negated = operands.length > 0 && wordText(operands[0]) === "!";
  if (negated) operands = operands.slice(1);
  const value = (word: Word) => valueText(expandJoined(word, state, facts));
  let result: boolean | undefined;
  if (operands.length === 3 && (wordText(operands[1]) === "=" || wordText(operands[1]) === "!=")) {
    const [left, right] = [value(operands[0]), value(operands[2])];
    if (left !== undefined && right !== undefined) result = (left === right) === (wordText(operands[1]) === "=");
  } else if (operands.length === 2 && (wordText(operands[0]) === "-n" || wordText(operands[0]) === "-z")) {
    const operand = value(operands[1]);
    if (operand !== undefined) result = (operand !== "") === (wordText(operands[0]) === "-n");
  } else if (operands.length === 1) {
    const operand = value(operands[0]);
    if (operand !== undefined) result = operand !== "";
  }
  return result === undefined ? undefined : result !== negated;
}

/**
 * The combined patch script's export loop:
 *   for V in SMTPGREETING GREETDELAY ...; do
 *     eval "X=\${$V:-}"; if [ -n "$X" ]; then export $V; fi
 *   done
 * (or a bare `export $V`): exports each listed variable the script set (set
 * and not empty, when guarded), as the shell would. False for any other loop.
 */
function evaluateExportLoop(command: CompoundCommand, state: State): boolean {
  const loop = /^for\s+([A-Za-z_][A-Za-z0-9_]*)\s+in\s+([\s\S]*?)\s*[;\n]\s*do\b([\s\S]*)[;\n]\s*done$/.exec(command.text);
  if (!loop) return false;
  const [, loopVariable, list, body] = loop;
  let names: string[];
  try {
    const [listed] = readShellCommands(`: ${list}`);
    if (listed?.kind !== "simple") return false;
    names = listed.words.slice(1).map((w) => wordText(w) ?? "");
  } catch {
    return false;
  }
  if (names.length === 0 || names.some((name) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))) return false;
  const v = `"?\\$\\{?${loopVariable}\\}?"?`;
  // One line, commands apart by `;` alone, whatever the layout.
  const flat = body
    .replace(/[ \t]+/g, " ")
    .replace(/ ?[;\n] ?/g, ";")
    .replace(/;+/g, ";")
    .replace(/\bthen;/g, "then ")
    .replace(/^[ ;]+|[ ;]+$/g, "");
  const plain = new RegExp(`^export ${v}$`).exec(flat);
  const guarded =
    new RegExp(`^eval "?([A-Za-z_][A-Za-z0-9_]*)=\\\\\\$\\{\\$${loopVariable}:?-?\\}"?;if \\[ -n "?\\$\\{?([A-Za-z_][A-Za-z0-9_]*)\\}?"? \\];?then export ${v};?fi$`).exec(flat) ??
    new RegExp(`^eval "?([A-Za-z_][A-Za-z0-9_]*)=\\\\\\$\\{\\$${loopVariable}:?-?\\}"?;\\[ -n "?\\$\\{?([A-Za-z_][A-Za-z0-9_]*)\\}?"? \\] ?&& ?export ${v}$`).exec(flat);
  if (!plain && !(guarded && guarded[1] === guarded[2])) return false;
  for (const name of names) {
    const variable = state.variables.get(name);
    if (!variable) continue; // not set by the script: exporting it changes nothing the reading sees
    const text = valueText(variable.value);
    if (guarded && text === "") continue;
    variable.exported = true;
  }
  return true;
}

/** The then-branch of an if block when it only assigns and exports variables. */
function thenBranch(text: string): { commands: SimpleCommand[]; lineOffset: number } | undefined {
  const head = /^if\b[\s\S]*?[;\n]\s*then\b/.exec(text);
  if (!head) return undefined;
  const rest = text.slice(head[0].length);
  const end = /[;\n]\s*(?:elif|else|fi)\b/.exec(rest);
  if (!end) return undefined;
  let commands;
  try {
    commands = readShellCommands(rest.slice(0, end.index));
  } catch {
    return undefined;
  }
  if (!onlySettings(commands) || commands.length === 0) return undefined;
  return { commands: commands as SimpleCommand[], lineOffset: head[0].split("\n").length - 1 };
}

/** True when every command only assigns or exports variables. */
function onlySettings(commands: ReturnType<typeof readShellCommands>): commands is SimpleCommand[] {
  return commands.every(
    (c) =>
      c.kind === "simple" &&
      c.joinedBy === ";" &&
      c.redirections.length === 0 &&
      (c.words.every((w) => splitAssignment(w)) || (wordText(c.words[0]) === "export" && c.words.slice(1).every((w) => splitAssignment(w) || /^[A-Za-z_][A-Za-z0-9_]*$/.test(wordText(w) ?? "")))),
  );
}

/**
 * `case "$REMOTENAME" in h) H=;; *) H=H;; esac` on a subject the reading
 * knows (an envdir file's value), whose branches only set variables: run as
 * the shell would. False when it cannot be (the caller notes it unevaluated).
 */
function evaluateCase(command: CompoundCommand, state: State, facts: HostFacts): boolean {
  const parts = /^case\s+([\s\S]+?)\s+in\b([\s\S]*)\besac$/.exec(command.text);
  if (!parts) return false;
  let subject: string | undefined;
  try {
    const [reading] = readShellCommands(`: ${parts[1]}`);
    if (reading?.kind !== "simple" || reading.words.length !== 2) return false;
    subject = valueText(expandJoined(reading.words[1], state, facts));
  } catch {
    return false;
  }
  if (subject === undefined) return false;
  const armsText = parts[2];
  let offset = command.text.indexOf(armsText);
  for (const arm of armsText.split(";;")) {
    const armStart = offset;
    offset += arm.length + 2;
    const match = /^\s*\(?\s*([^)]*?)\s*\)([\s\S]*)$/.exec(arm);
    if (!match) {
      if (arm.trim() === "") continue;
      return false;
    }
    const patterns = match[1].split("|").map((p) => unquote(p.trim()));
    if (!patterns.some((pattern) => globMatches(pattern, subject!))) continue;
    let body;
    try {
      body = readShellCommands(match[2]);
    } catch {
      return false;
    }
    if (!onlySettings(body)) return false;
    const bodyLine = command.line + command.text.slice(0, armStart + arm.indexOf(match[2])).split("\n").length - 1;
    for (const simple of body) runSimple({ ...simple, line: bodyLine + simple.line - 1 }, state, facts, () => undefined);
    return true;
  }
  return true; // no branch matches: nothing is set
}

/** A case pattern (*, ?, [...]) against a text, as the shell matches it. */
function globMatches(pattern: string, text: string): boolean {
  let source = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "*") source += "[\\s\\S]*";
    else if (c === "?") source += "[\\s\\S]";
    else if (c === "[") {
      const end = pattern.indexOf("]", i + 2);
      if (end < 0) source += "\\[";
      else {
        const inside = pattern.slice(i + 1, end).replace(/^!/, "^").replace(/\\/g, "\\\\");
        source += `[${inside}]`;
        i = end;
      }
    } else source += c.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  }
  return new RegExp(`^${source}$`).test(text);
}

function chainMeaning(state: State, facts: HostFacts): RunScriptMeaning {
  const { command, prefix } = state.exec!;
  state.line = command.line;
  const environment = new Map<string, ScriptValue | null>();
  // svscan's PATH, unset, is taken from the program; others were never there.
  for (const name of state.unset) if (!state.variables.has(name) && INHERITED_EXPORTED.has(name)) environment.set(name, null);
  for (const [name, variable] of state.variables) if (variable.exported) environment.set(name, variable.value);
  for (const [name, value] of prefix) environment.set(name, value);
  let environmentCleared = false;
  const environmentFrom: string[] = [];
  const environmentFiles = new Map<string, string>();
  const shellReads = new Set<string>();

  const fields = command.words.flatMap((word) => expandFields(word, state, facts));
  const chain: ChainStage[] = [];
  let at = 0;
  const take = () => fields[at++];
  const resolveProgram = (program: ScriptValue): ScriptValue => {
    const text = valueText(program);
    return text !== undefined && text.includes("/") && !text.startsWith("/") && state.cwd.startsWith("/")
      ? knownValue(path.posix.join(state.cwd, text))
      : program;
  };
  /** getopt-style options at `at`: grouped flags (-vRH), values glued (-c50) or apart (-c 50). */
  const takeOptions = (withValue: string): Array<[string, ScriptValue | undefined]> => {
    const options: Array<[string, ScriptValue | undefined]> = [];
    while (at < fields.length) {
      const text = valueText(fields[at]);
      if (text === "--") {
        at++;
        break;
      }
      const first = fields[at].segments[0];
      if (typeof first !== "string" || !/^-[A-Za-z0-9]/.test(first)) break;
      const word = fields[at++];
      for (let i = 1; i < first.length; i++) {
        const letter = first[i];
        if (!withValue.includes(letter)) {
          options.push([letter, undefined]);
          // -vDU"$H$R": flags only the host can tell, glued to known ones.
          if (i === first.length - 1 && word.segments.length > 1) options.push(["?", { segments: word.segments.slice(1) }]);
          continue;
        }
        const glued = { segments: [first.slice(i + 1), ...word.segments.slice(1)].filter((s) => s !== "") };
        if (glued.segments.length > 0) options.push([letter, glued]);
        else {
          const value = take();
          if (value === undefined) throw new RunScriptError(`line ${command.line}: -${letter} is missing its value`);
          options.push([letter, value]);
        }
        break;
      }
    }
    return options;
  };
  const readEnvdir = (subject: ScriptValue) => {
    const dir = canonicalText(subject);
    const resolved = path.posix.join(state.cwd, dir);
    const known = facts.envdirs?.[resolved] ?? facts.envdirs?.[dir];
    if (known)
      for (const [name, value] of Object.entries(known)) {
        environment.set(name, value === null ? null : knownValue(value));
        environmentFiles.set(name, `${resolved}/${name}`);
      }
    else environmentFrom.push(dir);
  };
  while (at < fields.length) {
    const written = take();
    const program = resolveProgram(written);
    const base = path.posix.basename(canonicalText(program));
    const stage: ChainStage = { program, args: [], line: command.line };
    if (program !== written) stage.relativeName = canonicalText(written);
    chain.push(stage);
    const arg = () => {
      const value = take();
      if (value === undefined) throw new RunScriptError(`line ${command.line}: ${base} is missing an argument`);
      stage.args.push(value);
      return value;
    };
    switch (base) {
      case "softlimit": {
        stage.options = effectiveOptions(takeOptions("mdsloapfcrt"), SOFTLIMIT_OPTIONS);
        stage.args = optionWords(stage.options);
        for (const [letter, value] of stage.options) state.limits.set(`softlimit -${letter}`, canonicalText(value as ScriptValue));
        continue;
      }
      case "setuidgid":
      case "envuidgid":
      case "envdir":
      case "pgrphack":
      case "fghack":
      case "argv0": {
        if (base === "argv0") {
          // argv0 PROGRAM NAME CHILD...: PROGRAM runs with NAME as its argv[0].
          const real = fields[at];
          if (real === undefined || fields[at + 1] === undefined) throw new RunScriptError(`line ${command.line}: argv0 is missing an argument`);
          stage.args.push(fields[at + 1]);
          fields.splice(at, 2, real);
          continue;
        }
        if (base === "pgrphack" || base === "fghack") continue;
        const subject = arg();
        stage.environmentOnly = base !== "setuidgid";
        if (base === "envuidgid") {
          const user = canonicalText(subject);
          environment.set("UID", uidOf(user, "uid", facts));
          environment.set("GID", uidOf(user, "gid", facts));
        }
        if (base === "envdir") readEnvdir(subject);
        continue;
      }
      case "chpst": {
        // runit's chpst: -U user[:group] as envuidgid, -e dir as envdir; -u, limits and the rest change how the server runs.
        let more = false;
        while (at < fields.length) {
          const text = valueText(fields[at]);
          if (text === undefined || !/^-[A-Za-z0-9/]/.test(text)) break;
          arg();
          const letter = text[1];
          if ("P012v".includes(letter)) {
            more ||= letter !== "v";
            continue;
          }
          const value = text.length > 2 ? knownValue(text.slice(2)) : arg();
          if (letter === "U") {
            const [user, group] = canonicalText(value).split(":");
            environment.set("UID", uidOf(user, "uid", facts));
            environment.set("GID", group === undefined ? uidOf(user, "gid", facts) : lookupValue({ kind: "command", subject: `getent group ${group}` }));
          } else if (letter === "e") readEnvdir(value);
          else {
            if ("mdofcrt".includes(letter)) state.limits.set(`chpst -${letter}`, canonicalText(value));
            more = true;
          }
        }
        stage.environmentOnly = !more;
        continue;
      }
      case "env": {
        stage.environmentOnly = true;
        while (at < fields.length) {
          const text = valueText(fields[at]);
          if (text === "-" || text === "-i") {
            arg();
            environmentCleared = true;
            environment.clear();
          } else if (text === "-u") {
            arg();
            environment.set(canonicalText(arg()), null);
          } else if (text !== undefined && /^[A-Za-z_][A-Za-z0-9_]*=/.test(text)) {
            arg();
            const eq = text.indexOf("=");
            environment.set(text.slice(0, eq), knownValue(text.slice(eq + 1)));
          } else {
            const first = fields[at].segments[0];
            if (typeof first === "string" && /^[A-Za-z_][A-Za-z0-9_]*=/.test(first)) {
              // NAME=value whose value has a host lookup in it
              const value = arg();
              const eq = first.indexOf("=");
              environment.set(first.slice(0, eq), joinValues([knownValue(first.slice(eq + 1)), { segments: value.segments.slice(1) }]));
            } else break;
          }
        }
        continue;
      }
      case "nice":
        if (at < fields.length && canonicalText(fields[at]) === "-n") {
          arg();
          arg();
        } else if (at < fields.length && /^-[0-9]+$/.test(canonicalText(fields[at]))) arg();
        continue;
      case "tcpserver":
      case "sslserver": {
        stage.options = effectiveOptions(takeOptions(base === "tcpserver" ? "cCxBgulbt" : "cCxBgulbtikKjJ"), base === "tcpserver" ? TCPSERVER_OPTIONS : SSLSERVER_OPTIONS);
        const host = take();
        let port = take();
        if (host === undefined || port === undefined) throw new RunScriptError(`line ${command.line}: ${base} needs an address and a port`);
        // The port by name, as tcpserver finds it in /etc/services.
        const number = PORT_NAMES[valueText(port) ?? ""];
        if (number) port = knownValue(number);
        stage.operands = [host, port];
        stage.args = [...optionWords(stage.options), host, port];
        continue;
      }
      case "rblsmtpd": {
        const given = takeOptions("rat");
        stage.options = effectiveOptions(given.filter(([letter]) => letter !== "a" && letter !== "r"), RBLSMTPD_OPTIONS);
        // Allow and block lists are consulted in the order given.
        stage.lists = given.filter(([letter]) => letter === "a" || letter === "r").map(([letter, value]) => [letter, value!]);
        stage.args = [...optionWords(stage.options), ...stage.lists.flatMap(([letter, value]) => [knownValue(`-${letter}`), value])];
        continue;
      }
      case "multilog":
        stage.args = multilogActions(fields.slice(at));
        at = fields.length;
        continue;
      case "recordio":
      case "jgreylist":
        continue;
      case "sh":
      case "bash":
      case "dash": {
        if (at + 1 >= fields.length || valueText(fields[at]) !== "-c") {
          while (at < fields.length) arg();
          continue;
        }
        // sh -c 'SCRIPT': one more script, started with the environment built so far.
        chain.pop();
        const scriptValue = fields[at + 1];
        at = fields.length; // what follows the script is its $0, $1...: the script's own business
        const script = valueText(scriptValue);
        if (script === undefined)
          throw new RunScriptError(`line ${command.line}: the \`${base} -c\` script depends on the host (${canonicalText(scriptValue)}): it is not read; import this service by hand`, command.line);
        const at0 = command.text.indexOf(script);
        const firstLine = command.line + (at0 < 0 ? 0 : command.text.slice(0, at0).split("\n").length - 1);
        const inherited = new Map<string, ScriptValue>();
        for (const [name, value] of environment) if (value !== null) inherited.set(name, value);
        let inner: RunScriptMeaning;
        try {
          inner = runScriptMeaning(script, { serviceDir: state.cwd, facts, inherited, firstLine });
        } catch (error) {
          if (!(error instanceof RunScriptError)) throw error;
          const line = error.line ?? command.line;
          throw new RunScriptError(`line ${line}: the \`${base} -c\` script is not read (${error.message}): import this service by hand`, line);
        }
        chain.push(...inner.chain);
        state.notes.push(...inner.notes);
        for (const name of inherited.keys()) if (new RegExp(`\\$\\{?${name}\\b`).test(script)) shellReads.add(name);
        environment.clear();
        for (const [name, value] of inner.environment) environment.set(name, value);
        for (const [name, file] of inner.environmentFiles) environmentFiles.set(name, file);
        environmentCleared ||= inner.environmentCleared;
        environmentFrom.push(...inner.environmentFrom);
        for (const [name, value] of inner.limits) state.limits.set(name, value);
        state.stderrToLog ||= inner.stderrToLog;
        for (const [name, variable] of inner.variables)
          if (variable.value !== inherited.get(name)) state.variables.set(name, variable);
        continue;
      }
      default:
        // The last program: everything that follows is its arguments.
        while (at < fields.length) arg();
    }
  }
  const variables = new Map(state.variables);
  return {
    chain,
    environment,
    environmentCleared,
    environmentFrom,
    environmentFiles,
    shellReads,
    limits: state.limits,
    stderrToLog: state.stderrToLog,
    notes: state.notes,
    variables,
  };
}

function uidOf(user: string, kind: "uid" | "gid", facts: HostFacts): ScriptValue {
  const known = facts.users?.[user]?.[kind];
  return known !== undefined ? knownValue(known) : lookupValue({ kind, subject: user });
}

/** `NAME=...` at the start of a word: the name and the rest of the word. */
function splitAssignment(word: Word): { name: string; value: Word } | undefined {
  const first = word[0];
  if (!first || first.kind !== "text" || first.quoted) return undefined;
  const match = /^([A-Za-z_][A-Za-z0-9_]*)=/.exec(first.text);
  if (!match) return undefined;
  const remainder = first.text.slice(match[0].length);
  return { name: match[1], value: [...(remainder ? [{ ...first, text: remainder }] : []), ...word.slice(1)] };
}

/** The word's text when it has no expansions, e.g. a command name. */
function wordText(word: Word): string | undefined {
  let text = "";
  for (const part of word) {
    if (part.kind !== "text") return undefined;
    text += part.text;
  }
  return text;
}

function expandPart(part: Word[number], state: State, facts: HostFacts): ScriptValue {
  switch (part.kind) {
    case "text":
      return knownValue(part.text);
    case "variable": {
      const variable = state.variables.get(part.name);
      if (part.alternative) {
        // ${NAME+word}: a variable the script (or its envdir) does not set is taken as unset.
        if (!variable) return knownValue("");
        const text = valueText(variable.value);
        if (text === undefined) return lookupValue({ kind: "command", subject: `\${${part.name}+...} (whether ${part.name} is set)` });
        return text !== "" || part.alternative.ifEmpty ? expandJoined(part.alternative.word, state, facts) : knownValue("");
      }
      if (variable && (valueText(variable.value) !== "" || !part.fallback)) return variable.value;
      if (part.fallback) {
        const value = expandJoined(part.fallback, state, facts);
        // ${NAME:=default}: the default is also assigned.
        if (part.assignDefault)
          state.variables.set(part.name, { value, exported: variable?.exported ?? INHERITED_EXPORTED.has(part.name), line: state.line });
        return value;
      }
      if (state.unset.has(part.name)) return knownValue("");
      return lookupValue({ kind: "inherited", subject: part.name });
    }
    case "command":
      return commandValue(part.text, state, facts);
  }
}

/** One word as one value (assignments and quoted words are not split). */
function expandJoined(word: Word, state: State, facts: HostFacts): ScriptValue {
  return joinValues(word.map((part) => expandPart(part, state, facts)));
}

/** A word of a command line: unquoted expansions of known text split at blanks, as the shell does. */
function expandFields(word: Word, state: State, facts: HostFacts): ScriptValue[] {
  const fields: ScriptValue[][] = [[]];
  let sawQuoted = false;
  for (const part of word) {
    const value = expandPart(part, state, facts);
    if (part.quoted || part.kind === "text") {
      if (part.quoted) sawQuoted = true;
      fields[fields.length - 1].push(value);
      continue;
    }
    for (const segment of value.segments) {
      if (typeof segment !== "string") {
        fields[fields.length - 1].push({ segments: [segment] });
        continue;
      }
      const pieces = segment.split(/[ \t\n]+/);
      pieces.forEach((piece, i) => {
        if (i > 0) fields.push([]);
        if (piece !== "") fields[fields.length - 1].push(knownValue(piece));
      });
    }
  }
  return fields
    .map((values) => joinValues(values))
    .filter((value, i, all) => value.segments.length > 0 || (sawQuoted && all.length === 1));
}

/**
 * A command substitution's value. Its words are expanded as the shell would
 * (the script's variables put in, quotes removed) before the lookup is
 * recognised, so `head -1 $VQ/control/me` reads the same file as
 * `head -1 /var/qmail/control/me`. A word only the host can tell leaves the
 * whole value unknown: it is never read as a path with `$NAME` in it.
 */
function commandValue(text: string, state: State, facts: HostFacts): ScriptValue {
  const unknown = lookupValue({ kind: "command", subject: text });
  let commands;
  try {
    commands = readShellCommands(text);
  } catch {
    return unknown;
  }
  // `cat FILE 2>/dev/null || echo DEFAULT`: the file's contents, or DEFAULT where it is missing.
  const [main, alternative, ...more] = commands;
  if (main?.kind !== "simple" || more.length > 0) return unknown;
  let fallback: string | undefined;
  if (alternative) {
    if (alternative.kind !== "simple" || alternative.joinedBy !== "||" || alternative.words.length !== 2 || wordText(alternative.words[0]) !== "echo") return unknown;
    fallback = valueText(expandJoined(alternative.words[1], state, facts));
    if (fallback === undefined) return unknown;
  }
  if (main.redirections.some((redirection) => !/^2>\/dev\/null$/.test(redirection))) return unknown;
  const expanded = main.words.flatMap((word) => expandFields(word, state, facts));
  const words = expanded.map(valueText);
  if (words.some((word) => word === undefined)) return unknown;
  const known = words as string[];
  const file = (name: string) => (name.startsWith("/") ? path.posix.normalize(name) : path.posix.join(state.cwd, name));
  const readFact = (name: string) => facts.files?.[name];
  let lookup: Lookup;
  if (known[0] === "id" && known.length === 3 && (known[1] === "-u" || known[1] === "-g")) {
    const kind = known[1] === "-u" ? "uid" : "gid";
    lookup = { kind, subject: known[2] };
    const value = facts.users?.[known[2]]?.[kind];
    if (value !== undefined) return knownValue(value);
  } else if (known[0] === "head" && ((known.length === 3 && known[1] === "-1") || (known.length === 4 && known[1] === "-n" && known[2] === "1") || (known.length === 3 && known[1] === "-n1"))) {
    lookup = { kind: "firstLine", subject: file(known[known.length - 1]) };
    const value = readFact(lookup.subject);
    if (value !== undefined) return knownValue(value.split("\n")[0]);
  } else if (known[0] === "cat" && known.length === 2) {
    lookup = { kind: "contents", subject: file(known[1]), ...(fallback !== undefined ? { fallback } : {}) };
    const value = readFact(lookup.subject);
    if (value !== undefined) return knownValue(value.replace(/\n+$/, ""));
    if (facts.absentFiles?.includes(lookup.subject)) return knownValue(fallback ?? "");
  } else {
    const value = facts.commands?.[text] ?? facts.commands?.[known.join(" ")];
    if (value !== undefined) return knownValue(value.replace(/\n+$/, ""));
    lookup = { kind: "command", subject: known.join(" ") };
  }
  return lookupValue(lookup);
}

function unquote(word: string): string {
  return word.replace(/^(['"])(.*)\1$/, "$2");
}

function isExitOnFailure(command: SimpleCommand): boolean {
  return command.words.length === 2 && wordText(command.words[0]) === "exit" && /^[0-9]+$/.test(wordText(command.words[1]) ?? "");
}

function assignedNames(text: string): string[] {
  return [...new Set([...text.matchAll(/(?:^|[\s;(])([A-Za-z_][A-Za-z0-9_]*)=/g)].map((m) => m[1]))];
}

function describeCompound(keyword: string): string {
  switch (keyword) {
    case "if":
      return "an if block (start-up check)";
    case "case":
      return "a case block";
    case "function":
      return "a shell function";
    case "{":
    case "(":
      return "a command group";
    default:
      return `a ${keyword} loop`;
  }
}

function firstLine(text: string): string {
  const line = text.split("\n")[0];
  return line.length > 100 ? `${line.slice(0, 97)}...` : line;
}

/** The parts of a meaning that decide what runs, as plain data in a fixed order. */
export function meaningSummary(meaning: RunScriptMeaning): {
  chain: string[][];
  environment: Array<[string, string | null]>;
  environmentCleared: boolean;
  environmentFrom: string[];
  limits: Array<[string, string]>;
  stderrToLog: boolean;
} {
  return {
    chain: meaning.chain.filter((stage) => !stage.environmentOnly).map((stage) => [canonicalText(stage.program), ...stage.args.map(canonicalText)]),
    environment: [...meaning.environment]
      .map(([name, value]): [string, string | null] => [name, value === null ? null : canonicalText(value)])
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    environmentCleared: meaning.environmentCleared,
    environmentFrom: [...meaning.environmentFrom].sort(),
    limits: [...meaning.limits].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    stderrToLog: meaning.stderrToLog,
  };
}

/** What differs between two meanings, one line each; empty when they run the same thing. */
export function meaningDifferences(before: RunScriptMeaning, after: RunScriptMeaning): string[] {
  const a = meaningSummary(before);
  const b = meaningSummary(after);
  const differences: string[] = [];
  const chainA = a.chain.map((words) => words.join(" "));
  const chainB = b.chain.map((words) => words.join(" "));
  if (chainA.join("\n") !== chainB.join("\n")) differences.push(`exec chain: ${chainA.join(" | ")} → ${chainB.join(" | ")}`);
  const envA = new Map(a.environment);
  const envB = new Map(b.environment);
  for (const name of [...new Set([...envA.keys(), ...envB.keys()])].sort()) {
    const x = envA.has(name) ? envA.get(name) : undefined;
    const y = envB.has(name) ? envB.get(name) : undefined;
    if (x !== y && !(absent(name, x) && absent(name, y))) differences.push(`${name}: ${show(x)} → ${show(y)}`);
  }
  if (a.environmentCleared !== b.environmentCleared) differences.push(`environment cleared (env -i): ${a.environmentCleared} → ${b.environmentCleared}`);
  if (a.environmentFrom.join() !== b.environmentFrom.join()) differences.push(`envdir: ${a.environmentFrom.join(", ") || "none"} → ${b.environmentFrom.join(", ") || "none"}`);
  if (JSON.stringify(a.limits) !== JSON.stringify(b.limits)) differences.push(`limits: ${JSON.stringify(a.limits)} → ${JSON.stringify(b.limits)}`);
  if (a.stderrToLog !== b.stderrToLog) differences.push(`stderr to the log: ${a.stderrToLog} → ${b.stderrToLog}`);
  return differences;
}

/**
 * A variable the program does not get: removed (an empty envdir file, env -u)
 * or never set by the script, which leaves it absent too unless svscan's own
 * environment has it (PATH).
 */
function absent(name: string, value: string | null | undefined): boolean {
  return value === null || (value === undefined && !INHERITED_EXPORTED.has(name));
}

function show(value: string | null | undefined): string {
  return value === undefined ? "(not set)" : value === null ? "(removed)" : JSON.stringify(value);
}

/** True when both scripts run the same programs with the same arguments and environment. */
export function sameMeaning(before: RunScriptMeaning, after: RunScriptMeaning): boolean {
  return meaningDifferences(before, after).length === 0;
}
