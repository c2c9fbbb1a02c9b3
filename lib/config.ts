// From the raw config map (Pulumi config keys without the `qmail-fleet:`
// prefix, or a plain file with the same keys) to a FleetConfig: parsed,
// presets and host overrides merged, defaults filled, cross-field rules
// checked. Nothing here touches a host.
import { PRESETS, type PresetName } from "./presets";
import { normalizeRollout, type RolloutPolicy } from "./rollout";
import { fleetSchema, type RawFleet, type RawHost } from "./schema/fleet";
import { formatPath, type PathKey } from "./schema/issue-path";
import { closestName } from "./schema/strict";
import { deepMerge, setsPath } from "./schema/merge";
import type { SecretString } from "./schema/secret";
import { keyWithoutComment } from "./schema/ssh";
import { serviceHazards } from "./schema/hazards";
import { issueFindings } from "./schema/messages";
import { hostListenFindings, hostPathFindings, type HostFinding } from "./schema/host-rules";
import { normalizeIp } from "./schema/primitives";
import { parseExpiry } from "./cdb/auth";
import { resolveService, serviceSchema, type ServiceConfig } from "./schema/service";
import { serviceErrors, serviceWarnings, type ServiceFinding } from "./schema/service-rules";
import {
  DEFAULT_CERTIFICATE_FILE,
  type AuthUserConfig,
  type AuthUsersConfig,
  type TcpRulesConfig,
  type ValidRcptToSources,
} from "./schema/shared-files";
import {
  authUserFindings,
  saltSecretFinding,
  certificateValidityFinding,
  sslPairFinding,
  tcpRuleSetFindings,
  validRcptToAddressFindings,
} from "./schema/shared-files-rules";

export type { ServiceConfig } from "./schema/service";

export interface ConfigIssue {
  /** Where, e.g. `hosts[1].services[0].port`. */
  path: string;
  /** What is wrong and what to do. */
  message: string;
}
export type ConfigError = ConfigIssue;
export type ConfigWarning = ConfigIssue;

export interface HostSsh {
  address: string;
  port: number;
  user: string;
  sudo: boolean;
  /** Pinned key line; when absent, knownHostsFile holds it (planFleet reads it). */
  hostKey?: string;
  knownHostsFile?: string;
}

export interface HostConfig {
  name: string;
  address: string;
  ssh: HostSsh;
  qmailDir: string;
  serviceDir: string;
  superviseDir: string;
  /** Fleet services merged with this host's entries, fleet order first, then the host's own. */
  services: ServiceConfig[];
  /** Key and chain for the services' certificateFile: the host's sslKey/sslCertificate, else the fleet's. */
  ssl?: { key: SecretString; certificate: SecretString };
  /** auth.cdb users: the fleet's, with the host's added or replacing same-named ones; opaque when the list itself is encrypted. */
  authUsers?: AuthUserConfig[] | { secure: string };
}

export interface FleetConfig {
  ssh: RawFleet["ssh"];
  sshPrivateKey?: SecretString;
  saltSecret?: SecretString;
  hosts: HostConfig[];
  /** Fleet-level values as given; hosts carry the effective ones (HostConfig.ssl, HostConfig.authUsers). */
  authUsers?: AuthUsersConfig;
  sslKey?: SecretString;
  sslCertificate?: SecretString;
  validRcptTo?: ValidRcptToSources;
  tcpRules?: TcpRulesConfig;
  /** How `pulumi up` takes the hosts, every field filled (`parallel` when the config says nothing). */
  rollout: RolloutPolicy;
}

export type ParseResult =
  | { ok: true; config: FleetConfig; warnings: ConfigWarning[] }
  | { ok: false; errors: ConfigError[] };

/** One `path: message` line per issue (the message alone when it concerns the whole file). */
export function formatIssues(issues: readonly ConfigIssue[]): string {
  return issues.map((issue) => (issue.path ? `${issue.path}: ${issue.message}` : issue.message)).join("\n");
}

