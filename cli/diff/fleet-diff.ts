// What a change of config does to the fleet, decided offline from two plans:
// per host the files added, removed and changed, and which services restart.
// Both plans become the inputs the program would send the provider
// (hostConfigurationArgs), and the provider's own planChanges decides the
// writes and restarts, given a host that holds exactly the base plan: one
// rule set for what restarts, whether asked by `pulumi up` or by a reviewer.
// Secret files are compared inside this module only: the result names them
// and never carries their bytes or their hashes.
import { hostConfigurationArgs } from "../../components/host-configuration";
import { summarizeCdb } from "../../lib/cdb/summary";
import type { FleetPlan, HostPlan, ManagedFile } from "../../lib/host-plan";
import type { PolicyResult } from "../../lib/policy/rules";
import { sha256Hex } from "../../provider/build-files";
import { planChanges } from "../../provider/change-plan";
import type { Observation, ObservedService } from "../../provider/host-operations";
import type { FileKind, HostConfigurationArgs, HostConnection } from "../../provider/types";
import type { AcknowledgedHazard } from "./acknowledged-hazards";
import type { RolloutChange } from "./rollout-change";
import { unifiedDiff } from "./unified-diff";

/** The version of the JSON output's shape; a change that breaks a reader changes it. */
export const DIFF_FORMAT = "qmail-fleet-diff/1";

export interface FleetDiff {
  format: typeof DIFF_FORMAT;
  /** What was compared, e.g. `Pulumi.prod.yaml at main` and `Pulumi.prod.yaml`. */
  base: string;
  head: string;
  /** True when any host changes, or the hazards acknowledged (below) differ between base and head. */
  changed: boolean;
  /** How pulumi up takes the hosts, when the head changes it (rollout policy or hosts). */
  rollout?: RolloutChange;
  /** Every host of either config, head's order first, then the ones head removes. */
  hosts: HostDiff[];
  /** Planning's notes on each side, e.g. a secret file left out because its inputs are encrypted. */
  notes: { base: string[]; head: string[] };
  /** The house rules the head config breaks, as far as they can be decided offline (cli/diff/offline-policy.ts). */
  policy: PolicyResult[];
  /** The hazards services run with because their config acknowledges them: new in the head, kept, or dropped (cli/diff/acknowledged-hazards.ts). */
  hazards: AcknowledgedHazard[];
}

export type HostChange = "added" | "removed" | "changed" | "unchanged";

export interface HostDiff {
  host: string;
  change: HostChange;
  /** SSH target fields that differ (address, port, user, hostKey, sudo). */
  connection: Array<{ field: keyof HostConnection; before: string; after: string }>;
  files: FileDiff[];
  directories: DirectoryDiff[];
  services: ServiceDiff[];
}

export interface FileDiff {
  path: string;
  change: "added" | "removed" | "changed";
  kind: FileKind;
  /** A secret file: shown as `[secret]`, nothing of its content. */
  secret: boolean;
  /** Its inputs are encrypted in the config (no passphrase here): a change of ciphertext counts as a change. */
  encrypted: boolean;
  /** The bytes differ (false: only owner, group or mode changed). */
  contentChanged: boolean;
  /** Owner, group and mode that differ, as `before` and `after`. */
  attributes: Array<{ field: "owner" | "group" | "mode"; before: string; after: string }>;
  /** A changed or added script as a unified diff (never for a secret, nor for a removed script). */
  diff?: string;
  /** The file's summary line before and after, e.g. `validrcptto.cdb: 12 addresses`; never a secret. */
  summary?: { before?: string; after?: string };
  /** A cdb's keys added, removed and whose value changed: addresses, user names, rule addresses; never a value. */
  keys?: { added: string[]; removed: string[]; changed: string[] };
}

export interface DirectoryDiff {
  path: string;
  change: "added" | "removed" | "changed";
  /** `owner:group mode`. */
  before?: string;
  after?: string;
}

export interface ServiceDiff {
  service: string;
  /** `moved`: its directory or svscan link changed (torn down there, set up here). */
  change: "added" | "removed" | "moved" | "unchanged";
  /** `svc -t` of the service, because a file it reads at start changes. */
  restart: boolean;
  /** `svc -t` of its log service. */
  restartLog: boolean;
}

