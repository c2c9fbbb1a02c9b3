// HostConfiguration: the program's side of the provider's one resource, made
// from a HostPlan. Non-secret bytes go to the build directory under their
// sha256; secret bytes go in the inputs as a secret, which the provider drops
// before the state is written. The state keeps hashes, sizes and summaries.
import * as pulumi from "@pulumi/pulumi";
import type { HostPlan, ManagedFile } from "../lib/host-plan";
import { sha256Hex, storeBuildFile } from "../provider/build-files";
import {
  HOST_CONFIGURATION_TYPE,
  type DirectorySpec,
  type FileSpec,
  type HostConfigurationArgs,
  type ServiceSpec,
} from "../provider/types";

/** The provider's inputs for a planned host; writes non-secret bytes to the build directory. */
export function hostConfigurationArgs(plan: HostPlan, store: (bytes: Buffer) => string = storeBuildFile): HostConfigurationArgs {
  const directories: Record<string, DirectorySpec> = {};
  for (const dir of plan.directories) directories[dir.path] = { owner: dir.owner, group: dir.group, mode: octal(dir.mode) };

  const files: Record<string, FileSpec> = {};
  const secretContents: Record<string, string> = {};
  for (const file of plan.files) {
    const sha256 = file.secret ? sha256Hex(file.content) : store(file.content);
    if (file.secret) secretContents[sha256] = file.content.toString("base64");
    files[file.path] = fileSpec(file, sha256);
  }

  const services: Record<string, ServiceSpec> = {};
  for (const service of plan.services)
    services[service.name] = {
      dir: service.dir,
      link: service.link,
      listen: service.listen,
      // sslserver's banner comes only after a TLS handshake.
      checkBanner: !service.ssl,
      status: "up",
      traits: service.traits,
    };

  const { address, port, user, hostKey, sudo } = plan.ssh;
  return {
    host: plan.name,
    connection: { address, port, user, hostKey, sudo },
    directories,
    files,
    services,
    ...(Object.keys(secretContents).length > 0 ? { secretContents } : {}),
  };
}

function fileSpec(file: ManagedFile, sha256: string): FileSpec {
  const spec: FileSpec = {
    owner: file.owner,
    group: file.group,
    mode: octal(file.mode),
    sha256,
    size: file.content.length,
    kind: file.kind,
    secret: file.secret,
    restarts: file.restarts.map(({ service, part }) => ({ service, part })),
  };
  // A script's text makes previews show an edit as a diff.
  if (file.kind === "script" && !file.secret) spec.text = file.content.toString("utf8");
  if (file.summary !== undefined) spec.summary = file.summary;
  return spec;
}

const octal = (mode: number) => mode.toString(8).padStart(4, "0");

/** The provider's inputs, each of which may still be waiting for another resource. */
export type HostConfigurationInputs = { [K in keyof HostConfigurationArgs]: pulumi.Input<HostConfigurationArgs[K]> };

export class HostConfiguration extends pulumi.CustomResource {
  /** The SMTP banner each plain service answered with at its last start. */
  declare readonly banners: pulumi.Output<Record<string, string>>;

  constructor(name: string, args: HostConfigurationInputs, opts: pulumi.CustomResourceOptions) {
    const inputs: Record<string, unknown> = { ...args, banners: undefined };
    if (args.secretContents) inputs.secretContents = pulumi.secret(args.secretContents);
    super(HOST_CONFIGURATION_TYPE, name, inputs, opts);
  }
}