export interface ParseOptions {
  /** The time expiry dates are compared with. Default: now. */
  now?: Date;
}

export function parseFleetConfig(raw: Record<string, unknown>, options: ParseOptions = {}): ParseResult {
  const top = fleetSchema.safeParse(raw, { reportInput: true });
  if (!top.success)
    return { ok: false, errors: issueFindings(top.error, "fleet").map((f) => ({ path: formatPath(f.path), message: f.message })) };
  const fleet = top.data;
  const errors = new IssueList();
  const warnings = new IssueList();

  duplicateNames(fleet.services, ["services"], "service", errors);
  duplicateNames(fleet.hosts, ["hosts"], "host", errors);
  sameHostTwice(fleet, errors);

  const now = options.now ?? new Date();
  // Services that failed validation, as written: their references still count, so no follow-on error blames what they name.
  const invalidServices: Array<Record<string, unknown>> = [];
  const hosts = fleet.hosts.map((host, hostIndex) => resolveHost(fleet, host, hostIndex, errors, warnings, now, invalidServices));
  sharedFileFindings(fleet, hosts, invalidServices, errors, warnings, now);
  if (errors.size > 0) return { ok: false, errors: errors.list() };

  const { ssh, sshPrivateKey, saltSecret, authUsers, validRcptTo, tcpRules, sslKey, sslCertificate, rollout } = fleet;
  const policy = normalizeRollout(rollout, hosts.length);
  if (policy.canary >= hosts.length && hosts.length > 0 && typeof rollout === "object")
    warnings.add("rollout.canary", `canary ${policy.canary} takes every host of the fleet (${hosts.length}), so the canaries protect nothing: use fewer canaries than hosts`);
  const config: FleetConfig = {
    ssh,
    ...defined({ sshPrivateKey, saltSecret, authUsers, validRcptTo, tcpRules, sslKey, sslCertificate }),
    hosts,
    rollout: policy,
  };
  return { ok: true, config, warnings: warnings.list() };
}

/**
 * The fleet service a host's entry most likely meant to change, when its name
 * is a near miss of one the host does not name itself and the entry could not
 * stand as a service of its own (no ip, no preset).
 */
function misspeltFleetService(name: string, fleetServices: RawFleet["services"], hostServices: RawHost["services"]): string | undefined {
  const entry = hostServices.find((service) => service.name === name) as Record<string, unknown> | undefined;
  if (!entry || entry.ip !== undefined || entry.preset !== undefined) return undefined;
  const named = new Set(hostServices.map((service) => service.name));
  return closestName(name, fleetServices.map((service) => service.name).filter((fleetName) => !named.has(fleetName)));
}

/** Where a merged service came from, so a finding can name the entry that set the field. */
interface ServiceOrigin {
  fleet?: { index: number; entry: Record<string, unknown> };
  host?: { hostIndex: number; index: number; entry: Record<string, unknown> };
}

