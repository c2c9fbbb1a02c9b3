// `qmail-fleet drift --stack NAME`: what on the mailhubs differs from the
// stack. Runs `pulumi preview --refresh` through the Automation API: the
// refresh reads every managed path and service back from its host, then the
// preview compares what was read with what the program declares. The engine's
// events carry both sides (the provider's diff gives no per-property detail),
// so the report is computed here from the step events' old and new state:
// per host, each file or directory that is missing or whose content, mode,
// owner or group changed, and each service that is down or not linked.
//
// Exit 0 when every host matches, 2 on drift, 1 on error. Secret content is
// never printed: a changed secret shows as "content changed" like any other.
//
// The pulumi CLI is found on PATH, or in --pulumi-bin DIR (or
// $QMAIL_FLEET_PULUMI_BIN_DIR), e.g. the engine sandbox/build-engine prints.
// The backend and the passphrase come from the environment, as for `pulumi`.
import { existsSync } from "node:fs";
import { delimiter, join, resolve } from "node:path";
import type { EngineEvent, StepEventMetadata } from "@pulumi/pulumi/automation";
import type { Command } from "../main";

export const USAGE =
  "usage: qmail-fleet drift --stack NAME [--cwd DIR] [--config-file FILE] [--pulumi-bin DIR] [--json]";

const HELP = `${USAGE}

Reads every managed file, directory and service back from the stack's hosts
(pulumi preview --refresh; nothing is changed) and prints what differs from
the stack, per host. Exit 0: no drift; 2: drift; 1: error.

  --stack NAME        the stack to check (required)
  --cwd DIR           the Pulumi project directory (default: the current directory)
  --config-file FILE  use this stack config file, as pulumi's --config-file
  --pulumi-bin DIR    directory holding the pulumi CLI and its plugins
                      (default: $QMAIL_FLEET_PULUMI_BIN_DIR, else PATH)
  --json              print the report as JSON

PULUMI_BACKEND_URL and PULUMI_CONFIG_PASSPHRASE(_FILE) are read from the environment.`;

const REMOTE_PATH = "pulumi-nodejs:dynamic/qmail-fleet:RemotePath";
const SUPERVISED_SERVICE = "pulumi-nodejs:dynamic/qmail-fleet:SupervisedService";

export type FindingKind =
  | "missing"
  | "content"
  | "mode"
  | "owner"
  | "group"
  | "target"
  | "down"
  | "unlinked"
  | "not-deployed"
  | "not-declared"
  | "other";

export interface Finding {
  kind: FindingKind;
  /** What the stack declares (mode, owner, group, link target), when that says something. */
  declared?: string;
  /** What the host has. */
  found?: string;
  /** Property names that differ, for `other`. */
  properties?: string[];
}

export interface ItemDrift {
  /** `path` for a RemotePath, `service` for a SupervisedService. */
  resource: "path" | "service";
  /** The path on the host, or the service name. */
  name: string;
  findings: Finding[];
}

export interface HostDrift {
  host: string;
  /** Paths and services checked on this host. */
  checked: number;
  drift: ItemDrift[];
}

export interface DriftReport {
  clean: boolean;
  hosts: HostDrift[];
}

/** One resource as the events left it: what the host has and what is expected of it. */
interface Observation {
  type: string;
  /** `preview`: observed = refreshed state, expected = the program's inputs. `refresh`: observed = read back, expected = last deployed state. */
  source: "preview" | "refresh";
  op: string;
  observed?: Record<string, unknown>;
  expected?: Record<string, unknown>;
}

/**
 * The drift report for the events of a `pulumi preview --refresh` (or of a
 * `pulumi refresh --preview-only`). A resource the preview step saw is judged
 * by that step (the host against the declared config); one only refreshed,
 * by its refresh (the host against the last deployment).
 */
