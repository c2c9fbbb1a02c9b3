// Mailhub: one host, reached over SSH with its host key pinned, and everything
// qmail-fleet keeps on it as ONE HostConfiguration, so the host changes as a
// unit. Its parts (SmtpService, SslKeyFile, AuthCdb, ValidRcptToCdb and
// TcpRulesCdb components, or the same given in MailhubArgs) attach to it;
// once the program's current synchronous turn is over, every mailhub plans
// from all its parts and registers its HostConfiguration. A part that comes
// later is refused.
import * as pulumi from "./pulumi-sdk";
import { formatIssues, type ConfigIssue, type HostConfig } from "../lib/config";
import type { FileKind, HostPlan, ServicePlan } from "../lib/host-plan";
import { certificatePathOf } from "../lib/plan-files";
import { readLocalFile, resolveLocalPath } from "../lib/source/local-paths";
import { planMailhub, type MailhubSpec } from "../lib/mailhub-spec";
import { rolloutPolicySchema } from "../lib/schema/rollout";
import { pruneBuildFiles } from "../provider/build-files";
import type { HostConfigurationArgs, RolloutSettings } from "../provider/types";
import { HostConfiguration, type HostConfigurationInputs } from "./host-configuration-resource";
import { hostConfigurationArgs } from "./host-configuration";
import type { AuthCdbArgs } from "./auth-cdb";
import type { MailhubDirectories, SmtpServiceOptions } from "./options";
import { plannedFile, type PlannedFile } from "./planned-file";
import { isKnown } from "./part-check";
import { QmailProvider } from "./qmail-provider";
import type { SslKeyFileArgs } from "./ssl-key-file";
import type { TcpRulesCdbArgs } from "./tcp-rules-cdb";
import type { ValidRcptToCdbArgs } from "./valid-rcpt-to-cdb";
import "./redact-debug-log";

/**
 * How to reach the host: the field names and shape of @pulumi/command's
 * `remote.ConnectionArgs`, so one connection object serves both.
 */
export interface MailhubConnection {
  /** The address SSH connects to: an IP address or a DNS name. */
  host: pulumi.Input<string>;
  /**
   * SSH port.
   * @default 22
   */
  port?: pulumi.Input<number>;
  /**
   * Login user; a user other than root needs `sudo: true`.
   * @default "root"
   */
  user?: pulumi.Input<string>;
  /**
   * OpenSSH private key text. Given here, the mailhub holds it in a qmail
   * provider of its own (a secret in the provider's state); leave it out to
   * share the provider of a parent, such as a Fleet.
   * @default the parent's qmail provider, else ssh-agent
   */
  privateKey?: pulumi.Input<string>;
  /**
   * The ssh-agent socket. The qmail provider runs inside `pulumi` and uses
   * that process's SSH_AUTH_SOCK, so this may only name the same socket.
   * @default SSH_AUTH_SOCK
   */
  agentSocketPath?: pulumi.Input<string>;
  /**
   * The host's public key line (`ssh-ed25519 AAAA...`), pinned: no other key
   * is accepted. Read it on the host's console.
   * @default the key `knownHostsFile` holds for the host
   */
  hostKey?: pulumi.Input<string>;
}

export interface MailhubArgs extends MailhubDirectories {
  connection: MailhubConnection;
  /**
   * Run privileged commands through `sudo -n` (a non-root `connection.user`).
   * @default false
   */
  sudo?: boolean;
  /** A known_hosts file holding the host's key, when `connection.hostKey` is not given. */
  knownHostsFile?: string;
  /**
   * The host's name in messages and in the headers of its scripts.
   * @default the resource name
   */
  hostName?: string;
  /**
   * How a `pulumi up` checks this host's change: the health gate's timing and the failures tolerated.
   * @default settle 2 s, health timeout 60 s, no failure tolerated
   */
  rollout?: RolloutSettings;
  /** Resources this host's configuration waits for (a Fleet's previous batch). */
  after?: pulumi.Input<pulumi.Resource>[];
  /**
   * Log the warnings planning finds (advice, never blocking).
   * @default true; a Fleet reports them once for the whole fleet
   */
  reportWarnings?: boolean;