function resolveHost(
  fleet: RawFleet,
  host: RawHost,
  hostIndex: number,
  errors: IssueList,
  warnings: IssueList,
  now: Date,
  invalidServices: Array<Record<string, unknown>>,
): HostConfig {
  const hostPath: PathKey[] = ["hosts", hostIndex];
  duplicateNames(host.services, [...hostPath, "services"], "service", errors);
  if (!host.ssh.hostKey && !host.ssh.knownHostsFile)
    errors.add(formatPath([...hostPath, "ssh", "hostKey"]), `host '${host.name}' has no pinned host key: set ssh.hostKey to its public key line ("ssh-ed25519 AAAA...") or ssh.knownHostsFile`);

  const ssl = resolveSsl(fleet, host, hostIndex, errors, warnings, now);
  const services: ServiceConfig[] = [];
  const origins: ServiceOrigin[] = [];
  for (const { merged, origin } of mergeServiceEntries(fleet.services, host.services, hostIndex)) {
    const blame = (path: PathKey[]) => blamePath(origin, path);
    const meant = origin.fleet ? undefined : misspeltFleetService(String(merged.name), fleet.services, host.services);
    if (meant !== undefined) {
      errors.add(
        blame(["name"]),
        `host '${host.name}' has service '${String(merged.name)}', which is not one of the fleet's services: did you mean '${meant}'? (an entry with a fleet service's name changes that service on this host; any other name adds a service of its own, which needs at least ip)`,
      );
      invalidServices.push(merged);
      continue;
    }
    const withPreset = applyPreset(merged);
    const parsed = serviceSchema.safeParse(withPreset, { reportInput: true });
    if (!parsed.success) {
      for (const finding of issueFindings(parsed.error, "service")) errors.add(blame(finding.path), finding.message);
      invalidServices.push(withPreset);
      continue;
    }
    let service = resolveService(parsed.data, host.qmailDir);
    if (ssl) {
      // The config provides the certificate: a service that needs one and names no file gets qmail's default path.
      if ((service.ssl || service.forceTls) && !service.certificateFile)
        service = { ...service, certificateFile: `${service.qmailDir}/${DEFAULT_CERTIFICATE_FILE}` };
      if (service.ssl && service.keyFile && service.keyFile !== service.certificateFile)
        errors.add(
          blame(["keyFile"]),
          `keyFile ${service.keyFile} would not be written: qmail-fleet writes sslKey together with sslCertificate into certificateFile; remove keyFile, or manage both files by hand without sslKey`,
        );
    }
    for (const finding of serviceErrors(service)) errors.add(blame(finding.path), finding.message);
    for (const finding of serviceWarnings(service)) warnings.add(blame(finding.path), finding.message);
    services.push(service);
    origins.push(origin);
  }
  const hostPaths = {
    name: host.name,
    qmailDir: host.qmailDir,
    serviceDir: host.serviceDir,
    superviseDir: host.superviseDir ?? `${host.qmailDir}/supervise`,
    sshPort: host.ssh.port ?? fleet.ssh.port,
  };
  const hostBlame = (finding: HostFinding) =>
    finding.service === undefined ? formatPath([...hostPath, ...finding.path]) : blamePath(origins[finding.service], finding.path);
  for (const finding of hostPathFindings(hostPaths, services)) errors.add(hostBlame(finding), finding.message);
  const listen = hostListenFindings(hostPaths, services);
  for (const finding of listen.errors) errors.add(hostBlame(finding), finding.message);
  for (const finding of listen.warnings) warnings.add(hostBlame(finding), finding.message);
  services.forEach((service, index) => {
    const set = service.accessRules !== undefined && fleet.tcpRules && Object.prototype.hasOwnProperty.call(fleet.tcpRules, service.accessRules) ? fleet.tcpRules[service.accessRules] : undefined;
    const hazards = serviceHazards(service, { ...(set?.rules ? { accessRules: set.rules } : {}), accessRulesFile: set?.file !== undefined });
    for (const finding of hazards.errors) errors.add(blamePath(origins[index], finding.path), finding.message);
    for (const finding of hazards.warnings) warnings.add(blamePath(origins[index], finding.path), finding.message);
  });
  const sshUser = host.ssh.user ?? fleet.ssh.user;
  if (sshUser !== "root" && !(host.ssh.sudo ?? fleet.ssh.sudo))
    warnings.add(
      formatPath(host.ssh.sudo !== undefined ? [...hostPath, "ssh", "sudo"] : host.ssh.user !== undefined ? [...hostPath, "ssh", "user"] : ["ssh", "sudo"]),
      `host '${host.name}' is reached as ${sshUser} without sudo: the files qmail-fleet writes belong to root, so pulumi up would be refused; set ssh.sudo: true (and give ${sshUser} sudo), or log in as root`,
    );
  if (services.length === 0 && errors.size === 0)
    warnings.add(formatPath([...hostPath, "services"]), `host '${host.name}' runs no services: add some to services or hosts[].services`);

  return {
    name: host.name,
    address: host.address,
    ssh: {
      address: host.address,
      port: host.ssh.port ?? fleet.ssh.port,
      user: host.ssh.user ?? fleet.ssh.user,
      sudo: host.ssh.sudo ?? fleet.ssh.sudo,
      ...defined({ hostKey: host.ssh.hostKey && keyWithoutComment(host.ssh.hostKey), knownHostsFile: host.ssh.knownHostsFile }),
    },
    qmailDir: host.qmailDir,
    serviceDir: host.serviceDir,
    superviseDir: host.superviseDir ?? `${host.qmailDir}/supervise`,
    services,
    ...defined({ ssl, authUsers: mergeAuthUsers(fleet.authUsers, host.authUsers) }),
  };
}