export function driftReport(events: readonly EngineEvent[]): DriftReport {
  const phase = new Map<string, string>();
  const previews = new Map<string, Observation>();
  const refreshes = new Map<string, Observation>();
  for (const event of events) {
    const pre = event.resourcePreEvent?.metadata;
    const outputs = event.resOutputsEvent?.metadata;
    const meta = pre ?? outputs;
    if (!meta || (meta.type !== REMOTE_PATH && meta.type !== SUPERVISED_SERVICE)) continue;
    if (pre) {
      phase.set(meta.urn, meta.op);
      // A replacement comes as create-replacement, replace, delete-replaced: the replace step speaks for all.
      if (meta.op !== "refresh" && !REPLACEMENT_HALVES.has(meta.op)) previews.set(meta.urn, previewObservation(meta));
    } else if (phase.get(meta.urn) === "refresh") {
      // The refresh result: old is the state, new what was read from the host.
      // (`pulumi refresh --preview-only` reports it as op "update".)
      refreshes.set(meta.urn, {
        type: meta.type,
        source: "refresh",
        op: meta.op,
        expected: meta.old?.outputs,
        observed: meta.new?.outputs,
      });
    }
  }

  const hosts = new Map<string, HostDrift>();
  for (const urn of new Set([...refreshes.keys(), ...previews.keys()])) {
    const observation = previews.get(urn) ?? refreshes.get(urn)!;
    const { host, item } = splitName(urnName(urn));
    let entry = hosts.get(host);
    if (!entry) hosts.set(host, (entry = { host, checked: 0, drift: [] }));
    entry.checked++;
    const resource = observation.type === REMOTE_PATH ? "path" : "service";
    const findings = resource === "path" ? pathFindings(observation) : serviceFindings(observation);
    if (findings.length > 0) entry.drift.push({ resource, name: item, findings });
  }

  const sorted = [...hosts.values()].sort((a, b) => compare(a.host, b.host));
  for (const host of sorted)
    host.drift.sort((a, b) => compare(a.resource, b.resource) || compare(a.name, b.name));
  return { clean: sorted.every((h) => h.drift.length === 0), hosts: sorted };
}

function previewObservation(meta: StepEventMetadata): Observation {
  return { type: meta.type, source: "preview", op: meta.op, observed: meta.old?.outputs, expected: meta.new?.inputs };
}

const REPLACEMENT_HALVES = new Set(["create-replacement", "delete-replaced", "discard-replaced"]);
const NO_CHANGE = new Set(["same", "read", "refresh", "remove-pending-replace"]);

/** Findings common to both kinds: a resource the stack does not have yet, or no longer declares. */
function lifecycleFindings(o: Observation): Finding[] | undefined {
  if (o.source !== "preview") return undefined;
  if (o.op === "create") return [{ kind: "not-deployed" }];
  if (o.op === "delete" || o.op === "discard") return [{ kind: "not-declared" }];
  if (NO_CHANGE.has(o.op)) return [];
  return undefined;
}

function pathFindings(o: Observation): Finding[] {
  const lifecycle = lifecycleFindings(o);
  if (lifecycle) return lifecycle;
  const found = o.observed ?? {};
  const declared = o.expected ?? {};
  if (found.present === false) return [{ kind: "missing" }];
  const findings: Finding[] = [];
  if (differs(declared.sha256, found.sha256)) findings.push({ kind: "content" });
  for (const kind of ["mode", "owner", "group", "target"] as const) {
    if (differs(declared[kind], found[kind]))
      findings.push({ kind, declared: shown(declared[kind]), found: shown(found[kind]) });
  }
  return findings.length > 0 || o.source === "refresh" ? findings : otherFindings(o, ["present", "content", "encoding", "sha256", "summary"]);
}

function serviceFindings(o: Observation): Finding[] {
  const lifecycle = lifecycleFindings(o);
  if (lifecycle) return lifecycle;
  const found = o.observed ?? {};
  const declared = o.expected ?? {};
  const findings: Finding[] = [];
  if (found.running === false) findings.push({ kind: "down" });
  if (found.linkTarget !== undefined && differs(declared.dir, found.linkTarget))
    findings.push({ kind: "unlinked", declared: shown(declared.dir), found: shown(found.linkTarget) });
  return findings.length > 0 || o.source === "refresh" ? findings : otherFindings(o, ["linkTarget", "running", "banner"]);
}