  // The parts, given here instead of as components of their own: plain parts of the mailhub, no resources.
  /** Services, each with its name: `{ name: "smtpd", preset: "mx", ip: "0" }`. @default [] */
  services?: Array<SmtpServiceOptions & { name: string }>;
  /** The SSL key and certificate file. @default none */
  sslKeyFile?: Omit<SslKeyFileArgs, "mailhub">;
  /** auth.cdb. @default none */
  authCdb?: Omit<AuthCdbArgs, "mailhub">;
  /** validrcptto.cdb. @default none */
  validRcptToCdb?: Omit<ValidRcptToCdbArgs, "mailhub">;
  /** tcprules cdbs. @default [] */
  tcpRulesCdbs?: Array<Omit<TcpRulesCdbArgs, "mailhub">>;
}

/** Per service its listen address and banner, and the files the host holds. */
export interface MailhubSummary {
  address: string;
  services: Record<string, { listen: string; banner: string | undefined }>;
  files: string[];
}

/** What planning gave the mailhub, as its parts report it: no bytes, no secret. */
export interface PlannedMailhub {
  address: string;
  files: Array<PlannedFile & { kind: FileKind }>;
  services: ServicePlan[];
  /** The paths the services read each shared file from. */
  readers: { certificate: string[]; auth: string[]; validRcptTo: string[] };
}

/** A plan ready to register: the parts' view of it and the HostConfiguration's inputs. */
interface Planning {
  view: PlannedMailhub;
  args: HostConfigurationArgs;
}

function planning(plan: HostPlan, host: HostConfig): Planning {
  const paths = (list: Array<string | undefined>) => [...new Set(list.filter((p): p is string => p !== undefined))];
  return {
    view: {
      address: plan.ssh.address,
      files: plan.files.map((file) => ({ ...plannedFile(file), kind: file.kind })),
      services: plan.services,
      readers: {
        certificate: paths(host.services.map(certificatePathOf)),
        auth: paths(host.services.filter((s) => s.auth.method === "cdb").map((s) => s.auth.cdbFile)),
        validRcptTo: paths(host.services.map((s) => s.validRcptTo.cdbFile)),
      },
    },
    args: hostConfigurationArgs(plan),
  };
}

/** A part's contribution to its mailhub's spec, values possibly still Inputs. */
export type MailhubPart =
  | { kind: "service"; label: string; options: pulumi.Input<Record<string, unknown>> }
  | { kind: "sslKey"; label: string; key: pulumi.Input<string>; certificate: pulumi.Input<string> }
  | { kind: "auth"; label: string; users: pulumi.Input<unknown[]>; saltSecret?: pulumi.Input<string> }
  | { kind: "validRcptTo"; label: string; addresses?: pulumi.Input<pulumi.Input<string>[]>; files?: string[] }
  | { kind: "tcpRules"; label: string; path: string; rules?: pulumi.Input<unknown[]>; file?: string };

const SINGLE_PARTS: Partial<Record<MailhubPart["kind"], string>> = {
  sslKey: "one SslKeyFile",
  auth: "one AuthCdb",
  validRcptTo: "one ValidRcptToCdb",
};

export class Mailhub extends pulumi.ComponentResource {
  /** The host's name in messages and script headers. */
  readonly hostName: string;
  /** The plan, once every part has attached and the values are known. */
  readonly planned: pulumi.Output<PlannedMailhub>;
  /** Every file the host holds: path, sha256, size, owner, group, mode, summary. */
  readonly files: pulumi.Output<PlannedFile[]>;
  /** The SMTP banner each plain service answered with at its last start, by service name. */
  readonly banners: pulumi.Output<Record<string, string>>;
  readonly summary: pulumi.Output<MailhubSummary>;
  /** The host's one HostConfiguration, registered once the mailhub has all its parts. */
  readonly configuration: Promise<HostConfiguration>;

  /** How messages name this mailhub, e.g. `Mailhub mx1`. */
  readonly label: string;
  private readonly parts: MailhubPart[] = [];
  private sealed = false;
  private readonly provider?: QmailProvider;
  private readonly settle: { planned: (value: pulumi.Output<PlannedMailhub>) => void; banners: (value: pulumi.Output<Record<string, string>>) => void; configuration: (value: HostConfiguration | PromiseLike<HostConfiguration>) => void };

