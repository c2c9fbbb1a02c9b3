// HostConfiguration: everything qmail-fleet keeps on one mailhub, changed as a
// unit. An update reads the host, stages every file that differs beside its
// target and checks its bytes there, and only when all are staged puts them
// in place in one command (the last file's staging command, when no service
// has to go first); then it restarts what reads the changed files at
// start and checks the services came up. A failure before the switch leaves
// the host as it was. A refresh reads the host back in the same shape as the
// inputs, so `pulumi preview --refresh` shows hand edits as changes.
import { existsSync } from "node:fs";
import { buildFilePath, sha256Hex } from "./build-files";
import {
  acceptsConnections,
  bringUp,
  dropPrevious,
  ensureDirectories,
  HostCommandError,
  HostSession,
  inspect,
  linkService,
  logTail,
  readBanner,
  readHostFacts,
  readText,
  removeDirectories,
  removeLeftovers,
  restorePrevious,
  removeStaged,
  restart,
  stageFile,
  switchFiles,
  teardownService,
  waitUntilUp,
  SWITCH_FAILED,
  type FileChange,
  type SwitchRequest,
  type Observation,
} from "./host-operations";
import { planChanges, serviceStatus, startFilesChangedAt, type ChangePlan, type ServiceActions } from "./change-plan";
import { factsNeeded, lookupsNotYetMade, serviceScriptAt } from "./run-script-comparison";
import { READING_INTERVAL_MS, recentlyStarted, restartingServices } from "./restart-loop";
import { addedServicesReport, servicesTakenOver, takeoverReport } from "./takeover-report";
import type { EngineLog } from "./engine-log";
import { hasUnknowns, reveal, secret, withoutUndefined } from "./properties";
import type { ConnectionPool, Stdin } from "./ssh-connection";
import {
  CHANGED_ON_HOST,
  DEFAULT_ROLLOUT_SETTINGS,
  type RolloutSettings,
  type DirectorySpec,
  type FileSpec,
  type HostConfigurationArgs,
  type HostConnection,
  type HostConfigurationState,
  type ServiceSpec,
} from "./types";

/** Largest script whose text a refresh reads back to show a hand edit as a diff. */
const READ_BACK_LIMIT = 256 * 1024;

/** A change the engine shows: a property path and whether it is added, deleted or updated. */
export interface PropertyChange {
  path: string;
  kind: "add" | "delete" | "update";
}

export interface DiffResult {
  changes: boolean | undefined;
  detailedDiff: PropertyChange[];
}

/** One machine, as the provider reaches it. */
const targetKey = (connection: HostConnection) => `${connection.address}:${connection.port}`;

export class HostConfigurationProvider {
  /** Secret file bytes handed over in this run's inputs, by sha256; never written anywhere. */
  private readonly secretContents = new Map<string, Buffer>();
  /** Hosts whose change failed its health check in this run (this provider serves one fleet). */
  private readonly failedHosts = new Set<string>();
  /** Per SSH target: the files, directories and services (directories and links) this run's creates and updates made hold. */
  private readonly heldThisRun = new Map<string, { files: Set<string>; directories: Set<string>; services: Set<string> }>();

  constructor(
    private readonly pool: ConnectionPool,
    private readonly log: EngineLog,
  ) {}

  /**
   * Keeps the secret bytes for this run and drops them from the inputs the
   * engine stores. A host with no state yet (`olds` empty) is read, and what
   * taking it over changes is reported under the resource, since the engine
   * shows a create with every input as new.
   */
  async check(
    urn: string,
    olds: Record<string, unknown>,
    news: Record<string, unknown>,
  ): Promise<{ inputs: Record<string, unknown>; failures: Array<{ property: string; reason: string }> }> {
    const { secretContents, ...inputs } = news;
    const failures: Array<{ property: string; reason: string }> = [];
    const contents = reveal<Record<string, string> | undefined>(secretContents) ?? {};
    for (const [sha256, base64] of Object.entries(contents)) {
      const bytes = Buffer.from(base64, "base64");
      if (sha256Hex(bytes) !== sha256) failures.push({ property: "secretContents", reason: `content does not match its sha256 ${sha256.slice(0, 12)}…` });
      else this.secretContents.set(sha256, bytes);
    }
    if (failures.length === 0 && !hasUnknowns(inputs)) {
      const desired = reveal<HostConfigurationArgs>(inputs);
      if (Object.keys(olds).length === 0) await this.reportTakeover(urn, desired);
      else await this.reportAddedServices(urn, reveal<HostConfigurationArgs>(olds), desired);
    }
    return { inputs: protect(reveal(inputs) as unknown as HostConfigurationArgs), failures };
  }

