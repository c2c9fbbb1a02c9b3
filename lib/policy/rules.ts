// The house rules of a qmail fleet, as pure functions over what the program
// plans for each host (a HostConfiguration's inputs) and, for the rules that
// need the whole fleet, over all of them and the rollout's batches. The
// policy pack (policy/) runs them inside `pulumi preview`; `qmail-fleet diff`
// runs the same functions offline on the inputs it plans.
//
// A policy is the house rule, independent of the config's `acknowledge`: a
// hazard the operator acknowledged (an open relay, say) is still a violation
// here. The fleet lifts a rule by setting it advisory or disabled in the
// pack's config, where a reviewer sees it.
import type { FileSpec, HostConfigurationArgs, ServiceSpec } from "../../provider/types";
import { rolloutBatches, type RolloutPolicy } from "../rollout";
import { isLoopback } from "../schema/primitives";

export type Enforcement = "mandatory" | "advisory" | "disabled";

export const HOST_RULE_NAMES = [
  "ssl-key-file-permissions",
  "auth-cdb-not-world-readable",
  "no-open-relay-on-mx",
  "submission-requires-auth-and-tls",
  "host-key-pinned",
  "validrcptto-on-mx",
] as const;
export const FLEET_RULE_NAMES = ["rollout-in-batches"] as const;

export type HostRuleName = (typeof HOST_RULE_NAMES)[number];
export type FleetRuleName = (typeof FLEET_RULE_NAMES)[number];
export type RuleName = HostRuleName | FleetRuleName;
export const RULE_NAMES: readonly RuleName[] = [...HOST_RULE_NAMES, ...FLEET_RULE_NAMES];

/** One violation of one rule. */
export interface PolicyResult {
  rule: RuleName;
  /** The rule's level as the fleet set it: mandatory stops a preview, advisory only warns. */
  enforcement: Exclude<Enforcement, "disabled">;
  /** Names the host, service or file, what is wrong and what to do. */
  message: string;
  /** The host it is about; absent for a fleet-wide result. */
  host?: string;
}

/** What a host rule reads: a HostConfiguration's inputs (secret bytes and rollout timing are not looked at). */
export type PolicyHost = Pick<HostConfigurationArgs, "host" | "connection" | "files" | "services">;

/** A fleet as the rollout takes it: its hosts, and their names batch by batch in rollout order. */
export interface PolicyFleet {
  hosts: PolicyHost[];
  batches: string[][];
  /** The fleet's name in messages, when it has one. */
  name?: string;
}

/** A fleet planned offline (a config's hosts in order and its rollout policy), batched as `pulumi up` takes it. */
export function fleetOfPlan(hosts: PolicyHost[], rollout: Pick<RolloutPolicy, "canary" | "batchSize">, name?: string): PolicyFleet {
  return { hosts, batches: rolloutBatches(hosts.map((h) => h.host), rollout), ...(name !== undefined ? { name } : {}) };
}

/** The fleet's settings of the rules: each rule's level, and the values the rules compare with. */
export interface PolicyConfig {
  enforcement?: Partial<Record<RuleName, Enforcement>>;
  /** The group the SSL key file must have (the group the SMTP services run as). @default "nofiles" */
  sslKeyGroup?: string;
  /** The most hosts one rollout batch may change at once: a fleet larger than this must roll out in batches. @default 10 */
  maxBatchHosts?: number;
}

export const DEFAULT_ENFORCEMENT: Record<RuleName, Exclude<Enforcement, "disabled">> = {
  "ssl-key-file-permissions": "mandatory",
  "auth-cdb-not-world-readable": "mandatory",
  "no-open-relay-on-mx": "mandatory",
  "submission-requires-auth-and-tls": "mandatory",
  "host-key-pinned": "mandatory",
  "validrcptto-on-mx": "advisory",
  "rollout-in-batches": "mandatory",
};

export const DEFAULT_SSL_KEY_GROUP = "nofiles";
export const DEFAULT_MAX_BATCH_HOSTS = 10;

/** One line per rule, for the pack's descriptions and the README. */
export const RULE_DESCRIPTIONS: Record<RuleName, string> = {
  "ssl-key-file-permissions": "The file holding the SSL key is owned by root, group nofiles (the services' group), mode 0640.",
  "auth-cdb-not-world-readable": "auth.cdb (password hashes) is never readable by other users.",
  "no-open-relay-on-mx": "No MX service (port 25 on an address other machines reach) lets every client relay: no tcprules rule that matches every client (address \"\", \"=\" while tcpserver looks up host names, or one for each first octet such as 0-255.) sets RELAYCLIENT.",
  "submission-requires-auth-and-tls": "Every submission service (port 587 or 465) requires AUTH and TLS.",
  "host-key-pinned": "Every host's SSH host key is pinned: a well-formed public key line.",
  "validrcptto-on-mx": "Every MX service checks recipients against validrcptto.cdb.",
  "rollout-in-batches": "A fleet larger than maxBatchHosts rolls out in batches of at most that many hosts.",
};