  constructor(
    private readonly resourceName: string,
    private readonly args: MailhubArgs,
    opts?: pulumi.ComponentResourceOptions,
  ) {
    super("qmail-fleet:index:Mailhub", resourceName, {}, opts);
    const name = resourceName;
    this.hostName = args.hostName ?? name;
    this.label = `Mailhub ${name}`;
    const agent = args.connection.agentSocketPath;
    if (typeof agent === "string" && agent !== process.env.SSH_AUTH_SOCK)
      throw new pulumi.RunError(
        `${this.label}: connection.agentSocketPath: the qmail provider uses the ssh-agent of SSH_AUTH_SOCK in the pulumi process (${process.env.SSH_AUTH_SOCK ?? "not set"}): run pulumi with SSH_AUTH_SOCK=${agent}, or leave agentSocketPath out`,
      );
    if (args.rollout) checkRollout(this.label, args.rollout);
    if (args.connection.privateKey !== undefined) this.provider = new QmailProvider(name, { privateKey: args.connection.privateKey }, { parent: this });

    const [planned, settlePlanned] = pulumi.deferredOutput<PlannedMailhub>();
    const [banners, settleBanners] = pulumi.deferredOutput<Record<string, string>>();
    this.banners = banners;
    this.planned = planned;
    let settleConfiguration!: (value: HostConfiguration | PromiseLike<HostConfiguration>) => void;
    this.configuration = new Promise((r) => (settleConfiguration = r));
    this.configuration.catch(() => undefined); // a failed run is reported once, by settleMailhubs
    this.settle = { planned: settlePlanned, banners: settleBanners, configuration: settleConfiguration };

    this.files = this.planned.apply(({ files }) => files.map(({ kind: _kind, ...file }) => file));
    this.summary = pulumi.all([this.planned, this.banners]).apply(([planned, banners]) => ({
      address: planned.address,
      services: Object.fromEntries(
        planned.services.map((s) => [s.name, { listen: `${s.listen.ip}:${s.listen.port}`, banner: banners[s.name] || undefined }]),
      ),
      files: planned.files.map((f) => f.path),
    }));
    this.attachArgsParts(args);
    pendingMailhubs.push(this);
    if (pendingMailhubs.length === 1) setImmediate(settleMailhubs);
  }

  /**
   * The parts given in MailhubArgs, attached as they are: no resource of
   * their own (a host's parts change as one HostConfiguration anyway, and
   * every resource costs the engine a step on each run and refresh). They are
   * checked when the mailhub plans, named as its fields.
   */
  private attachArgsParts(args: MailhubArgs): void {
    for (const { name: serviceName, ...options } of args.services ?? [])
      this.attach({ kind: "service", label: `${this.label} services.${serviceName}`, options: { name: serviceName, ...options } });
    if (args.sslKeyFile) this.attach({ kind: "sslKey", label: `${this.label} sslKeyFile`, ...args.sslKeyFile });
    if (args.authCdb) this.attach({ kind: "auth", label: `${this.label} authCdb`, ...args.authCdb });
    if (args.validRcptToCdb) this.attach({ kind: "validRcptTo", label: `${this.label} validRcptToCdb`, ...args.validRcptToCdb });
    for (const set of args.tcpRulesCdbs ?? []) this.attach({ kind: "tcpRules", label: `${this.label} tcpRulesCdbs[${set.path}]`, ...set });
  }

  /** Adds a part's files and services to this host; called by a part's constructor, and for the parts in MailhubArgs. */
  attach(part: MailhubPart): void {
    if (this.sealed)
      throw new pulumi.RunError(
        `${part.label} cannot join ${this.label}: the mailhub has already registered its HostConfiguration. Create a mailhub's parts in the same synchronous turn as the mailhub (no await in between), or pass them in MailhubArgs`,
      );
    const single = SINGLE_PARTS[part.kind];
    const other = this.parts.find((p) => p.kind === part.kind && (single !== undefined || (part.kind === "tcpRules" && p.kind === "tcpRules" && p.path === part.path)));
    if (other)
      throw new pulumi.RunError(
        single
          ? `${part.label} cannot join ${this.label}: it already has ${single} (${other.label}); a mailhub holds ${single}, written wherever its services read it`
          : `${part.label} cannot join ${this.label}: ${other.label} already writes ${(part as { path: string }).path}`,
      );
    this.parts.push(part);
  }

