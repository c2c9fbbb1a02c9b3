// What an update does on one host, decided from what the host has now (one
// inspection) before anything is touched: which files to stage and switch,
// what goes away, and per service whether it is linked, brought up, restarted
// (service or log) and health-checked. Pure, so every decision is unit-tested.
import type { Observation, ObservedFile, ObservedService } from "./host-operations";
import { runsTheSame, serviceScriptAt } from "./run-script-comparison";
import type { DirectorySpec, FileSpec, HostConfigurationArgs, HostConfigurationState, ServiceSpec, ServiceStatus } from "./types";

export interface ServiceActions {
  name: string;
  /** Make the svscan link (a new service, a moved one, or a link taken away by hand). */
  link: boolean;
  /** Remove a `down` file and `svc -u` (stopped by hand). */
  bringUp: boolean;
  /** `svc -t` the service: a file it reads at start changed, or it runs an older run script. */
  restartService: boolean;
  /** `svc -t` its log: log/run changed, log/main was recreated, or it runs an older log/run. */
  restartLog: boolean;
  /** Wait for it to be up and read its banner: anything above happened, or it was not up. */
  checkHealth: boolean;
  /**
   * No earlier run put it there, yet its directory already holds a run script
   * (a hand-written service taken over): a rollback puts that script back and
   * keeps the service, instead of removing a service this run added.
   */
  takenOver: boolean;
}

export interface ChangePlan {
  /** Staging files an interrupted run left beside these paths. */
  leftovers: string[];
  /** Directories to make or to give their owner and mode, parents first. */
  directories: Array<DirectorySpec & { path: string }>;
  /** Files whose bytes, owner or mode differ from the declaration: staged, then switched. */
  writes: string[];
  /**
   * Written run and log/run scripts that run what the one on the host runs
   * (same programs, arguments and environment): no restart, and the new file
   * keeps the old one's mtime (see keepsWhatRuns).
   */
  sameMeaning: string[];
  /** Files an earlier run put there that are no longer declared. */
  removedFiles: string[];
  /** Services no longer declared, or moved to another directory or link; the directory stays when still declared. */
  teardowns: Array<{ name: string; dir: string; link: string; keepDir: boolean }>;
  services: ServiceActions[];
  /** Directories no longer declared: removed when empty. */
  removedDirectories: string[];
}

export class UnmanageableHostError extends Error {}

const byPath = ([a]: [string, unknown], [b]: [string, unknown]) => (a < b ? -1 : a > b ? 1 : 0);

export function planChanges(host: string, previous: HostConfigurationState, desired: HostConfigurationArgs, observation: Observation): ChangePlan {
  const leftovers = [...observation.files].filter(([, file]) => file.leftover).map(([path]) => path);

  const directories: ChangePlan["directories"] = [];
  for (const [path, spec] of Object.entries(desired.directories).sort(byPath)) {
    const found = observation.directories.get(path)!;
    if (found.present && found.directory === false)
      throw new UnmanageableHostError(`${host}: ${path} is not a directory on the host; move it away by hand, then run again. Nothing was changed.`);
    if (!found.present || found.owner !== spec.owner || found.group !== spec.group || found.mode !== spec.mode) directories.push({ path, ...spec });
  }

  const writes: string[] = [];
  for (const [path, spec] of Object.entries(desired.files).sort(byPath)) {
    const found = observation.files.get(path)!;
    if (found.present && found.regular === false)
      throw new UnmanageableHostError(`${host}: ${path} is not a regular file on the host; move it away by hand if it is not needed, then run again. Nothing was changed.`);
    const same = found.present && found.sha256 === spec.sha256 && found.owner === spec.owner && found.group === spec.group && found.mode === spec.mode;
    if (!same) writes.push(path);
  }
  const removedFiles = Object.keys(previous.files).filter((path) => !(path in desired.files) && observation.files.get(path)?.present).sort();

  const moved = (name: string, spec: ServiceSpec) => {
    const before = previous.services[name];
    return before !== undefined && (before.dir !== spec.dir || before.link !== spec.link);
  };
  const teardowns = Object.entries(previous.services)
    .filter(([name]) => !desired.services[name] || moved(name, desired.services[name]))
    .map(([name, s]) => ({ name, dir: s.dir, link: s.link, keepDir: s.dir in desired.directories }));

  const sameMeaning = writes.filter((path) => keepsWhatRuns(path, desired, observation));
  const written = new Set(writes.filter((path) => !sameMeaning.includes(path)));
  const reads = (name: string, part: "service" | "log") =>
    Object.entries(desired.files).some(([path, spec]) => written.has(path) && spec.restarts.some((r) => r.service === name && r.part === part));
  const services: ServiceActions[] = [];
  for (const [name, spec] of Object.entries(desired.services).sort(byPath)) {
    const found = observation.services.get(name)!;
    const status = serviceStatus(spec, found, startFilesChangedAt(name, desired.files, observation.files));
    const link = moved(name, spec) || found.linkTarget !== spec.dir;
    // A service supervise does not run yet starts with what is on disk (svscan starts it for the link).
    const running = !moved(name, spec) && found.service.supervised;
    const bringUp = running && (status === "down" || status === "down file present");
    const restartService =
      running && (reads(name, "service") || status === "running an older run script" || status === "started before a file it loads at start changed");
    const restartLog =
      running && (reads(name, "log") || status === "log running an older log/run" || status === "log directory missing");
    const checkHealth = link || bringUp || restartService || restartLog || status !== "up";
    const takenOver = !previous.services[name] && observation.files.get(`${spec.dir}/run`)?.present === true;
    services.push({ name, link, bringUp, restartService, restartLog, checkHealth, takenOver });
  }

  const removedDirectories = Object.keys(previous.directories).filter((path) => !(path in desired.directories));
  return { leftovers, directories, writes, sameMeaning, removedFiles, teardowns, services, removedDirectories };
}

