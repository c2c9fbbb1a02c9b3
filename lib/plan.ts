// Plans what each mailhub should hold: the directories, files and services
// of every configured service. Pure and deterministic (the same config gives
// the same bytes in the same order); the only input beyond the config is an
// injectable reader for known_hosts files.
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import type { FleetConfig, HostConfig, ServiceConfig } from "./config";
import type { FleetPlan, HostPlan, ManagedDirectory, ManagedFile, ServicePlan, SshTarget } from "./host-plan";
import { isActive } from "./schema/service-rules";
import { isLoopback } from "./schema/primitives";
import { type EveryClientRule, everyClientRuleText, relayForEveryClient } from "./cdb/tcprules";
import { describeReadError } from "./source/local-paths";
import { renderLogScript } from "./render/log-script";
import { renderRunScript } from "./render/run-script";
import { serviceTraits } from "./service-traits";
import { newSharedFilesContext, planSharedFiles, SharedFileError, type SharedFilesContext } from "./plan-files";

export interface PlanOptions {
  /** Reads the files the config names: ssh.knownHostsFile, validRcptTo.files, tcpRules files. Default: fs.readFileSync. */
  readFile?: (path: string) => string | Buffer;
}

/** A config that cannot be planned; `path` names the field when one is to blame. */
export class PlanError extends Error {
  constructor(
    message: string,
    readonly path?: string,
  ) {
    super(message);
  }
}

export function planFleet(config: FleetConfig, options: PlanOptions = {}): FleetPlan {
  const readFile = options.readFile ?? ((path: string) => readFileSync(path));
  const notRendered = new Set<string>();
  const shared = newSharedFilesContext(config, readFile, (message) => notRendered.add(message));
  for (const host of config.hosts) for (const service of host.services) relayByRulesFile(config, host, service, readFile, (message) => notRendered.add(message));
  const hosts = config.hosts.map((host, index) => planHost(host, index, readFile, shared));
  // The seed's advice is parseFleetConfig's to give; a plan adds only what planning found.
  return { hosts, warnings: [...notRendered] };
}

/**
 * The open-relay hazard of a rule set given as a tcprules file, which only
 * planning reads: its default rule must not hand RELAYCLIENT to every client
 * of a service other machines reach, unless the service acknowledges it.
 */
function relayByRulesFile(config: FleetConfig, host: HostConfig, service: ServiceConfig, readFile: NonNullable<PlanOptions["readFile"]>, warn: (message: string) => void): void {
  const path = service.accessRules;
  const set = path !== undefined && config.tcpRules && Object.prototype.hasOwnProperty.call(config.tcpRules, path) ? config.tcpRules[path] : undefined;
  if (!set?.file || isLoopback(service.ip)) return;
  let relays: EveryClientRule | undefined;
  try {
    relays = relayForEveryClient(Buffer.from(readFile(set.file)), service.lookupRemoteHost);
  } catch {
    return; // an unreadable or malformed file is reported when the rules are built
  }
  if (relays === undefined) return;
  const why = `${everyClientRuleText(relays)} of ${set.file}, the rules at ${path}, sets RELAYCLIENT, so every client of service '${service.name}' on host ${host.name} may relay mail anywhere`;
  if (service.acknowledge.includes("open-relay")) warn(`tcpRules.${path}.file: hazard open-relay (acknowledged): ${why}`);
  else throw new PlanError(`hazard open-relay: ${why}; change the rule, or accept the risk with acknowledge: [open-relay] on the service`, `tcpRules.${path}.file`);
}

function planHost(host: HostConfig, index: number, readFile: NonNullable<PlanOptions["readFile"]>, shared: SharedFilesContext): HostPlan {
  const directories = new DirectoryList();
  const files: ManagedFile[] = [];
  const services: ServicePlan[] = [];
  for (const service of host.services) {
    const dir = `${host.superviseDir}/${service.name}`;
    directories.add({ path: dir, owner: "root", group: "root", mode: 0o755 });
    directories.add({ path: `${dir}/log`, owner: "root", group: "root", mode: 0o755 });
    // Logs name senders and recipients: readable by the log user and its group only.
    directories.add({ path: `${dir}/log/main`, owner: service.log.user, group: service.log.group, mode: 0o750 });
    if (isActive(service.jgreylist))
      directories.add({ path: service.jgreylist!.dir, owner: service.user, group: service.group, mode: 0o700 });

    files.push(script(`${dir}/run`, renderRunScript(service, host), service, "service"));
    files.push(script(`${dir}/log/run`, renderLogScript(service, host), service, "log"));
    services.push({
      name: service.name,
      dir,
      link: `${host.serviceDir}/${service.name}`,
      listen: { ip: service.ip, port: service.port },
      ssl: service.ssl,
      traits: serviceTraits(service, shared.config, readFile),
    });
  }
  files.push(...sharedFiles(host, shared, files));
  const sealed = shared.sealed.get(host.name) ?? [];
  return { name: host.name, ssh: sshTarget(host, index, readFile), directories: directories.list(), files, services, ...(sealed.length > 0 ? { sealedFiles: sealed } : {}) };
}