/** The host's key and chain (each the host's own or the fleet's); both or neither. */
function resolveSsl(fleet: RawFleet, host: RawHost, hostIndex: number, errors: IssueList, warnings: IssueList, now: Date): HostConfig["ssl"] {
  const key = host.sslKey ?? fleet.sslKey;
  const certificate = host.sslCertificate ?? fleet.sslCertificate;
  const keyPath = host.sslKey !== undefined ? formatPath(["hosts", hostIndex, "sslKey"]) : "sslKey";
  const certificatePath = host.sslCertificate !== undefined ? formatPath(["hosts", hostIndex, "sslCertificate"]) : "sslCertificate";
  if (key === undefined && certificate === undefined) return undefined;
  if (key === undefined) {
    errors.add(host.sslCertificate !== undefined ? formatPath(["hosts", hostIndex, "sslKey"]) : "sslKey", `${certificatePath} is set but no private key: set sslKey too (pulumi config set --secret sslKey < key.pem)`);
    return undefined;
  }
  if (certificate === undefined) {
    errors.add(host.sslKey !== undefined ? formatPath(["hosts", hostIndex, "sslCertificate"]) : "sslCertificate", `${keyPath} is set but no certificate: set sslCertificate to the PEM chain, server certificate first`);
    return undefined;
  }
  if (typeof key === "string" && typeof certificate === "string") {
    const finding = sslPairFinding(key, certificate);
    if (finding) errors.add(finding.field === "sslKey" ? keyPath : certificatePath, finding.message);
    const validity = certificateValidityFinding(certificate, now);
    if (!finding && validity) warnings.add(certificatePath, validity);
  }
  return { key, certificate };
}

/** The fleet's users, then the host's: a host entry replaces the fleet entry of the same user in place. */
function mergeAuthUsers(fleetUsers: RawFleet["authUsers"], hostUsers: RawHost["authUsers"]): HostConfig["authUsers"] {
  if (fleetUsers === undefined) return hostUsers;
  if (hostUsers === undefined) return fleetUsers;
  if (isEncryptedList(hostUsers)) return hostUsers;
  if (isEncryptedList(fleetUsers)) return fleetUsers;
  const hostByUser = new Map(hostUsers.map((entry) => [entry.user, entry]));
  const merged = fleetUsers.map((entry) => hostByUser.get(entry.user) ?? entry);
  const fleetNames = new Set(fleetUsers.map((entry) => entry.user));
  return [...merged, ...hostUsers.filter((entry) => !fleetNames.has(entry.user))];
}

/**
 * The shared files' own rules: entries the builders would refuse, saltSecret
 * for plain passwords, tcpRules sets no service uses; warnings for files the
 * config describes that no service reads.
 */