  private async reportTakeover(urn: string, desired: HostConfigurationArgs): Promise<void> {
    try {
      const session = this.session(desired);
      const observation = await withScriptsToReplace(session, desired, await inspect(session, inspectRequest([desired])));
      const plan = planChanges(session.name, emptyState(desired), desired, observation);
      await this.log(urn, takeoverReport(desired.host, desired, observation, plan), "info");
    } catch (error) {
      await this.log(urn, `${desired.host}: could not read the host to show what taking it over changes: ${(error as Error).message}`, "warning");
    }
  }

  /**
   * An update that adds a service whose directory already holds a run script
   * takes that service over: the preview says whether it keeps running, as for
   * a host with no state. Nothing is read when no service is added or moved.
   */
  private async reportAddedServices(urn: string, previous: HostConfigurationArgs, desired: HostConfigurationArgs): Promise<void> {
    const added = Object.entries(desired.services).some(([name, spec]) => previous.services?.[name]?.dir !== spec.dir);
    if (!added || !previous.services || !previous.files) return;
    try {
      const session = this.session(desired);
      const observation = await withScriptsToReplace(session, desired, await inspect(session, inspectRequest([desired, previous])));
      const takenOver = servicesTakenOver(previous, desired, observation);
      if (takenOver.length === 0) return;
      const plan = planChanges(session.name, { ...previous, banners: {} }, desired, observation);
      await this.log(urn, addedServicesReport(desired.host, takenOver, desired, observation, plan), "info");
    } catch (error) {
      await this.log(urn, `${desired.host}: could not read the host to show what taking over the added services changes: ${(error as Error).message}`, "warning");
    }
  }

  diff(olds: Record<string, unknown>, news: Record<string, unknown>): DiffResult {
    if (hasUnknowns(news)) return { changes: undefined, detailedDiff: [] };
    const detailedDiff = compare(reveal<HostConfigurationState>(olds), reveal<HostConfigurationArgs>(news));
    return { changes: detailedDiff.length > 0, detailedDiff };
  }

  async create(urn: string, news: Record<string, unknown>): Promise<{ id: string; outs: Record<string, unknown> }> {
    const desired = reveal<HostConfigurationArgs>(news);
    const outs = await this.apply(urn, emptyState(desired), desired);
    return { id: desired.host, outs };
  }

  async update(urn: string, olds: Record<string, unknown>, news: Record<string, unknown>): Promise<Record<string, unknown>> {
    return this.apply(urn, reveal<HostConfigurationState>(olds), reveal<HostConfigurationArgs>(news));
  }

  async read(id: string, state: Record<string, unknown>): Promise<{ id: string; props: Record<string, unknown>; inputs: Record<string, unknown> }> {
    const known = reveal<HostConfigurationState>(state);
    const session = this.session(known);
    const observation = await inspect(session, inspectRequest([known]));
    const current = await observedState(session, known, observation, await restartLoops(session, known, observation));
    const { banners: _banners, ...inputs } = current;
    return { id, props: protect(current), inputs: protect(inputs) };
  }

  async delete(state: Record<string, unknown>): Promise<void> {
    const known = reveal<HostConfigurationState>(state);
    const session = this.session(known);
    // What a resource of this run holds on the same host stays: a host renamed in the config (or a Mailhub
    // renamed in a program) is a new resource created, taking the host over, and the old one deleted after it.
    const held = this.heldThisRun.get(targetKey(known.connection));
    const services = Object.entries(known.services).filter(([, service]) => !held?.services.has(service.dir) && !held?.services.has(service.link));
    for (const [name, service] of services) {
      await teardownService(session, service.dir, service.link).catch((error: Error) => {
        throw new Error(`${error.message}; service ${name} is still on the host: run pulumi destroy again`);
      });
    }
    // Nothing is health-checked after a destroy: no previous copy is kept.
    await switchFiles(session, { live: [], removed: Object.keys(known.files).filter((path) => !held?.files.has(path)), keepPrevious: false });
    await removeDirectories(session, Object.keys(known.directories).filter((path) => !held?.directories.has(path)));
  }

