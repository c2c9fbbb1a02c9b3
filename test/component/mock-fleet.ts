// Builds a Fleet under Pulumi's mocks and records what each resource was
// registered with: its type and inputs (as the engine would receive them, from
// the mocks' newResource) and its parent, dependsOn and additionalSecretOutputs
// (from a `transformations` option on the Fleet, which every child inherits:
// the mocks do not see resource options).
import * as pulumi from "@pulumi/pulumi";
import { parseFleetConfig } from "../../lib/config";
import type { FleetPlan, HostPlan, ManagedFile } from "../../lib/host-plan";
import { planFleet } from "../../lib/plan";
import { spawnSync } from "node:child_process";
import { extractPem, pemBlock } from "../pem";

export const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKREcv9w/RBTq8tGL0tCpFgM07bu1UoHQJLyD4sT+RgM";
export const PRIVATE_KEY = pemBlock("OPENSSH PRIVATE KEY", "mock-client-key");
export const SSL_KEY = pemBlock("PRIVATE KEY", "mock-ssl-key");

export const TYPES = {
  fleet: "qmail-fleet:index:Fleet",
  mailhub: "qmail-fleet:index:Mailhub",
  provider: "pulumi:providers:qmail",
  hostConfiguration: "qmail:index:HostConfiguration",
  smtpService: "qmail-fleet:index:SmtpService",
  sslKeyFile: "qmail-fleet:index:SslKeyFile",
  authCdb: "qmail-fleet:index:AuthCdb",
  validRcptToCdb: "qmail-fleet:index:ValidRcptToCdb",
  tcpRulesCdb: "qmail-fleet:index:TcpRulesCdb",
} as const;

/** `count` hosts mx1, mx2, ... with one MX service each. */
export function hostsConfig(count: number, rollout?: FleetOptionsInput["rollout"]): FleetOptionsInput {
  return {
    services: [{ name: "smtpd", preset: "mx" }],
    hosts: Array.from({ length: count }, (_, i) => ({
      name: `mx${i + 1}`,
      address: `192.0.2.${i + 10}`,
      ssh: { hostKey: HOST_KEY },
      services: [{ name: "smtpd", ip: `192.0.2.${i + 10}` }],
    })),
    ...(rollout ? { rollout } : {}),
  };
}

/** Two hosts with two services each. */
export function twoHostConfig(): FleetOptionsInput {
  return {
    services: [
      { name: "smtpd", preset: "mx" },
      { name: "submission", preset: "submission", certificateFile: "/var/qmail/control/servercert.pem", auth: { method: "checkpassword", checkpasswordProgram: "/usr/local/bin/checkpassword" } },
    ],
    hosts: [
      { name: "mx1", address: "192.0.2.10", ssh: { hostKey: HOST_KEY }, services: [{ name: "smtpd", ip: "192.0.2.10" }, { name: "submission", ip: "192.0.2.10" }] },
      { name: "mx2", address: "192.0.2.20", ssh: { hostKey: HOST_KEY }, services: [{ name: "smtpd", ip: "192.0.2.20" }, { name: "submission", ip: "192.0.2.20" }] },
    ],
  };
}

/** A key and a self-signed certificate that match, made by openssl. */
export function sslPair(cn = "mx1.example.com"): { key: string; certificate: string } {
  const made = spawnSync("openssl", ["req", "-x509", "-newkey", "ed25519", "-nodes", "-subj", `/CN=${cn}`, "-days", "2", "-keyout", "-", "-out", "-"], { encoding: "utf8" });
  if (made.status !== 0) throw new Error(made.stderr);
  return { key: extractPem(made.stdout, "PRIVATE KEY"), certificate: extractPem(made.stdout, "CERTIFICATE") };
}

/**
 * The two-host config with shared files on mx1 only: a validrcptto.cdb its
 * smtpd reads per connection (restarts nothing) and the SSL key file its
 * services read at start (a secret).
 */
export function configWithSharedFiles(pair = sslPair()): FleetOptionsInput {
  const config = twoHostConfig();
  const [mx1] = config.hosts;
  mx1.sslKey = pair.key;
  mx1.sslCertificate = pair.certificate;
  mx1.services = [{ name: "smtpd", ip: "192.0.2.10", validRcptTo: { cdbFile: "/var/qmail/control/validrcptto.cdb" } }, { name: "submission", ip: "192.0.2.10" }];
  config.validRcptTo = { addresses: ["postmaster@example.com"] };
  return config;
}

/** The plan a stack file with this config gives (lib's planFleet), to compare with what the components register. */
export function planOf(config: FleetOptionsInput): FleetPlan {
  const parsed = parseFleetConfig(config as Record<string, unknown>);
  if (!parsed.ok) throw new Error(parsed.errors.map((e) => `${e.path}: ${e.message}`).join("\n"));
  return planFleet(parsed.config);
}

/** A copy of the plan whose file at `host`:`path` holds `content`. */
export function withContent(plan: FleetPlan, host: string, path: string, content: string | Buffer): FleetPlan {
  const copy: FleetPlan = structuredClone(plan);
  // structuredClone turns Buffers into Uint8Arrays: make them Buffers again.
  for (const h of copy.hosts) for (const f of h.files) f.content = Buffer.from(f.content);
  const file = fileOf(hostOf(copy, host), path);
  file.content = Buffer.from(content);
  return copy;
}