function sharedFileFindings(
  fleet: RawFleet,
  hosts: HostConfig[],
  invalidServices: Array<Record<string, unknown>>,
  errors: IssueList,
  warnings: IssueList,
  now: Date,
): void {
  const userLists: Array<{ base: PathKey[]; users: RawFleet["authUsers"] }> = [
    { base: ["authUsers"], users: fleet.authUsers },
    ...fleet.hosts.map((host, hostIndex) => ({ base: ["hosts", hostIndex, "authUsers"] as PathKey[], users: host.authUsers })),
  ];
  let firstPassword: string | undefined;
  for (const { base, users } of userLists) {
    if (users === undefined || isEncryptedList(users)) continue;
    const seen = new Map<string, number>();
    users.forEach((entry, index) => {
      const first = seen.get(entry.user);
      if (first !== undefined)
        errors.add(formatPath([...base, index, "user"]), `user '${entry.user}' is listed twice (also ${formatPath([...base, first])}): keep one entry`);
      else seen.set(entry.user, index);
      for (const finding of authUserFindings(entry)) errors.add(formatPath([...base, index, ...finding.path]), finding.message);
      if (entry.expires !== undefined) {
        const seconds = parseExpiry(entry.expires);
        if (typeof seconds === "number" && seconds * 1000 <= now.getTime())
          warnings.add(
            formatPath([...base, index, "expires"]),
            `user '${entry.user}' expired on ${new Date(seconds * 1000).toISOString().slice(0, 10)}: qmail-smtpd refuses the login; remove the entry, or move the date`,
          );
      }
      if (entry.password !== undefined) firstPassword ??= formatPath([...base, index, "password"]);
    });
  }
  if (firstPassword !== undefined) {
    const problem = saltSecretFinding(fleet.saltSecret, firstPassword);
    if (problem) errors.add("saltSecret", problem);
  }

  for (const [path, set] of Object.entries(fleet.tcpRules ?? {})) {
    for (const finding of tcpRuleSetFindings(set)) errors.add(formatPath(["tcpRules", path, ...finding.path]), finding.message);
    const named = hosts.some((host) => host.services.some((service) => service.accessRules === path)) || invalidServices.some((entry) => entry.accessRules === path);
    if (!named)
      errors.add(
        formatPath(["tcpRules", path]),
        `no service uses the rule set ${path}: its key must be the cdb path a service gives as accessRules; fix the key or the service's accessRules, or remove the set`,
      );
  }
  if (fleet.validRcptTo)
    for (const finding of validRcptToAddressFindings(fleet.validRcptTo.addresses))
      errors.add(formatPath(["validRcptTo", ...finding.path]), finding.message);

  // Described but never read: harmless, but probably not what was meant.
  const anyService = (test: (service: ServiceConfig) => boolean) => hosts.some((host) => host.services.some(test));
  if (fleet.validRcptTo && !anyService((s) => s.validRcptTo.cdbFile !== undefined))
    warnings.add("validRcptTo", "no service sets validRcptTo.cdbFile, so validrcptto.cdb is not written anywhere");
  if (fleet.authUsers && !anyService((s) => s.auth.method === "cdb"))
    warnings.add("authUsers", "no service uses auth.method cdb, so auth.cdb is not written anywhere");
  hosts.forEach((host, hostIndex) => {
    if (host.ssl && !host.services.some((s) => s.ssl || !s.denyTls))
      warnings.add(
        formatPath(fleet.hosts[hostIndex].sslKey !== undefined ? ["hosts", hostIndex, "sslKey"] : ["sslKey"]),
        `host '${host.name}' has no service using TLS (all deny STARTTLS), so its certificate file is not written`,
      );
  });
}

function* mergeServiceEntries(
  fleetEntries: ReadonlyArray<Record<string, unknown> & { name: string }>,
  hostEntries: ReadonlyArray<Record<string, unknown> & { name: string }>,
  hostIndex: number,
): Generator<{ merged: Record<string, unknown>; origin: ServiceOrigin }> {
  const hostIndexByName = new Map(hostEntries.map((entry, index) => [entry.name, index]));
  const fleetNames = new Set(fleetEntries.map((entry) => entry.name));
  for (const [index, entry] of fleetEntries.entries()) {
    const hostEntryIndex = hostIndexByName.get(entry.name);
    const origin: ServiceOrigin = { fleet: { index, entry } };
    if (hostEntryIndex === undefined) {
      yield { merged: entry, origin };
      continue;
    }
    const hostEntry = hostEntries[hostEntryIndex];
    origin.host = { hostIndex, index: hostEntryIndex, entry: hostEntry };
    yield { merged: deepMerge(entry, hostEntry), origin };
  }
  for (const [index, entry] of hostEntries.entries()) {
    if (!fleetNames.has(entry.name)) yield { merged: entry, origin: { host: { hostIndex, index, entry } } };
  }
}