  /** Notes what `desired` holds on its host, for a delete later in this run (see delete). */
  private hold(desired: HostConfigurationArgs): void {
    const key = targetKey(desired.connection);
    const held = this.heldThisRun.get(key) ?? { files: new Set<string>(), directories: new Set<string>(), services: new Set<string>() };
    for (const path of Object.keys(desired.files)) held.files.add(path);
    for (const path of Object.keys(desired.directories)) held.directories.add(path);
    for (const service of Object.values(desired.services)) held.services.add(service.dir).add(service.link);
    this.heldThisRun.set(key, held);
  }

  private session(state: Pick<HostConfigurationArgs, "host" | "connection">): HostSession {
    const target = { host: state.host, ...state.connection };
    return new HostSession(this.pool.get(target), state.connection.sudo);
  }

  /** Makes the host match `desired`; `previous` says what an earlier run put there that may have to go. */
  private async apply(urn: string, previous: HostConfigurationState, desired: HostConfigurationArgs): Promise<Record<string, unknown>> {
    const rollout = desired.rollout ?? DEFAULT_ROLLOUT_SETTINGS;
    if (this.failedHosts.size > rollout.maxFailures)
      throw new Error(
        `host ${desired.host} was not touched: ${[...this.failedHosts].join(", ")} failed in this run, more than rollout.maxFailures (${rollout.maxFailures}) allows`,
      );
    const session = this.session(desired);
    const observation = await withScriptsToReplace(session, desired, await inspect(session, inspectRequest([desired, previous])));
    const plan = planChanges(session.name, previous, desired, observation);
    const writes: FileChange[] = plan.writes.map((path) => {
      const spec = desired.files[path];
      const keepTime = plan.sameMeaning.includes(path);
      return { path, owner: spec.owner, group: spec.group, mode: spec.mode, sha256: spec.sha256, size: spec.size, bytes: this.bytesOf(desired.host, path, spec), keepTime };
    });

    // What an interrupted run left behind goes first.
    await removeLeftovers(session, plan.leftovers);

    // A run that touches no service (a new validrcptto.cdb, read per connection) has no health gate, hence no rollback.
    const healthGated = plan.services.some((a) => a.link || a.bringUp || a.restartService || a.restartLog || a.checkHealth);
    const switchRequest: SwitchRequest = { live: plan.writes, removed: plan.removedFiles, keepPrevious: healthGated };
    // Unless services must go first, the last file's staging command also switches.
    const switchWithLastFile = plan.teardowns.length === 0 && writes.length > 0;

    // Stage: nothing a service reads has changed until every file is here and checked.
    const created = await ensureDirectories(session, plan.directories);
    const staged: string[] = [];
    let switching = false;
    try {
      for (const [index, file] of writes.entries()) {
        staged.push(file.path);
        switching = switchWithLastFile && index === writes.length - 1;
        await stageFile(session, file, switching ? switchRequest : undefined);
      }
    } catch (error) {
      // The switch failed, or may have begun before the connection was lost: the host may hold new files, which the next run reads.
      const stagingFailed = error instanceof HostCommandError && error.exitCode !== undefined && error.exitCode !== SWITCH_FAILED;
      if (switching && !stagingFailed) throw error;
      const message = `${(error as Error).message}. No file on ${desired.host} went live; once the cause is fixed, run pulumi up again.`;
      await removeStaged(session, staged).catch(() => undefined);
      // Directories this run made, so the host is left as it was.
      await removeDirectories(session, created).catch(() => undefined);
      throw new Error(message);
    }

    // Services no longer declared (or moved) go before their successors may take their ports.
    for (const gone of plan.teardowns) await teardownService(session, gone.dir, gone.link, gone.keepDir);
    const switched = [...plan.writes, ...plan.removedFiles];
    if (!switchWithLastFile) await switchFiles(session, switchRequest);

    const banners: Record<string, string> = {};
    for (const actions of plan.services) {
      const service = desired.services[actions.name];
      try {
        await runActions(session, service, actions);
        if (actions.checkHealth) banners[actions.name] = await healthCheck(session, actions.name, service, rollout);
        else if (previous.banners?.[actions.name] !== undefined) banners[actions.name] = previous.banners[actions.name];
      } catch (error) {
        const failure = `${(error as Error).message}`;
        this.failedHosts.add(desired.host);
        // A lost connection is no verdict on the service, and nothing can be put back over it: the host holds
        // the new files (its services perhaps restarted on them), which the next run reads and finishes.
        if (!session.connection.usable)
          throw new Error(
            `${failure} (service ${actions.name}), after the new files went live. The host may already run them; ` +
              `once it is reachable, run pulumi up again: it finishes the restarts and health checks.`,
          );
        const { restored, outcome } = await this.rollBack(session, previous, desired, plan, switched, rollout);
        const message = `${failure}\n${outcome}`;
        // A host that could not be put back is in neither configuration: never only a warning. Nor is a failure
        // no later batch waits on: the run fails, and the state keeps the previous configuration.
        if (!restored || this.failedHosts.size > rollout.maxFailures || !rollout.laterHostsWait) throw new Error(message);
        // Within rollout.maxFailures, with later batches waiting: a warning, so that they run; the state keeps the previous configuration so the next run tries again.
        await this.log(urn, `${message}\n(${this.failedHosts.size} of at most ${rollout.maxFailures} failed hosts in this run; the rollout goes on)`, "warning");
        return protect(previous);
      }
    }
    if (healthGated) await dropPrevious(session, switched);
    await removeDirectories(session, plan.removedDirectories);

    this.hold(desired);
    const { secretContents: _contents, ...applied } = desired;
    return protect({ ...applied, banners });
  }