export function hostOf(plan: FleetPlan, name: string): HostPlan {
  const host = plan.hosts.find((h) => h.name === name);
  if (!host) throw new Error(`no host ${name}`);
  return host;
}

export function fileOf(host: HostPlan, path: string): ManagedFile {
  const file = host.files.find((f) => f.path === path);
  if (!file) throw new Error(`no file ${path} on ${host.name}`);
  return file;
}

export interface Registered {
  /** `<last part of the type token> <name>`, e.g. `HostConfiguration mx1`. */
  key: string;
  type: string;
  name: string;
  custom: boolean;
  /** Inputs as the engine receives them; secrets appear as RPC secret wrappers. */
  inputs: Record<string, unknown>;
  /** Key of the parent resource, undefined for a root resource. */
  parent?: string;
  /** Keys of the resources named in dependsOn. */
  dependsOn: string[];
  additionalSecretOutputs: string[];
}

export interface FleetRun {
  resources: Registered[];
  get(key: string): Registered;
  ofType(type: string): Registered[];
}

const keyOf = (type: string, name: string) => `${type.split(":").pop()} ${name}`;

/** The stack-file config of a plan builder, for a Fleet. */
export type FleetOptionsInput = import("../../components/fleet").FleetOptions;

/** Registers a Fleet for `config` against fresh mocks and waits until every resource is registered. */
export async function registerFleet(
  config: FleetOptionsInput,
  options: { privateKey?: string; name?: string; mailhubNamePrefix?: string } = { privateKey: PRIVATE_KEY },
): Promise<FleetRun> {
  const { Fleet } = await import("../../components/fleet");
  return registerProgram((record) => {
    const privateKey = options.privateKey === undefined ? undefined : pulumi.secret(options.privateKey);
    new Fleet(options.name ?? "fleet", { ...config, privateKey, mailhubNamePrefix: options.mailhubNamePrefix ?? "" }, { transformations: [record] });
  });
}

/**
 * Runs `program` against fresh mocks (it gives `record` to every root it
 * creates) and waits until every resource, HostConfigurations included, is
 * registered.
 */
export async function registerProgram(program: (record: pulumi.ResourceTransformation) => void): Promise<FleetRun> {
  const inputs = new Map<string, { custom: boolean; inputs: Record<string, unknown> }>();
  await pulumi.runtime.setMocks({
    newResource: (args) => {
      inputs.set(keyOf(args.type, args.name), { custom: args.custom ?? false, inputs: args.inputs });
      return { id: `${args.name}-id`, state: args.inputs };
    },
    call: (args) => args.inputs,
  });

  const keys = new Map<pulumi.Resource, string>();
  const declared: Array<Omit<Registered, "custom" | "inputs" | "dependsOn"> & { waitsFor: unknown }> = [];
  const created: pulumi.Resource[] = [];
  const record: pulumi.ResourceTransformation = ({ resource, type, name, opts }) => {
    const key = keyOf(type, name);
    keys.set(resource, key);
    created.push(resource);
    declared.push({
      key,
      type,
      name,
      parent: opts.parent ? keys.get(opts.parent) : undefined,
      waitsFor: opts.dependsOn,
      additionalSecretOutputs: [...((opts as pulumi.CustomResourceOptions).additionalSecretOutputs ?? [])],
    });
    return undefined;
  };

  program(record);
  // Mailhubs register their HostConfigurations once the program's turn is over.
  await new Promise((resolve) => setImmediate(resolve));
  await Promise.all(created.map((r) => new Promise((resolve) => r.urn.apply(resolve))));
  // Let the components' registerOutputs calls reach these mocks before the next run replaces them.
  await pulumi.runtime.disconnect();

  const resources: Registered[] = [];
  for (const { waitsFor, ...d } of declared) {
    const registered = inputs.get(d.key);
    if (!registered) throw new Error(`${d.key} was never registered`);
    const dependsOn = (await resourceList(waitsFor)).map((r) => keys.get(r) ?? "(unknown)");
    resources.push({ ...d, dependsOn, ...registered });
  }
  const byKey = new Map(resources.map((r) => [r.key, r]));
  if (byKey.size !== resources.length) throw new Error("two resources share a type and name");
  return {
    resources,
    get(key) {
      const found = byKey.get(key);
      if (!found) throw new Error(`no resource ${key}; have:\n${[...byKey.keys()].join("\n")}`);
      return found;
    },
    ofType: (type) => resources.filter((r) => r.type === type),
  };
}

async function resourceList(dependsOn: unknown): Promise<pulumi.Resource[]> {
  if (dependsOn === undefined) return [];
  const list = await (Array.isArray(dependsOn) ? Promise.all(dependsOn) : Promise.resolve(dependsOn).then((d) => (Array.isArray(d) ? Promise.all(d) : [d])));
  return list as pulumi.Resource[];
}

/** True when an input arrived at the engine as a Pulumi secret. */
export const isSecret = (value: unknown): boolean => pulumi.runtime.isRpcSecret(value);

/** The plain value of an input, secret or not. */
export const plain = (value: unknown): unknown => (isSecret(value) ? pulumi.runtime.unwrapRpcSecret(value) : value);