function applyPreset(service: Record<string, unknown>): Record<string, unknown> {
  const preset = PRESETS[service.preset as PresetName];
  return preset ? deepMerge(preset.fields, service) : service;
}

/** The path of the entry that set the field: the host's override, else the fleet entry, else the most specific one. */
function blamePath(origin: ServiceOrigin, path: PathKey[]): string {
  const hostBase = (o: NonNullable<ServiceOrigin["host"]>): PathKey[] => ["hosts", o.hostIndex, "services", o.index];
  if (origin.host && setsPath(origin.host.entry, path)) return formatPath([...hostBase(origin.host), ...path]);
  if (origin.fleet && setsPath(origin.fleet.entry, path)) return formatPath(["services", origin.fleet.index, ...path]);
  const base = origin.host ? hostBase(origin.host) : ["services", origin.fleet!.index];
  return formatPath([...base, ...path]);
}

function duplicateNames(entries: ReadonlyArray<{ name: string }>, base: PathKey[], what: string, errors: IssueList): void {
  const seen = new Map<string, number>();
  const folded = new Map<string, number>();
  entries.forEach((entry, index) => {
    const first = seen.get(entry.name);
    const same = folded.get(entry.name.toLowerCase());
    if (first !== undefined)
      errors.add(formatPath([...base, index, "name"]), `duplicate ${what} name '${entry.name}' (also ${formatPath([...base, first])}): names must be unique`);
    else if (same !== undefined)
      errors.add(
        formatPath([...base, index, "name"]),
        `${what} name '${entry.name}' differs from '${entries[same].name}' (${formatPath([...base, same])}) only in case: on a case-insensitive file system their rendered files would land in one directory; rename one`,
      );
    seen.set(entry.name, index);
    if (same === undefined) folded.set(entry.name.toLowerCase(), index);
  });
}

/** Two hosts that SSH reaches at one address and port are one machine configured twice. */
function sameHostTwice(fleet: RawFleet, errors: IssueList): void {
  const seen = new Map<string, number>();
  fleet.hosts.forEach((host, index) => {
    const port = host.ssh.port ?? fleet.ssh.port;
    const address = /^[0-9a-fA-F:.]+$/.test(host.address) && host.address.includes(":") ? normalizeIp(host.address) : host.address.toLowerCase();
    const key = `${address === "any" ? host.address : address}|${port}`;
    const first = seen.get(key);
    if (first === undefined) seen.set(key, index);
    else
      errors.add(
        formatPath(["hosts", index, "address"]),
        `hosts '${fleet.hosts[first].name}' and '${host.name}' are both ${host.address} port ${port}: one machine configured twice, whose configurations would overwrite each other; remove one, or correct the address`,
      );
  });
}

/** Collects issues once each: a fleet service's problem would otherwise repeat for every host. */
class IssueList {
  private readonly issues = new Map<string, ConfigIssue>();
  add(path: string, message: string): void {
    this.issues.set(`${path}\0${message}`, { path, message });
  }
  get size(): number {
    return this.issues.size;
  }
  list(): ConfigIssue[] {
    return [...this.issues.values()];
  }
}

/** A list given as one Pulumi secret, still encrypted (read from a stack file). */
export function isEncryptedList(value: unknown): value is { secure: string } {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function defined<T extends Record<string, unknown>>(fields: T): Partial<T> {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as Partial<T>;
}