  /**
   * After a failed health check: the files this run replaced or removed go
   * back, a service this run added is taken away (one it took over from the
   * host keeps its directory and its own scripts), and the services it touched
   * restart on the previous files and must pass the health check again.
   */
  private async rollBack(
    session: HostSession,
    previous: HostConfigurationState,
    desired: HostConfigurationArgs,
    plan: ChangePlan,
    switched: string[],
    rollout: RolloutSettings,
  ): Promise<{ restored: boolean; outcome: string }> {
    try {
      await restorePrevious(session, switched);
      for (const actions of plan.services) {
        const service = desired.services[actions.name];
        if (!previous.services[actions.name] && actions.takenOver) {
          // A hand-written service this run took over: its own scripts are back in place
          // (restorePrevious); it restarts on them where this run restarted it. No earlier
          // run recorded what it listens on, so it is checked for staying up alone.
          if (actions.link) await teardownService(session, service.dir, service.link, true);
          else {
            if (actions.restartService || actions.bringUp) await restart(session, service.dir);
            if (actions.restartLog) await restart(session, `${service.dir}/log`);
            if (actions.checkHealth) {
              await waitUntilUp(session, service.dir, rollout.settleSeconds, rollout.healthTimeoutSeconds);
              await waitUntilUp(session, `${service.dir}/log`, rollout.settleSeconds, rollout.healthTimeoutSeconds);
            }
          }
          continue;
        }
        if (!previous.services[actions.name]) {
          await teardownService(session, service.dir, service.link);
          continue;
        }
        if (!actions.checkHealth) continue;
        await restart(session, service.dir);
        await restart(session, `${service.dir}/log`);
        await healthCheck(session, actions.name, previous.services[actions.name], rollout);
      }
      return {
        restored: true,
        outcome: `${session.name} is back on its previous configuration, and healthy there; the state still records that configuration, so the next pulumi up tries again.`,
      };
    } catch (error) {
      return {
        restored: false,
        outcome: `Putting the previous configuration back on ${session.name} failed too: ${(error as Error).message}. Look at the host before the next pulumi up.`,
      };
    }
  }

  /** Where this run's bytes of a file come from: the secret handed over in Check, or the build directory. */
  private bytesOf(host: string, path: string, spec: FileSpec): Stdin {
    if (spec.secret) {
      const bytes = this.secretContents.get(spec.sha256);
      if (!bytes) throw new Error(`host ${host}: the content of ${path} was not handed over in this run; run pulumi up again`);
      return bytes;
    }
    const file = buildFilePath(spec.sha256);
    if (!existsSync(file))
      throw new Error(`host ${host}: ${path} should come from ${file}, which this run's program did not write; run pulumi up from the project directory`);
    return { file };
  }
}

/**
 * A service is healthy when it and its log stay up for the settle time and its
 * listener answers: a 220 banner for plain SMTP, an accepted connection for an
 * SSL-wrapped service.
 */
