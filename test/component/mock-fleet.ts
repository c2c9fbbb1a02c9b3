// Builds a Fleet under Pulumi's mocks and records what each resource was
// registered with: its type and inputs (as the engine would receive them, from
// the mocks' newResource) and its parent, dependsOn and additionalSecretOutputs
// (from a `transformations` option on the Fleet, which every child inherits:
// the mocks do not see resource options).
import * as pulumi from "@pulumi/pulumi";
import { parseFleetConfig } from "../../lib/config";
import type { FleetPlan, HostPlan, ManagedFile } from "../../lib/host-plan";
import { planFleet } from "../../lib/plan";
import type { RolloutPolicy } from "../../lib/rollout";
import { pemBlock } from "../pem";

export const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKREcv9w/RBTq8tGL0tCpFgM07bu1UoHQJLyD4sT+RgM";
export const PRIVATE_KEY = pemBlock("OPENSSH PRIVATE KEY", "mock-client-key");
export const SSL_KEY = pemBlock("PRIVATE KEY", "mock-ssl-key");

export const TYPES = {
  fleet: "qmail-fleet:index:Fleet",
  mailhub: "qmail-fleet:index:Mailhub",
  provider: "pulumi:providers:qmail",
  hostConfiguration: "qmail:index:HostConfiguration",
} as const;

/** `count` hosts mx1, mx2, ... with one MX service each. */
export function hostsPlan(count: number): FleetPlan {
  const parsed = parseFleetConfig({
    services: [{ name: "smtpd", preset: "mx" }],
    hosts: Array.from({ length: count }, (_, i) => ({
      name: `mx${i + 1}`,
      address: `192.0.2.${i + 10}`,
      ssh: { hostKey: HOST_KEY },
      services: [{ name: "smtpd", ip: `192.0.2.${i + 10}` }],
    })),
  });
  if (!parsed.ok) throw new Error(parsed.errors.map((e) => `${e.path}: ${e.message}`).join("\n"));
  return planFleet(parsed.config);
}

/** Two hosts with two services each, planned the way the Pulumi program plans them. */
export function twoHostPlan(): FleetPlan {
  const services = [
    { name: "smtpd", preset: "mx" },
    { name: "submission", preset: "submission", certificateFile: "/var/qmail/control/servercert.pem", auth: { method: "cdb", cdbFile: "/var/qmail/control/auth.cdb" } },
  ];
  const parsed = parseFleetConfig({
    services,
    hosts: [
      { name: "mx1", address: "192.0.2.10", ssh: { hostKey: HOST_KEY }, services: [{ name: "smtpd", ip: "192.0.2.10" }, { name: "submission", ip: "192.0.2.10" }] },
      { name: "mx2", address: "192.0.2.20", ssh: { hostKey: HOST_KEY }, services: [{ name: "smtpd", ip: "192.0.2.20" }, { name: "submission", ip: "192.0.2.20" }] },
    ],
  });
  if (!parsed.ok) throw new Error(parsed.errors.map((e) => `${e.path}: ${e.message}`).join("\n"));
  return planFleet(parsed.config);
}

/**
 * The two-host plan with shared files added by hand on mx1 (the planner does
 * not emit them yet): a validrcptto.cdb read per connection (restarts nothing)
 * and an SSL key that smtpd reads at start (a secret).
 */
export function planWithSharedFiles(): FleetPlan {
  const plan = twoHostPlan();
  const mx1 = plan.hosts[0];
  mx1.directories.push({ path: "/var/qmail/control", owner: "root", group: "qmail", mode: 0o755 });
  mx1.files.push(
    {
      path: "/var/qmail/control/validrcptto.cdb",
      content: Buffer.from([0x00, 0x08, 0x00, 0x00, 0xff, 0x01]),
      owner: "root",
      group: "qmail",
      mode: 0o644,
      kind: "cdb",
      secret: false,
      restarts: [],
    },
    {
      path: "/var/qmail/control/servercert.key",
      content: Buffer.from(SSL_KEY),
      owner: "root",
      group: "qmaild",
      mode: 0o640,
      kind: "secret",
      secret: true,
      restarts: [{ service: "smtpd", part: "service" }],
    },
  );
  return plan;
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

/** Registers a Fleet for `plan` against fresh mocks and waits until every resource is registered. */
export async function registerFleet(
  plan: FleetPlan,
  options: { privateKey?: string; rollout?: RolloutPolicy } = { privateKey: PRIVATE_KEY },
): Promise<FleetRun> {
  const inputs = new Map<string, { custom: boolean; inputs: Record<string, unknown> }>();
  await pulumi.runtime.setMocks({
    newResource: (args) => {
      inputs.set(keyOf(args.type, args.name), { custom: args.custom ?? false, inputs: args.inputs });
      return { id: `${args.name}-id`, state: args.inputs };
    },
    call: (args) => args.inputs,
  });

  const keys = new Map<pulumi.Resource, string>();
  const declared: Array<Omit<Registered, "custom" | "inputs">> = [];
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
      dependsOn: resourceList(opts.dependsOn).map((r) => keys.get(r) ?? "(unknown)"),
      additionalSecretOutputs: [...((opts as pulumi.CustomResourceOptions).additionalSecretOutputs ?? [])],
    });
    return undefined;
  };

  const { Fleet } = await import("../../components/fleet");
  const privateKey = options.privateKey === undefined ? undefined : pulumi.secret(options.privateKey);
  new Fleet("fleet", { plan, privateKey, rollout: options.rollout }, { transformations: [record] });
  await Promise.all(created.map((r) => new Promise((resolve) => r.urn.apply(resolve))));
  // Let the components' registerOutputs calls reach these mocks before the next run replaces them.
  await pulumi.runtime.disconnect();

  const resources = declared.map((d) => {
    const registered = inputs.get(d.key);
    if (!registered) throw new Error(`${d.key} was never registered`);
    return { ...d, ...registered };
  });
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

function resourceList(dependsOn: pulumi.CustomResourceOptions["dependsOn"]): pulumi.Resource[] {
  if (dependsOn === undefined) return [];
  if (pulumi.Resource.isInstance(dependsOn)) return [dependsOn];
  if (Array.isArray(dependsOn) && dependsOn.every((d) => pulumi.Resource.isInstance(d))) return dependsOn as pulumi.Resource[];
  throw new Error("dependsOn holds outputs: the components pass plain resources");
}

/** True when an input arrived at the engine as a Pulumi secret. */
export const isSecret = (value: unknown): boolean => pulumi.runtime.isRpcSecret(value);

/** The plain value of an input, secret or not. */
export const plain = (value: unknown): unknown => (isSecret(value) ? pulumi.runtime.unwrapRpcSecret(value) : value);
