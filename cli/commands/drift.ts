// `qmail-fleet drift --stack NAME`: what on the mailhubs differs from the
// stack. Runs `pulumi preview --refresh` through the Automation API: the
// refresh reads each host's managed paths and services back, then the preview
// compares what was read with what the program declares. The report is
// computed from the step events' old and new state of each host's
// HostConfiguration: each file or directory that is missing or whose content,
// mode, owner or group changed, and each service whose status is not `up`
// (down, not linked, a `down` file, running an older run script, ...).
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
import { isSecret } from "../../provider/properties";
import { CHANGED_ON_HOST, HOST_CONFIGURATION_TYPE as HOST_CONFIGURATION } from "../../provider/types";
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


export type FindingKind =
  | "missing"
  | "content"
  | "mode"
  | "owner"
  | "group"
  | "service"
  | "not-deployed"
  | "not-declared"
  | "other";

export interface Finding {
  kind: FindingKind;
  /** What the stack declares (mode, owner, group), when that says something. */
  declared?: string;
  /** What the host has (for a service: its status, e.g. `down file present`). */
  found?: string;
  /** Property names that differ, for `other`. */
  properties?: string[];
}

export interface ItemDrift {
  /** A managed file or directory, or a service. */
  resource: "path" | "service";
  /** The path on the host, or the service name; empty for the host as a whole. */
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

/** A host's configuration as the events left it: what the host has and what is expected of it. */
interface Observation {
  /** `preview`: observed = refreshed state, expected = the program's inputs. `refresh`: observed = read back, expected = last deployed state. */
  source: "preview" | "refresh";
  op: string;
  name: string;
  observed?: Configuration;
  expected?: Configuration;
}

/** The parts of a HostConfiguration's properties the report reads. */
interface Configuration {
  host?: string;
  directories?: Record<string, { owner?: string; group?: string; mode?: string }>;
  files?: Record<string, { owner?: string; group?: string; mode?: string; sha256?: unknown; summary?: string }>;
  services?: Record<string, { dir?: string; link?: string; status?: string }>;
}

/**
 * The drift report for the events of a `pulumi preview --refresh` (or of a
 * `pulumi refresh --preview-only`). A host the preview step saw is judged by
 * that step (the host against the declared config); one only refreshed, by
 * its refresh (the host against the last deployment).
 */
export function driftReport(events: readonly EngineEvent[]): DriftReport {
  const phase = new Map<string, string>();
  const previews = new Map<string, Observation>();
  const refreshes = new Map<string, Observation>();
  for (const event of events) {
    const pre = event.resourcePreEvent?.metadata;
    const outputs = event.resOutputsEvent?.metadata;
    const meta = pre ?? outputs;
    if (!meta || meta.type !== HOST_CONFIGURATION) continue;
    const name = urnName(meta.urn);
    if (pre) {
      phase.set(meta.urn, meta.op);
      // A replacement comes as create-replacement, replace, delete-replaced: the replace step speaks for all.
      if (meta.op !== "refresh" && !REPLACEMENT_HALVES.has(meta.op)) previews.set(meta.urn, previewObservation(meta, name));
    } else if (phase.get(meta.urn) === "refresh") {
      // The refresh result: old is the state, new what was read from the host.
      // (`pulumi refresh --preview-only` reports it as op "update".)
      refreshes.set(meta.urn, { source: "refresh", op: meta.op, name, expected: meta.old?.outputs, observed: meta.new?.outputs });
    }
  }

  const hosts = new Map<string, HostDrift>();
  for (const urn of new Set([...refreshes.keys(), ...previews.keys()])) {
    const observation = previews.get(urn) ?? refreshes.get(urn)!;
    const host = observation.expected?.host ?? observation.observed?.host ?? observation.name;
    const entry = hosts.get(host) ?? { host, checked: 0, drift: [] };
    hosts.set(host, entry);
    const { checked, drift } = hostFindings(observation);
    entry.checked += checked;
    entry.drift.push(...drift);
  }

  const sorted = [...hosts.values()].sort((a, b) => compare(a.host, b.host));
  for (const host of sorted) host.drift.sort((a, b) => compare(a.resource, b.resource) || compare(a.name, b.name));
  return { clean: sorted.every((h) => h.drift.length === 0), hosts: sorted };
}

function previewObservation(meta: StepEventMetadata, name: string): Observation {
  return { source: "preview", op: meta.op, name, observed: meta.old?.outputs, expected: meta.new?.inputs };
}

const REPLACEMENT_HALVES = new Set(["create-replacement", "delete-replaced", "discard-replaced"]);
const NO_CHANGE = new Set(["same", "read", "refresh", "remove-pending-replace"]);

/** What one host's configuration says: every declared path and service, and those that differ. */
function hostFindings(o: Observation): { checked: number; drift: ItemDrift[] } {
  const expected = o.expected ?? {};
  const observed = o.observed ?? {};
  const checked =
    Object.keys(expected.directories ?? {}).length + Object.keys(expected.files ?? {}).length + Object.keys(expected.services ?? {}).length;
  if (o.source === "preview") {
    if (o.op === "create") return { checked, drift: [{ resource: "path", name: "", findings: [{ kind: "not-deployed" }] }] };
    if (o.op === "delete" || o.op === "discard") return { checked, drift: [{ resource: "path", name: "", findings: [{ kind: "not-declared" }] }] };
    if (NO_CHANGE.has(o.op)) return { checked, drift: [] };
  }
  const drift: ItemDrift[] = [];
  const add = (resource: ItemDrift["resource"], name: string, findings: Finding[]) => {
    if (findings.length > 0) drift.push({ resource, name, findings });
  };
  const paths = <T>(declared: Record<string, T> = {}, found: Record<string, T> = {}) => [...new Set([...Object.keys(declared), ...Object.keys(found)])];

  for (const path of paths(expected.directories, observed.directories))
    add("path", path, attributeFindings(expected.directories?.[path], observed.directories?.[path]));
  for (const path of paths(expected.files, observed.files)) {
    const declared = expected.files?.[path];
    const found = observed.files?.[path];
    const findings = attributeFindings(declared, found);
    // A secret's sha256 reaches the events as [secret]: the provider's summary says when the host's content differs.
    if (declared && found && (differs(declared.sha256, found.sha256) || found.summary === CHANGED_ON_HOST))
      findings.unshift({ kind: "content" });
    add("path", path, findings);
  }
  for (const name of paths(expected.services, observed.services)) {
    const declared = expected.services?.[name];
    const found = observed.services?.[name];
    if (!declared) add("service", name, [{ kind: "not-declared" }]);
    else if (!found) add("service", name, [{ kind: "not-deployed" }]);
    else if (found.status !== undefined && found.status !== declared.status)
      add("service", name, [{ kind: "service", declared: shown(declared.status), found: shown(found.status) }]);
  }
  if (drift.length === 0 && o.source === "preview") {
    // A change none of the findings above explain (a new connection, say): name the inputs that differ.
    const properties = ["host", "connection", "directories", "files", "services"]
      .filter((key) => JSON.stringify((expected as Record<string, unknown>)[key]) !== JSON.stringify((observed as Record<string, unknown>)[key]))
      .sort();
    drift.push({ resource: "path", name: "", findings: [{ kind: "other", properties }] });
  }
  return { checked, drift };
}

function attributeFindings(
  declared: { owner?: string; group?: string; mode?: string } | undefined,
  found: { owner?: string; group?: string; mode?: string } | undefined,
): Finding[] {
  if (!declared) return [{ kind: "not-declared" }];
  if (!found) return [{ kind: "missing" }];
  const findings: Finding[] = [];
  for (const kind of ["mode", "owner", "group"] as const)
    if (differs(declared[kind], found[kind])) findings.push({ kind, declared: shown(declared[kind]), found: shown(found[kind]) });
  return findings;
}

/** Both sides known and not equal. */
function differs(declared: unknown, found: unknown): boolean {
  return declared !== undefined && found !== undefined && JSON.stringify(declared) !== JSON.stringify(found);
}

/** A value for the report: text as itself, a secret as [secret], anything else as JSON. */
function shown(value: unknown): string {
  if (typeof value === "string") return value;
  if (isSecret(value)) return "[secret]";
  return JSON.stringify(value) ?? "";
}


const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The resource name of a URN: what follows its last `::`. */
function urnName(urn: string): string {
  return urn.slice(urn.lastIndexOf("::") + 2);
}

/** One line per finding. */
export function describeFinding(item: ItemDrift, finding: Finding): string {
  const what = item.resource === "service" ? `service ${item.name}` : item.name || "the host";
  switch (finding.kind) {
    case "missing":
      return `${what}: missing`;
    case "content":
      return `${what}: content changed`;
    case "mode":
    case "owner":
    case "group":
      return `${what}: ${finding.kind} ${finding.declared} → ${finding.found}`;
    case "service":
      return `${what}: ${finding.found} (declared ${finding.declared})`;
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
  if (report.hosts.length === 0) return "no managed hosts found in the stack\n";
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