async function healthCheck(session: HostSession, name: string, service: ServiceSpec, rollout: RolloutSettings): Promise<string> {
  try {
    await waitUntilUp(session, service.dir, rollout.settleSeconds, rollout.healthTimeoutSeconds);
    await waitUntilUp(session, `${service.dir}/log`, rollout.settleSeconds, rollout.healthTimeoutSeconds);
    if (!service.checkBanner) {
      await acceptsConnections(session, service.listen.ip, service.listen.port);
      return "";
    }
    const banner = await readBanner(session, service.listen.ip, service.listen.port);
    if (!banner.startsWith("220 "))
      throw new Error(`${session.name}: service ${name} is up but answers ${JSON.stringify(banner)} on ${service.listen.ip}:${service.listen.port} instead of a 220 banner`);
    return banner;
  } catch (error) {
    // The connection, not the service, failed: nothing was learnt about the service.
    if (!session.connection.usable) throw error;
    const tail = await logTail(session, service.dir);
    throw new Error(`${session.name}: service ${name} failed its health check: ${(error as Error).message}${tail ? `\nlast lines of ${service.dir}/log/main/current:\n${tail}` : ""}`);
  }
}

/** Links, starts and restarts a service as the change plan says. */
async function runActions(session: HostSession, service: ServiceSpec, actions: ServiceActions): Promise<void> {
  if (actions.link) await linkService(session, service.link, service.dir);
  if (actions.bringUp) await bringUp(session, service.dir);
  if (actions.restartService) await restart(session, service.dir);
  if (actions.restartLog) await restart(session, `${service.dir}/log`);
}

function emptyState(desired: HostConfigurationArgs): HostConfigurationState {
  return { host: desired.host, connection: desired.connection, directories: {}, files: {}, services: {}, banners: {} };
}

/**
 * The observation with the host's text of every run and log/run script about
 * to be replaced, and what those scripts and their successors look up there,
 * so the plan can tell whether what a service runs changes. A text that does
 * not hash to what was just inspected (edited meanwhile, or not UTF-8) is
 * left out: that script counts as changed.
 */
async function withScriptsToReplace(session: HostSession, desired: HostConfigurationArgs, observation: Observation): Promise<Observation> {
  const files = new Map(observation.files);
  const scripts: Array<{ text: string; runsIn: string }> = [];
  for (const [path, spec] of Object.entries(desired.files)) {
    const script = serviceScriptAt(path, desired.services);
    const found = observation.files.get(path);
    if (!script || spec.text === undefined || !found?.present || found.regular === false || found.sha256 === spec.sha256) continue;
    if ((found.size ?? 0) > READ_BACK_LIMIT) continue;
    const text = await readText(session, path);
    if (sha256Hex(Buffer.from(text, "utf8")) !== found.sha256) continue;
    files.set(path, { ...found, text });
    scripts.push({ text, runsIn: script.runsIn }, { text: spec.text, runsIn: script.runsIn });
  }
  if (scripts.length === 0) return observation;
  const asked = factsNeeded(scripts);
  let facts = await readHostFacts(session, asked);
  // What a sourced settings file looks up (MAXSMTPD=`cat control/concurrencyincoming`) shows once its text is known.
  const more = lookupsNotYetMade(factsNeeded(scripts, facts), asked);
  if (more.users.length + more.files.length + more.envdirs.length > 0) {
    const extra = await readHostFacts(session, more);
    facts = { users: { ...facts.users, ...extra.users }, files: { ...facts.files, ...extra.files }, envdirs: { ...facts.envdirs, ...extra.envdirs } };
  }
  return { ...observation, files, facts };
}

/** Every path and service of the given configurations, once each. */
function inspectRequest(configurations: Array<Pick<HostConfigurationArgs, "files" | "directories" | "services">>) {
  const files = new Set<string>();
  const directories = new Set<string>();
  const services = new Map<string, { name: string; dir: string; link: string }>();
  for (const c of configurations) {
    for (const path of Object.keys(c.files)) files.add(path);
    for (const path of Object.keys(c.directories)) directories.add(path);
    for (const [name, s] of Object.entries(c.services)) if (!services.has(name)) services.set(name, { name, dir: s.dir, link: s.link });
  }
  return { files: [...files], directories: [...directories], services: [...services.values()] };
}

/**
 * The services in a restart loop: those found started or stopped moments
 * ago are read twice more, a little apart (see restart-loop.ts). Nothing is
 * read again when every service has been up or down for a while.
 */
