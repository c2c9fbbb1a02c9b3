// One mailhub as the library components describe it (a connection, services,
// the shared files), checked and planned by the same code as a stack file:
// the spec becomes a one-host fleet config, parseFleetConfig checks it, and
// planFleet plans it. Issues come back named by the component and field that
// set the value instead of by a stack-file path. Pure: no I/O beyond `readFile`.
import { parseFleetConfig, type ConfigIssue, type HostConfig } from "./config";
import type { HostPlan } from "./host-plan";
import { planFleet, PlanError, type PlanOptions } from "./plan";
import { formatPath } from "./schema/issue-path";

/** A part's name in messages, e.g. `SmtpService mx`. */
export type PartLabel = string;

export interface MailhubSpec {
  /** The Mailhub's label in messages. */
  label: PartLabel;
  /** The host's name in plans and script headers. */
  hostName: string;
  connection: {
    host: string;
    port?: number;
    user?: string;
    hostKey?: string;
    knownHostsFile?: string;
    sudo?: boolean;
  };
  qmailDir?: string;
  serviceDir?: string;
  superviseDir?: string;
  /** Each service's options, its name among them. */
  services: Array<{ label: PartLabel; options: Record<string, unknown> }>;
  sslKey?: { label: PartLabel; key: string; certificate: string };
  auth?: { label: PartLabel; users: unknown[]; saltSecret?: string };
  validRcptTo?: { label: PartLabel; addresses?: string[]; files?: string[] };
  tcpRules: Array<{ label: PartLabel; path: string; rules?: unknown[]; file?: string }>;
}

export type MailhubPlanResult =
  | { ok: true; plan: HostPlan; host: HostConfig; warnings: ConfigIssue[] }
  | { ok: false; errors: ConfigIssue[] };

/** Checks the spec with the CLI's rules and plans the host; issues are named by component and field. */
export function planMailhub(spec: MailhubSpec, options: PlanOptions = {}): MailhubPlanResult {
  const parsed = parseFleetConfig(fleetConfigOf(spec));
  const rename = issueRenamer(spec);
  if (!parsed.ok) return { ok: false, errors: parsed.errors.map(rename) };
  try {
    const plan = planFleet(parsed.config, options);
    return { ok: true, plan: plan.hosts[0], host: parsed.config.hosts[0], warnings: [...parsed.warnings.map(rename), ...plan.warnings.map((message) => ({ path: spec.label, message }))] };
  } catch (error) {
    if (!(error instanceof PlanError)) throw error;
    return { ok: false, errors: [rename({ path: error.path ?? spec.label, message: error.message })] };
  }
}

/** The spec as a stack file would write it: one host, its services, the fleet's shared files. */
export function fleetConfigOf(spec: MailhubSpec): Record<string, unknown> {
  const { host, port, user, hostKey, knownHostsFile, sudo } = spec.connection;
  const config: Record<string, unknown> = {
    hosts: [
      defined({
        name: spec.hostName,
        address: host,
        ssh: defined({ port, user, hostKey, knownHostsFile, sudo }),
        qmailDir: spec.qmailDir,
        serviceDir: spec.serviceDir,
        superviseDir: spec.superviseDir,
        services: spec.services.map((service) => service.options),
      }),
    ],
  };
  if (spec.sslKey) Object.assign(config, { sslKey: spec.sslKey.key, sslCertificate: spec.sslKey.certificate });
  if (spec.auth) Object.assign(config, defined({ authUsers: spec.auth.users, saltSecret: spec.auth.saltSecret }));
  if (spec.validRcptTo) config.validRcptTo = defined({ addresses: spec.validRcptTo.addresses, files: spec.validRcptTo.files });
  if (spec.tcpRules.length > 0)
    config.tcpRules = Object.fromEntries(spec.tcpRules.map((set) => [set.path, defined({ rules: set.rules, file: set.file })]));
  return config;
}

/** Stack-file paths (`hosts[0].services[1].port`) renamed to the part that set them (`SmtpService submission: port`). */
function issueRenamer(spec: MailhubSpec): (issue: ConfigIssue) => ConfigIssue {
  const host = (...rest: Array<string | number>) => formatPath(["hosts", 0, ...rest]);
  const prefixes: Array<[string, string]> = [
    [host("ssh", "hostKey"), `${spec.label}: connection.hostKey`],
    [host("ssh", "port"), `${spec.label}: connection.port`],
    [host("ssh", "user"), `${spec.label}: connection.user`],
    [host("ssh"), `${spec.label}:`],
    [host("address"), `${spec.label}: connection.host`],
    [host("name"), `${spec.label}: hostName`],
    ...spec.services.map((service, index): [string, string] => [host("services", index), `${service.label}:`]),
    [host(), `${spec.label}:`],
  ];
  if (spec.sslKey) prefixes.push(["sslKey", `${spec.sslKey.label}: key`], ["sslCertificate", `${spec.sslKey.label}: certificate`]);
  if (spec.auth) prefixes.push(["authUsers", `${spec.auth.label}: users`], ["saltSecret", `${spec.auth.label}: saltSecret`]);
  if (spec.validRcptTo) prefixes.push(["validRcptTo", `${spec.validRcptTo.label}:`]);
  for (const set of spec.tcpRules) prefixes.push([formatPath(["tcpRules", set.path]), `${set.label}:`]);

  return (issue) => {
    for (const [prefix, label] of prefixes) {
      if (issue.path !== prefix && !issue.path.startsWith(`${prefix}.`) && !issue.path.startsWith(`${prefix}[`)) continue;
      const rest = issue.path.slice(prefix.length).replace(/^\./, "");
      const path = label.endsWith(":") ? `${label.slice(0, -1)}${rest ? `: ${rest}` : ""}` : `${label}${rest.startsWith("[") ? rest : rest ? `.${rest}` : ""}`;
      return { path, message: issue.message };
    }
    return issue;
  };
}

function defined<T extends Record<string, unknown>>(fields: T): Partial<T> {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as Partial<T>;
}

/** A stand-in host, so that one part can be checked on its own before it meets its mailhub. */
const STAND_IN_CERTIFICATE = "/var/qmail/control/servercert.pem";
const CHECK_HOST = { hostName: "check", connection: { host: "localhost", knownHostsFile: "known_hosts" } } as const;

/**
 * The errors the CLI's rules find in one part alone (its options, its own
 * files), named by the part; what depends on the other parts of its mailhub
 * is checked when the mailhub plans.
 */
export function checkPart(part: Omit<Partial<MailhubSpec>, "label" | "hostName" | "connection">, label: PartLabel): ConfigIssue[] {
  const spec: MailhubSpec = { ...CHECK_HOST, label: "the check host", services: [], tcpRules: [], ...part };
  // Alone, a service cannot know whether its mailhub has an SslKeyFile: a stand-in certificate file, checked for real when the mailhub plans.
  spec.services = spec.services.map((service) => ({ ...service, options: { certificateFile: STAND_IN_CERTIFICATE, ...service.options } }));
  // A rule set is an error unless a service reads it: give it a stand-in reader.
  if (spec.services.length === 0 && spec.tcpRules.length > 0)
    spec.services = spec.tcpRules.map((set, index) => ({ label: "a stand-in service", options: { name: `check${index}`, ip: `127.0.0.${index + 1}`, accessRules: set.path } }));
  const parsed = parseFleetConfig(fleetConfigOf(spec));
  if (parsed.ok) return [];
  const rename = issueRenamer(spec);
  return parsed.errors.map(rename).filter((issue) => issue.path === label || issue.path.startsWith(`${label}:`) || issue.path.startsWith(`${label}.`));
}
