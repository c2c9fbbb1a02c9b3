// A HostPlan as the inputs of its HostConfiguration, without Pulumi: what the
// component (host-configuration-resource.ts) registers and what `qmail-fleet
// diff` compares, so both see the same inputs. Non-secret bytes go to the
// build directory under their sha256 (or are only hashed, for a caller that
// sends nothing); secret bytes go in secretContents, which the provider drops
// before the state is written. The state keeps hashes, sizes and summaries.
import type { HostPlan, ManagedFile } from "../lib/host-plan";
import { sha256Hex, storeBuildFile } from "../provider/build-files";
import type { DirectorySpec, FileSpec, HostConfigurationArgs, ServiceSpec } from "../provider/types";

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