async function restartLoops(session: HostSession, known: HostConfigurationState, observation: Observation): Promise<Set<string>> {
  const recent = recentlyStarted(observation.services);
  if (recent.length === 0) return new Set();
  const services = recent.map((name) => ({ name, dir: known.services[name].dir, link: known.services[name].link }));
  const readings = [new Map(recent.map((name) => [name, observation.services.get(name)!]))];
  for (let i = 0; i < 2; i++) {
    await new Promise((resolve) => setTimeout(resolve, READING_INTERVAL_MS));
    readings.push((await inspect(session, { files: [], directories: [], services })).services);
  }
  return restartingServices(readings);
}

/** The host as read, in the shape of the inputs: what is missing is left out. */
async function observedState(
  session: HostSession,
  known: HostConfigurationState,
  observation: Observation,
  restarting: Set<string> = new Set(),
): Promise<HostConfigurationState> {
  const directories: Record<string, DirectorySpec> = {};
  for (const path of Object.keys(known.directories)) {
    const found = observation.directories.get(path)!;
    if (found.present) directories[path] = { owner: found.owner ?? "", group: found.group ?? "", mode: found.mode ?? "" };
  }
  const files: Record<string, FileSpec> = {};
  for (const [path, spec] of Object.entries(known.files)) {
    const found = observation.files.get(path)!;
    if (!found.present) continue;
    if (found.regular === false) {
      files[path] = { ...spec, owner: "", group: "", mode: "", sha256: "", size: 0, text: undefined, summary: "not a regular file" };
      continue;
    }
    const same = found.sha256 === spec.sha256;
    const file: FileSpec = { ...spec, owner: found.owner!, group: found.group!, mode: found.mode!, sha256: found.sha256!, size: found.size! };
    if (!same) {
      file.summary = CHANGED_ON_HOST;
      // A hand-edited script is read back so the refresh shows the edit itself.
      file.text = spec.text === undefined ? undefined : found.size! <= READ_BACK_LIMIT ? await readText(session, path) : `(${found.size} bytes, not shown)`;
    }
    files[path] = withoutUndefined(file);
  }
  const services: Record<string, ServiceSpec> = {};
  for (const [name, spec] of Object.entries(known.services)) {
    const status = restarting.has(name) ? "restarting again and again" : serviceStatus(spec, observation.services.get(name)!, startFilesChangedAt(name, known.files, observation.files));
    services[name] = { ...spec, status };
  }
  // The rollout settings are the run's, not the host's: kept as they are, so a refresh does not report them gone.
  return withoutUndefined({ host: known.host, connection: known.connection, rollout: known.rollout, directories, files, services, banners: known.banners ?? {} });
}

/** Secret files keep their sha256 as a secret in state. */
function protect<T extends Pick<HostConfigurationArgs, "files">>(state: T): Record<string, unknown> {
  const files = Object.fromEntries(
    Object.entries(state.files).map(([path, spec]) => [path, spec.secret ? { ...spec, sha256: secret(spec.sha256) } : spec]),
  );
  return { ...state, files };
}

/** The property paths in which the host (olds) differs from the declaration (news). */
export function compare(olds: HostConfigurationState, news: HostConfigurationArgs): PropertyChange[] {
  const changes: PropertyChange[] = [];
  if (olds.host !== news.host) changes.push({ path: "host", kind: "update" });
  for (const key of ["address", "port", "user", "hostKey", "sudo"] as const)
    if (olds.connection?.[key] !== news.connection[key]) changes.push({ path: `connection.${key}`, kind: "update" });
  compareRecords("directories", olds.directories ?? {}, news.directories, ["owner", "group", "mode"], changes);
  compareRecords("files", olds.files ?? {}, news.files, ["owner", "group", "mode", "sha256", "size", "text", "summary", "kind", "secret", "restarts"], changes);
  compareRecords("services", olds.services ?? {}, news.services, ["dir", "link", "listen", "checkBanner", "status"], changes);
  return changes;
}

function compareRecords<T>(name: string, olds: Record<string, T>, news: Record<string, T>, fields: Array<keyof T & string>, changes: PropertyChange[]): void {
  for (const key of Object.keys(news).sort()) {
    const path = `${name}[${JSON.stringify(key)}]`;
    if (!(key in olds)) {
      changes.push({ path, kind: "add" });
      continue;
    }
    for (const field of fields)
      if (JSON.stringify(olds[key][field]) !== JSON.stringify(news[key][field])) changes.push({ path: `${path}.${field}`, kind: "update" });
  }
  for (const key of Object.keys(olds).sort()) if (!(key in news)) changes.push({ path: `${name}[${JSON.stringify(key)}]`, kind: "delete" });
}