/** Certificate, auth.cdb, validrcptto.cdb and tcprules files; none may take the path of a script. */
function sharedFiles(host: HostConfig, shared: SharedFilesContext, scripts: ManagedFile[]): ManagedFile[] {
  let files: ManagedFile[];
  try {
    files = planSharedFiles(host, shared);
  } catch (error) {
    if (error instanceof SharedFileError) throw new PlanError(error.message);
    throw error;
  }
  const scriptPaths = new Set(scripts.map((file) => file.path));
  for (const file of [...files, ...(shared.sealed.get(host.name) ?? [])])
    if (scriptPaths.has(file.path)) throw new PlanError(`host ${host.name}: ${file.path} is a run script and cannot also hold a ${file.kind} file: choose another path`);
  return files;
}

function script(path: string, text: string, service: ServiceConfig, part: "service" | "log"): ManagedFile {
  return {
    path,
    content: Buffer.from(text, "utf8"),
    owner: "root",
    group: "root",
    mode: 0o755,
    kind: "script",
    secret: false,
    // supervise reads run only when it starts it.
    restarts: [{ service: service.name, part }],
  };
}

/** Directories in the order they were first needed; two services may share one only if they agree on it. */
class DirectoryList {
  private readonly byPath = new Map<string, ManagedDirectory>();
  add(directory: ManagedDirectory): void {
    const existing = this.byPath.get(directory.path);
    if (!existing) this.byPath.set(directory.path, directory);
    else if (existing.owner !== directory.owner || existing.group !== directory.group || existing.mode !== directory.mode)
      throw new PlanError(
        `directory ${directory.path} is needed as ${describe(existing)} and as ${describe(directory)}: give the services separate directories`,
      );
  }
  list(): ManagedDirectory[] {
    return [...this.byPath.values()];
  }
}

const describe = (d: ManagedDirectory) => `${d.owner}:${d.group} ${d.mode.toString(8).padStart(4, "0")}`;

function sshTarget(host: HostConfig, index: number, readFile: NonNullable<PlanOptions["readFile"]>): SshTarget {
  const at = `hosts[${index}].ssh.knownHostsFile`;
  const { address, port, user, sudo } = host.ssh;
  let hostKey = host.ssh.hostKey;
  if (!hostKey) {
    const file = host.ssh.knownHostsFile;
    if (!file) throw new PlanError(`host ${host.name}: no pinned host key (set ssh.hostKey or ssh.knownHostsFile)`);
    let text: string;
    try {
      text = readFile(file).toString();
    } catch (error) {
      throw new PlanError(`cannot read ${file} for host ${host.name}: ${describeReadError(error)}; give the path of a known_hosts file (relative to the stack file, or ~/...)`, at);
    }
    hostKey = hostKeyFromKnownHosts(text, address, port);
    if (!hostKey)
      throw new PlanError(
        `host ${host.name}: ${file} has no key for ${port === 22 ? address : `[${address}]:${port}`}; add it (ssh-keyscan -p ${port} ${address}) or set ssh.hostKey`,
        at,
      );
  }
  return { address, port, user, hostKey, sudo };
}

/** Preferred key types when known_hosts holds several for the host. */
const KEY_PREFERENCE = ["ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "ssh-rsa"];

/**
 * The `type base64` key line known_hosts holds for the address: entries for
 * `[address]:port` first, then plain `address`. Hashed names and wildcards are
 * understood; @cert-authority and @revoked lines are not pinned keys.
 */
export function hostKeyFromKnownHosts(text: string, address: string, port: number): string | undefined {
  const names = port === 22 ? [address, `[${address}]:22`] : [`[${address}]:${port}`, address];
  for (const name of names) {
    const keys: string[] = [];
    for (const raw of text.split("\n")) {
      const line = raw.trim();
      if (line === "" || line.startsWith("#") || line.startsWith("@")) continue;
      const [patterns, type, blob] = line.split(/\s+/);
      if (type && blob && patternsMatch(patterns, name)) keys.push(`${type} ${blob}`);
    }
    if (keys.length > 0) return keys.sort((a, b) => rank(a) - rank(b))[0];
  }
  return undefined;
}

const rank = (key: string) => {
  const index = KEY_PREFERENCE.indexOf(key.split(" ")[0]);
  return index < 0 ? KEY_PREFERENCE.length : index;
};

function patternsMatch(patterns: string, name: string): boolean {
  if (patterns.startsWith("|1|")) {
    const [, , salt, hash] = patterns.split("|");
    return createHmac("sha1", Buffer.from(salt, "base64")).update(name).digest("base64") === hash;
  }
  let matched = false;
  for (const pattern of patterns.split(",")) {
    const negated = pattern.startsWith("!");
    const glob = negated ? pattern.slice(1) : pattern;
    const regex = new RegExp(`^${glob.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`);
    if (regex.test(name)) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}