export function diffFleets(
  base: { label: string; plan: FleetPlan },
  head: { label: string; plan: FleetPlan },
  policy: PolicyResult[] = [],
  rollout?: RolloutChange,
  hazards: AcknowledgedHazard[] = [],
): FleetDiff {
  const baseHosts = new Map(base.plan.hosts.map((host) => [host.name, host]));
  const headNames = new Set(head.plan.hosts.map((host) => host.name));
  const hosts = [
    ...head.plan.hosts.map((host) => diffHost(baseHosts.get(host.name), host)),
    ...base.plan.hosts.filter((host) => !headNames.has(host.name)).map((host) => diffHost(host, undefined)),
  ];
  return {
    format: DIFF_FORMAT,
    base: base.label,
    head: head.label,
    changed: hosts.some((host) => host.change !== "unchanged") || hazards.some((hazard) => hazard.change !== "kept"),
    ...(rollout ? { rollout } : {}),
    hosts,
    notes: { base: base.plan.warnings, head: head.plan.warnings },
    policy,
    hazards,
  };
}

function diffHost(before: HostPlan | undefined, after: HostPlan | undefined): HostDiff {
  const name = (after ?? before)!.name;
  const baseArgs = providerInputs(before, name);
  const headArgs = providerInputs(after, name);
  const changes = planChanges(name, { ...baseArgs, banners: {} }, headArgs, holdingExactly(baseArgs, headArgs));

  const contentOf = (plan: HostPlan | undefined) => new Map((plan?.files ?? []).map((file) => [file.path, file]));
  const beforeFiles = contentOf(before);
  const afterFiles = contentOf(after);
  const files: FileDiff[] = [];
  for (const path of changes.writes) {
    const spec = headArgs.files[path];
    const old = baseArgs.files[path];
    const file: FileDiff = {
      path,
      change: old ? "changed" : "added",
      kind: spec.kind,
      secret: spec.secret,
      encrypted: isEncrypted(after, path) || isEncrypted(before, path),
      contentChanged: !old || old.sha256 !== spec.sha256,
      attributes: old
        ? (["owner", "group", "mode"] as const).filter((field) => old[field] !== spec[field]).map((field) => ({ field, before: old[field], after: spec[field] }))
        : [],
    };
    describeContent(file, beforeFiles.get(path), afterFiles.get(path));
    files.push(file);
  }
  // planChanges lists only the files the host still has; here the host holds all of the base plan.
  for (const path of changes.removedFiles) {
    const old = baseArgs.files[path];
    const file: FileDiff = { path, change: "removed", kind: old.kind, secret: old.secret, encrypted: isEncrypted(before, path), contentChanged: true, attributes: [] };
    describeContent(file, beforeFiles.get(path), undefined);
    files.push(file);
  }
  files.sort((a, b) => compare(a.path, b.path));

  const directories: DirectoryDiff[] = [
    ...changes.directories.map(({ path, owner, group, mode }) => {
      const old = baseArgs.directories[path];
      return { path, change: old ? ("changed" as const) : ("added" as const), ...(old ? { before: `${old.owner}:${old.group} ${old.mode}` } : {}), after: `${owner}:${group} ${mode}` };
    }),
    ...changes.removedDirectories.map((path) => {
      const old = baseArgs.directories[path];
      return { path, change: "removed" as const, before: `${old.owner}:${old.group} ${old.mode}` };
    }),
  ].sort((a, b) => compare(a.path, b.path));

  const services: ServiceDiff[] = changes.services.map((actions) => ({
    service: actions.name,
    change: !baseArgs.services[actions.name] ? "added" : changes.teardowns.some((t) => t.name === actions.name) ? "moved" : "unchanged",
    restart: actions.restartService,
    restartLog: actions.restartLog,
  }));
  for (const teardown of changes.teardowns)
    if (!headArgs.services[teardown.name]) services.push({ service: teardown.name, change: "removed", restart: false, restartLog: false });
  services.sort((a, b) => compare(a.service, b.service));

  const connection = before && after ? connectionChanges(baseArgs.connection, headArgs.connection) : [];
  const touched = files.length + directories.length + connection.length + services.filter((s) => s.change !== "unchanged" || s.restart || s.restartLog).length;
  const change: HostChange = !before ? "added" : !after ? "removed" : touched > 0 ? "changed" : "unchanged";
  return { host: name, change, connection, files, directories, services };
}