/** A preview step that changes something none of the findings above explain: name the inputs that differ. */
function otherFindings(o: Observation, skip: string[]): Finding[] {
  const found = o.observed ?? {};
  const declared = o.expected ?? {};
  const properties = Object.keys(declared)
    .filter((key) => key !== "__provider" && !skip.includes(key))
    .filter((key) => JSON.stringify(declared[key]) !== JSON.stringify(found[key]))
    .sort();
  return [{ kind: "other", properties }];
}

/** Both sides known and not equal. */
function differs(declared: unknown, found: unknown): boolean {
  return declared !== undefined && found !== undefined && JSON.stringify(declared) !== JSON.stringify(found);
}

/** A value for the report: text as itself, a secret as [secret], anything else as JSON. */
function shown(value: unknown): string {
  if (typeof value === "string") return value;
  if (isSecretValue(value)) return "[secret]";
  return JSON.stringify(value) ?? "";
}

const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
function isSecretValue(value: unknown): boolean {
  return typeof value === "object" && value !== null && Object.values(value).includes(SECRET_SIG);
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The resource name of a URN: what follows its last `::`. */
function urnName(urn: string): string {
  return urn.slice(urn.lastIndexOf("::") + 2);
}

/** `<host>:<path>` or `<host>:<service>`. */
function splitName(name: string): { host: string; item: string } {
  const colon = name.indexOf(":");
  return colon < 0 ? { host: name, item: "" } : { host: name.slice(0, colon), item: name.slice(colon + 1) };
}

/** One line per finding. */
export function describeFinding(item: ItemDrift, finding: Finding): string {
  const what = item.resource === "service" ? `service ${item.name}` : item.name;
  switch (finding.kind) {
    case "missing":
      return `${what}: missing`;
    case "content":
      return `${what}: content changed`;
    case "mode":
    case "owner":
    case "group":
      return `${what}: ${finding.kind} ${finding.declared} → ${finding.found}`;
    case "target":
      return `${what}: link target ${finding.declared} → ${finding.found || "(none)"}`;
    case "down":
      return `${what}: down (supervise is not running it)`;
    case "unlinked":
      return finding.found
        ? `${what}: linked to ${finding.found}, not ${finding.declared}`
        : `${what}: not linked into the svscan directory`;
    case "not-deployed":
      return `${what}: not deployed yet`;
    case "not-declared":
      return `${what}: no longer declared by the stack`;
    case "other":
      return finding.properties && finding.properties.length > 0
        ? `${what}: differs from the stack in ${finding.properties.join(", ")}`
        : `${what}: differs from the stack`;
  }
}

/** The report as text: a line per host, then one indented line per finding. */
export function formatDriftReport(report: DriftReport): string {
  if (report.hosts.length === 0) return "no managed files or services found in the stack\n";
  const lines: string[] = [];
  for (const host of report.hosts) {
    const checked = `${host.checked} path(s) and service(s) checked`;
    if (host.drift.length === 0) {
      lines.push(`${host.host}: no drift (${checked})`);
      continue;
    }
    lines.push(`${host.host}: drift (${checked}; changes shown as stack → host)`);
    for (const item of host.drift) for (const finding of item.findings) lines.push(`  ${describeFinding(item, finding)}`);
  }
  return lines.join("\n") + "\n";
}

/**
 * The engine's own `error:` lines from an Automation API failure, which
 * otherwise comes wrapped in the command line, exit code and both streams.
 */
export function engineErrorText(message: string): string {
  if (/spawn pulumi ENOENT/.test(message))
    return "no pulumi CLI on PATH: pass --pulumi-bin DIR (e.g. the directory sandbox/build-engine prints) or set QMAIL_FLEET_PULUMI_BIN_DIR";
  const errors = [...new Set(message.split("\n").filter((line) => /^\s*error: /.test(line)).map((line) => line.trim()))];
  return errors.length > 0 ? errors.join("\n") : message.trim();
}

interface DriftArgs {
  stack: string;
  cwd: string;
  configFile?: string;
  pulumiBin?: string;
  json: boolean;
}

export function parseDriftArgs(args: readonly string[], env: NodeJS.ProcessEnv = process.env): DriftArgs | string {
  let stack: string | undefined;
  let cwd = process.cwd();
  let configFile: string | undefined;
  let pulumiBin = env.QMAIL_FLEET_PULUMI_BIN_DIR || undefined;
  let json = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--json") {
      json = true;
      continue;
    }
    const [flag, inline] = arg.startsWith("--") && arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
    if (!["--stack", "--cwd", "--config-file", "--pulumi-bin"].includes(flag)) return `unknown argument '${arg}'`;
    const value = inline ?? args[++i];
    if (value === undefined || value === "") return `${flag} needs a value`;
    if (flag === "--stack") stack = value;
    else if (flag === "--cwd") cwd = value;
    else if (flag === "--config-file") configFile = value;
    else pulumiBin = value;
  }
  if (!stack) return "--stack is required";
  return {
    stack,
    cwd: resolve(cwd),
    configFile: configFile === undefined ? undefined : resolve(configFile),
    pulumiBin: pulumiBin === undefined ? undefined : resolve(pulumiBin),
    json,
  };
}