/**
 * Whether writing `path` leaves what its service runs as it is: a run or
 * log/run script whose bytes are the same (only owner or mode change), or
 * whose text on the host (read for this, with the host's facts) runs the same
 * programs with the same arguments and environment. That is what taking over a
 * hand-written service needs: its script is rewritten in our layout without a
 * restart. A script that cannot be read, or was not read, counts as changed.
 */
function keepsWhatRuns(path: string, desired: HostConfigurationArgs, observation: Observation): boolean {
  const script = serviceScriptAt(path, desired.services);
  const found = observation.files.get(path);
  const spec = desired.files[path];
  if (!script || !found?.present || found.regular === false || spec.kind !== "script") return false;
  if (found.sha256 === spec.sha256) return true;
  return found.text !== undefined && spec.text !== undefined && runsTheSame(found.text, spec.text, script.runsIn, observation.facts);
}

/**
 * When a file other than run that the service loads at start (an SSL-wrapped
 * service's certificate) last changed on the host: a run stopped between
 * switching such a file and restarting the service leaves it serving the old
 * one, and only the file's mtime against the service's start tells.
 */
export function startFilesChangedAt(name: string, files: Record<string, FileSpec>, observed: Map<string, ObservedFile>): number | undefined {
  let newest: number | undefined;
  for (const [path, spec] of Object.entries(files)) {
    if (spec.kind === "script" || !spec.restarts.some((r) => r.service === name && r.part === "service")) continue;
    const mtime = observed.get(path)?.mtime;
    if (mtime !== undefined && (newest === undefined || mtime > newest)) newest = mtime;
  }
  return newest;
}

/** What a service looks like on the host, as one status; anything but `up` is drift. */
export function serviceStatus(service: Pick<ServiceSpec, "dir">, found: ObservedService, startFilesChangedAt?: number): ServiceStatus {
  if (found.linkTarget !== service.dir) return "not linked";
  if (!found.service.supervised || !found.log.supervised) return "not supervised";
  if (found.downFile) return "down file present";
  if (!found.service.up || !found.log.up) return "down";
  if (!found.logMainPresent) return "log directory missing";
  // A run script changed after the service started is not what it runs.
  if (found.runMtime !== undefined && found.service.startedAt !== undefined && found.runMtime > found.service.startedAt)
    return "running an older run script";
  if (found.logRunMtime !== undefined && found.log.startedAt !== undefined && found.logRunMtime > found.log.startedAt)
    return "log running an older log/run";
  if (startFilesChangedAt !== undefined && found.service.startedAt !== undefined && startFilesChangedAt > found.service.startedAt)
    return "started before a file it loads at start changed";
  return "up";
}