/** Finds what a rule finds wrong with one host; each string is a complete message. */
type HostCheck = (host: PolicyHost, config: Required<Omit<PolicyConfig, "enforcement">>) => string[];

/** The level a rule runs at under `config`. */
export function enforcementOf(rule: RuleName, config: PolicyConfig = {}): Enforcement {
  return config.enforcement?.[rule] ?? DEFAULT_ENFORCEMENT[rule];
}

const settings = (config: PolicyConfig) => ({
  sslKeyGroup: config.sslKeyGroup ?? DEFAULT_SSL_KEY_GROUP,
  maxBatchHosts: config.maxBatchHosts ?? DEFAULT_MAX_BATCH_HOSTS,
});

/** The results of every enabled host rule for one host, in rule order. */
export function checkHost(host: PolicyHost, config: PolicyConfig = {}): PolicyResult[] {
  return HOST_RULE_NAMES.flatMap((rule) => checkHostRule(rule, host, config));
}

/** The results of one host rule for one host, at its level under `config` (none when disabled). */
export function checkHostRule(rule: HostRuleName, host: PolicyHost, config: PolicyConfig = {}): PolicyResult[] {
  const enforcement = enforcementOf(rule, config);
  if (enforcement === "disabled") return [];
  return HOST_CHECKS[rule](host, settings(config)).map((message) => ({ rule, enforcement, message, host: host.host }));
}

/** The results of the fleet-wide rules for one fleet. */
export function checkFleet(fleet: PolicyFleet, config: PolicyConfig = {}): PolicyResult[] {
  const enforcement = enforcementOf("rollout-in-batches", config);
  if (enforcement === "disabled") return [];
  return rolloutInBatches(fleet, settings(config).maxBatchHosts).map((message) => ({ rule: "rollout-in-batches", enforcement, message }));
}

/** Every rule over a fleet: each host's results in fleet order, then the fleet's. */
export function checkAll(fleet: PolicyFleet, config: PolicyConfig = {}): PolicyResult[] {
  return [...fleet.hosts.flatMap((host) => checkHost(host, config)), ...checkFleet(fleet, config)];
}

// --- the rules ---------------------------------------------------------------

const ACKNOWLEDGED = "acknowledging the hazard in the config does not lift this house rule";