/**
 * The provider's inputs for a planned host, with its secret bytes dropped
 * (only their sha256 stays, for comparing) and each encrypted secret file
 * standing in by a digest of its ciphertext: a new ciphertext counts as a change.
 */
export function providerInputs(plan: HostPlan | undefined, name: string): HostConfigurationArgs {
  if (!plan) return { host: name, connection: { address: "", port: 0, user: "", hostKey: "", sudo: false }, directories: {}, files: {}, services: {} };
  const { secretContents: _dropped, ...args } = hostConfigurationArgs(plan, sha256Hex);
  for (const sealed of plan.sealedFiles ?? [])
    args.files[sealed.path] = {
      owner: sealed.owner,
      group: sealed.group,
      mode: sealed.mode.toString(8).padStart(4, "0"),
      sha256: sha256Hex(`encrypted\0${sealed.sealedInputs}`),
      size: 0,
      kind: sealed.kind,
      secret: true,
      restarts: sealed.restarts.map(({ service, part }) => ({ service, part })),
    };
  return args;
}

const isEncrypted = (plan: HostPlan | undefined, path: string) => (plan?.sealedFiles ?? []).some((file) => file.path === path);

/** What an inspection would find on a host that holds exactly `held`, for the paths and services `wanted` names too. */
function holdingExactly(held: HostConfigurationArgs, wanted: HostConfigurationArgs): Observation {
  const files: Observation["files"] = new Map();
  for (const path of new Set([...Object.keys(held.files), ...Object.keys(wanted.files)])) {
    const spec = held.files[path];
    files.set(path, spec ? { present: true, regular: true, owner: spec.owner, group: spec.group, mode: spec.mode, sha256: spec.sha256, size: spec.size, leftover: false } : { present: false, leftover: false });
  }
  const directories: Observation["directories"] = new Map();
  for (const path of new Set([...Object.keys(held.directories), ...Object.keys(wanted.directories)])) {
    const spec = held.directories[path];
    directories.set(path, spec ? { present: true, directory: true, ...spec } : { present: false });
  }
  const services: Observation["services"] = new Map();
  for (const name of new Set([...Object.keys(held.services), ...Object.keys(wanted.services)])) {
    const spec = held.services[name];
    const up = { supervised: true, up: true };
    const absent = { supervised: false, up: false };
    const service: ObservedService = spec
      ? { linkTarget: spec.dir, service: up, log: up, downFile: false, logMainPresent: true }
      : { service: absent, log: absent, downFile: false, logMainPresent: false };
    services.set(name, service);
  }
  return { files, directories, services };
}

/** The text diff of a script, or the summary and keys of a cdb; for a secret only what its summary says. */
function describeContent(diff: FileDiff, before: ManagedFile | undefined, after: ManagedFile | undefined): void {
  if (!diff.contentChanged) return;
  const summary = { ...(before?.summary !== undefined ? { before: before.summary } : {}), ...(after?.summary !== undefined ? { after: after.summary } : {}) };
  if (summary.before !== undefined || summary.after !== undefined) diff.summary = summary;
  if (diff.secret && diff.kind !== "cdb") return; // the key file: its summary names the key type and certificate, nothing more
  const kind = (after ?? before)?.cdb;
  if (kind) {
    const now = after?.content ?? Buffer.alloc(0);
    const keys = after ? summarizeCdb(kind, now, before?.content) : summarizeCdb(kind, before!.content);
    // A removed cdb: every key it held goes.
    diff.keys = after ? { added: keys.added, removed: keys.removed, changed: keys.changed } : { added: [], removed: keys.added, changed: [] };
    return;
  }
  if (diff.kind === "script" && !diff.secret && after) diff.diff = unifiedDiff(before?.content.toString("utf8") ?? "", after?.content.toString("utf8") ?? "");
}

function connectionChanges(before: HostConnection, after: HostConnection): HostDiff["connection"] {
  return (["address", "port", "user", "hostKey", "sudo"] as const)
    .filter((field) => before[field] !== after[field])
    .map((field) => ({ field, before: String(before[field]), after: String(after[field]) }));
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