export const driftCommand: Command = {
  summary: "read every managed file and service back from the hosts and print what differs from the stack",
  async run(args) {
    if (args.includes("--help") || args.includes("-h")) {
      process.stdout.write(`${HELP}\n`);
      return 0;
    }
    const parsed = parseDriftArgs(args);
    if (typeof parsed === "string") {
      process.stderr.write(`qmail-fleet drift: ${parsed}\n${USAGE}\n`);
      return 1;
    }
    let events: EngineEvent[];
    try {
      events = await previewWithRefresh(parsed);
    } catch (error) {
      process.stderr.write(`qmail-fleet drift: ${engineErrorText((error as Error).message)}\n`);
      return 1;
    }
    const report = driftReport(events);
    process.stdout.write(parsed.json ? `${JSON.stringify(report, null, 2)}\n` : formatDriftReport(report));
    return report.clean ? 0 : 2;
  },
};

async function previewWithRefresh(args: DriftArgs): Promise<EngineEvent[]> {
  if (args.pulumiBin) {
    // The engine's language host and plugins sit beside the CLI; the Node.js
    // dynamic provider shim ships in @pulumi/pulumi (as in sandbox/pulumi).
    const shim = join(args.cwd, "node_modules", "@pulumi", "pulumi");
    const dirs = [args.pulumiBin, ...(existsSync(shim) ? [shim] : [])];
    process.env.PATH = [...dirs, process.env.PATH ?? ""].join(delimiter);
  }
  // Loaded here so that the other commands do not pay for the Pulumi SDK.
  const { LocalWorkspace } = (await import("@pulumi/pulumi/automation")) as typeof import("@pulumi/pulumi/automation");
  const stack = await LocalWorkspace.selectStack({ stackName: args.stack, workDir: args.cwd });
  const events: EngineEvent[] = [];
  const errors: string[] = [];
  try {
    await stack.preview({
      refresh: true,
      configFile: args.configFile,
      color: "never",
      onEvent: (event) => {
        events.push(event);
        const diagnostic = event.diagnosticEvent;
        if (diagnostic?.severity === "error") errors.push(diagnostic.message.trim());
      },
    });
  } catch (error) {
    // The engine's own error diagnostics say more than the CLI's exit status.
    if (errors.length > 0) throw new Error(errors.join("\n"));
    throw error;
  }
  return events;
}