  /** The spec of this host, its values possibly still Inputs. */
  private specInputs(): pulumi.Input<MailhubSpec> {
    const { connection, knownHostsFile, sudo, qmailDir, serviceDir, superviseDir } = this.args;
    const of = <K extends MailhubPart["kind"]>(kind: K) => this.parts.filter((p): p is Extract<MailhubPart, { kind: K }> => p.kind === kind);
    const [sslKey] = of("sslKey");
    const [auth] = of("auth");
    const [validRcptTo] = of("validRcptTo");
    return {
      label: this.label,
      hostName: this.hostName,
      connection: { host: connection.host, port: connection.port, user: connection.user, hostKey: connection.hostKey, knownHostsFile, sudo },
      qmailDir,
      serviceDir,
      superviseDir,
      services: of("service").map(({ label, options }) => ({ label, options })),
      sslKey: sslKey && { label: sslKey.label, key: sslKey.key, certificate: sslKey.certificate },
      auth: auth && { label: auth.label, users: auth.users, saltSecret: auth.saltSecret },
      validRcptTo: validRcptTo && { label: validRcptTo.label, addresses: validRcptTo.addresses, files: validRcptTo.files },
      tcpRules: of("tcpRules").map(({ label, path, rules, file }) => ({ label, path, rules, file })),
    } as pulumi.Input<MailhubSpec>;
  }

  /** Plans now when every value is known; else an Output that plans once they are (and fails the run on errors). */
  plan(): { errors: ConfigIssue[] } | { planning: Planning | pulumi.Output<Planning> } {
    this.sealed = true;
    const spec = this.specInputs();
    if (isKnown(spec)) {
      const result = planMailhub(spec as MailhubSpec, { readFile });
      if (!result.ok) return { errors: result.errors };
      if (this.args.reportWarnings !== false) this.warn(result.warnings);
      return { planning: planning(result.plan, result.host) };
    }
    // A secret input (a key, a password) must not make every input of the host secret: the provider gets the secret bytes as a secret of their own.
    const planned = pulumi.unsecret(pulumi.output(spec)).apply((known) => {
      const result = planMailhub(known as MailhubSpec, { readFile });
      if (!result.ok) throw new pulumi.RunError(`${this.label} has errors; nothing was changed:\n${formatIssues(result.errors)}`);
      if (this.args.reportWarnings !== false) this.warn(result.warnings);
      return planning(result.plan, result.host);
    });
    return { planning: planned as unknown as pulumi.Output<Planning> };
  }

  /** How SSH reaches the host, as declared (either may still be an Output). */
  machine(): { host: pulumi.Input<string>; port: pulumi.Input<number> | undefined } {
    return { host: this.args.connection.host, port: this.args.connection.port };
  }

  /** Registers the host's HostConfiguration from its plan. */
  register(planned: Planning | pulumi.Output<Planning>): void {
    const opts: pulumi.CustomResourceOptions = { parent: this, dependsOn: this.args.after ?? [], ...(this.provider ? { provider: this.provider } : {}) };
    const rollout = this.args.rollout ? { rollout: this.args.rollout } : {};
    let inputs: HostConfigurationInputs;
    if (pulumi.Output.isInstance(planned)) {
      const args = planned.apply((p) => p.args);
      inputs = {
        host: this.hostName,
        connection: args.connection,
        directories: args.directories,
        files: args.files,
        services: args.services,
        secretContents: args.apply((a) => a.secretContents ?? {}),
        ...rollout,
      };
      this.settle.planned(planned.apply((p) => p.view));
    } else {
      inputs = { ...planned.args, ...rollout };
      this.settle.planned(pulumi.output(planned.view));
    }
    const configuration = new HostConfiguration(this.resourceName, inputs, opts);
    this.settle.banners(configuration.banners.apply((banners) => banners ?? {}));
    this.settle.configuration(configuration);
    this.registerOutputs({ files: this.files, banners: this.banners, summary: this.summary });
  }