/** The services of a host with what the plan says about them (older inputs carry no traits and are not judged by them). */
const servicesWithTraits = (host: PolicyHost) =>
  Object.entries(host.services)
    .filter((entry): entry is [string, ServiceSpec & { traits: NonNullable<ServiceSpec["traits"]> }] => entry[1].traits !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

const where = (service: Pick<ServiceSpec, "listen">) => `port ${service.listen.port} on ${service.listen.ip}`;

/** A public MX: SMTP on port 25 of an address other machines reach. */
export const isMx = (service: Pick<ServiceSpec, "listen">) => service.listen.port === 25 && !isLoopback(service.listen.ip);
/** Message submission: port 587, or 465 (SMTPS). */
export const isSubmission = (service: Pick<ServiceSpec, "listen">) => service.listen.port === 587 || service.listen.port === 465;

/** The planned files of a host that a rule looks at: those the services name, or of the given kind. */
function filesNamed(host: PolicyHost, named: (traits: NonNullable<ServiceSpec["traits"]>) => string | undefined, fallback: (file: FileSpec) => boolean): Array<[string, FileSpec]> {
  const paths = new Set(servicesWithTraits(host).map(([, s]) => named(s.traits)).filter((p): p is string => p !== undefined));
  return Object.entries(host.files)
    .filter(([path, file]) => paths.has(path) || fallback(file))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

const modeBits = (mode: string) => Number.parseInt(mode, 8);

const sslKeyFilePermissions: HostCheck = (host, { sslKeyGroup }) =>
  // The certificate file is the only file planned as a secret of kind "secret": it holds the key.
  filesNamed(host, (t) => t.certificateFile, (file) => file.kind === "secret").flatMap(([path, file]) => {
    const wrong: string[] = [];
    if (file.owner !== "root") wrong.push(`owner ${file.owner} (must be root)`);
    if (file.group !== sslKeyGroup) wrong.push(`group ${file.group} (must be ${sslKeyGroup})`);
    if (file.mode !== "0640") wrong.push(`mode ${file.mode} (must be 0640)`);
    if (wrong.length === 0) return [];
    return [
      `host ${host.host}: the SSL key file ${path} has ${wrong.join(", ")}: only root may write the key and only the services' group read it; ` +
        `run the services that read it with group ${sslKeyGroup} (the key file takes their group), or set this rule's group in the policy config`,
    ];
  });

const authCdbNotWorldReadable: HostCheck = (host) =>
  filesNamed(host, (t) => t.authCdb, (file) => file.kind === "cdb" && file.secret).flatMap(([path, file]) => {
    if ((modeBits(file.mode) & 0o007) === 0) return [];
    return [
      `host ${host.host}: auth.cdb ${path} has mode ${file.mode}, which lets every user on the host read the password hashes; it must give others nothing (0640, group of the services)`,
    ];
  });

const noOpenRelayOnMx: HostCheck = (host) =>
  servicesWithTraits(host)
    .filter(([, s]) => isMx(s) && s.traits.relaysEveryClient === true)
    .map(
      ([name, s]) =>
        `host ${host.host}: service ${name} (${where(s)}) is an open relay: a rule of the tcprules at ${s.traits.accessRules} that matches every client (address "", "=" while tcpserver looks up host names, or one for each first octet such as 0-255.) sets RELAYCLIENT, so every client may send mail anywhere through it; ` +
        `give RELAYCLIENT only to your own networks (e.g. address "127.") and end with { address: "", action: allow } without it (${ACKNOWLEDGED})`,
    );

const submissionRequiresAuthAndTls: HostCheck = (host) =>
  servicesWithTraits(host)
    .filter(([, s]) => isSubmission(s))
    .flatMap(([name, s]) => {
      const missing: string[] = [];
      if (!s.traits.requiresAuth) missing.push("AUTH (set auth.require: true)");
      if (s.traits.tls !== "required" && s.traits.tls !== "wrapped") missing.push(`TLS (set forceTls: true, or ssl: true for port 465; TLS is ${s.traits.tls} now)`);
      if (missing.length === 0) return [];
      return [`host ${host.host}: submission service ${name} (${where(s)}) must require ${missing.join(" and ")}, so that passwords and mail from users never cross the network in the clear and strangers cannot submit`];
    });

/** Key types OpenSSH pins in known_hosts. */
const HOST_KEY_TYPES = ["ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "ssh-rsa", "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com"];

/** Why a host key line is not a pinned key, or undefined when it is one: `type base64`, the blob naming the same type. */
export function hostKeyProblem(hostKey: string | undefined): string | undefined {
  if (hostKey === undefined || hostKey.trim() === "") return "no host key is pinned (connection.hostKey is empty)";
  const [type, blob, ...rest] = hostKey.trim().split(/\s+/);
  if (!HOST_KEY_TYPES.includes(type)) return `connection.hostKey does not start with a key type (${HOST_KEY_TYPES.slice(0, 3).join(", ")}, ...)`;
  if (blob === undefined || !/^[A-Za-z0-9+/]+={0,2}$/.test(blob)) return `connection.hostKey has no base64 key after ${type}`;
  if (rest.length > 1) return "connection.hostKey holds more than one key line";
  const bytes = Buffer.from(blob, "base64");
  const length = bytes.length >= 4 ? bytes.readUInt32BE(0) : -1;
  if (length < 0 || bytes.subarray(4, 4 + length).toString("latin1") !== type) return `connection.hostKey's key is not a ${type} key`;
  return undefined;
}

const hostKeyPinned: HostCheck = (host) => {
  const problem = hostKeyProblem(host.connection?.hostKey);
  if (!problem) return [];
  return [
    `host ${host.host}: ${problem}; pin the key the host presents: set ssh.hostKey to the line of /etc/ssh/ssh_host_ed25519_key.pub read on the host's console, or ssh.knownHostsFile`,
  ];
};

const validRcptToOnMx: HostCheck = (host) =>
  servicesWithTraits(host)
    .filter(([, s]) => isMx(s) && s.traits.validRcptToCdb === undefined)
    .map(
      ([name, s]) =>
        `host ${host.host}: MX service ${name} (${where(s)}) accepts mail for any recipient: without validrcptto.cdb it takes mail for addresses that do not exist and bounces it later (backscatter); set validRcptTo.cdbFile on the service and give validRcptTo its addresses`,
    );

const HOST_CHECKS: Record<HostRuleName, HostCheck> = {
  "ssl-key-file-permissions": sslKeyFilePermissions,
  "auth-cdb-not-world-readable": authCdbNotWorldReadable,
  "no-open-relay-on-mx": noOpenRelayOnMx,
  "submission-requires-auth-and-tls": submissionRequiresAuthAndTls,
  "host-key-pinned": hostKeyPinned,
  "validrcptto-on-mx": validRcptToOnMx,
};

function rolloutInBatches(fleet: PolicyFleet, maxBatchHosts: number): string[] {
  const hostCount = fleet.hosts.length;
  if (hostCount <= maxBatchHosts) return [];
  const largest = fleet.batches.reduce((most, batch) => (batch.length > most.length ? batch : most), [] as string[]);
  if (largest.length <= maxBatchHosts) return [];
  const which = fleet.batches.length === 1 ? "all at once" : `in a batch of ${largest.length} (${largest.slice(0, 3).join(", ")}${largest.length > 3 ? ", ..." : ""})`;
  return [
    `${fleet.name ? `fleet ${fleet.name}` : "the fleet"}: its ${hostCount} hosts would change ${which}, more than ${maxBatchHosts} at once, so one bad change reaches them all before any health check; ` +
      `set a rollout policy, for example rollout: { canary: 1, batchSize: ${maxBatchHosts} }`,
  ];
}