  /** Leaves the mailhub's outputs unknown after the error that stopped the run, so nothing waits for a plan that will not come. */
  fail(error: Error): void {
    this.sealed = true;
    this.settle.planned(pulumi.output(pulumi.unknown) as unknown as pulumi.Output<PlannedMailhub>);
    this.settle.banners(pulumi.output(pulumi.unknown) as unknown as pulumi.Output<Record<string, string>>);
    this.settle.configuration(Promise.reject(error));
  }

  private warn(warnings: ConfigIssue[]): void {
    for (const warning of warnings) void pulumi.log.warn(`${warning.path}: ${warning.message}`, this);
  }
}

/** `rollout` with the stack file's rules and messages: a negative maxFailures or a zero health timeout would stop or fail every change. */
function checkRollout(label: string, rollout: RolloutSettings): void {
  const { laterHostsWait: _laterHostsWait, ...policy } = rollout;
  const checked = rolloutPolicySchema.safeParse(policy);
  if (checked.success) return;
  // Each message names its field (rollout.maxFailures ...).
  const issues = checked.error.issues.map((issue) => ({ path: label, message: issue.message }));
  throw new pulumi.RunError(`${label} has errors; nothing was changed:\n${formatIssues(issues)}`);
}

/** Mailhubs created in the current turn, planned together when it is over. */
const pendingMailhubs: Mailhub[] = [];
/** Build files unused for a day are removed once per program run. */
let buildFilesPruned = false;

/**
 * Plans every mailhub created since the last call and registers their
 * HostConfigurations; any error stops all of them, so a bad part leaves every
 * host untouched. Runs by itself after the program's synchronous turn; tests
 * may call it to see the error.
 */
export function settleMailhubs(): void {
  const mailhubs = pendingMailhubs.splice(0);
  if (!buildFilesPruned) pruneBuildFiles();
  buildFilesPruned = true;
  const results = mailhubs.map((mailhub) => mailhub.plan());
  const errors = [...results.flatMap((result) => ("errors" in result ? result.errors : [])), ...sameMachineTwice(mailhubs)];
  if (errors.length > 0) {
    const error = new pulumi.RunError(`the mailhubs have errors; nothing was changed:\n${formatIssues(errors)}`);
    for (const mailhub of mailhubs) mailhub.fail(error);
    throw error;
  }
  mailhubs.forEach((mailhub, i) => mailhub.register((results[i] as { planning: Planning }).planning));
}

/**
 * Two mailhubs that SSH reaches at one address and port are one machine
 * configured twice: their configurations would overwrite each other, and
 * removing one would take away what the other holds. Compared where the
 * address is known when the program runs (a plain string), as the stack
 * file's hosts are.
 */
function sameMachineTwice(mailhubs: readonly Mailhub[]): ConfigIssue[] {
  const seen = new Map<string, Mailhub>();
  const issues: ConfigIssue[] = [];
  for (const mailhub of mailhubs) {
    const { host, port } = mailhub.machine();
    if (typeof host !== "string" || (port !== undefined && typeof port !== "number")) continue;
    const key = `${host.toLowerCase()}:${port ?? 22}`;
    const first = seen.get(key);
    if (first === undefined) seen.set(key, mailhub);
    else
      issues.push({
        path: `${mailhub.label} connection.host`,
        message: `${first.label} and ${mailhub.label} are both ${host} port ${port ?? 22}: one machine configured twice, whose configurations would overwrite each other; declare its services in one Mailhub, or correct the address`,
      });
  }
  return issues;
}

/**
 * Files a part names (validrcptto lists, tcprules sources, known_hosts),
 * relative to the project directory, read bounded as the CLI reads them: a
 * device or a pipe (/dev/zero) is refused instead of hanging the program.
 */
function readFile(path: string): Buffer {
  return readLocalFile(resolveLocalPath(path, process.cwd()));
}
