// The RemotePath resources for a plan's directories and files: one place that
// maps a ManagedDirectory / ManagedFile to the drift-aware resource.
import * as pulumi from "@pulumi/pulumi";
import type { ManagedDirectory, ManagedFile } from "../lib/host-plan";
import { RemotePath } from "./remote/remote-path";
import type { Connection } from "./remote/ssh-connection";

export interface PathTarget {
  /** Host name, the first part of every resource name. */
  host: string;
  connection: Omit<Connection, "privateKey">;
  privateKey?: pulumi.Input<string>;
}

/**
 * Directories first (each after its managed parent), then files (each after
 * its managed directory). Returns the resources in plan order.
 */
export function managedPaths(
  target: PathTarget,
  directories: ManagedDirectory[],
  files: ManagedFile[],
  opts: pulumi.CustomResourceOptions,
): RemotePath[] {
  const { host, connection, privateKey } = target;
  const byPath = new Map<string, RemotePath>();
  const parentOf = (path: string) => byPath.get(path.slice(0, path.lastIndexOf("/")));
  const after = (path: string) => {
    const parent = parentOf(path);
    return { ...opts, dependsOn: [...toArray(opts.dependsOn), ...(parent ? [parent] : [])] };
  };

  const resources: RemotePath[] = [];
  for (const dir of directories) {
    const resource = new RemotePath(
      `${host}:${dir.path}`,
      { connection, privateKey, path: dir.path, type: "directory", owner: dir.owner, group: dir.group, mode: dir.mode },
      after(dir.path),
    );
    byPath.set(dir.path, resource);
    resources.push(resource);
  }
  for (const file of files) {
    resources.push(
      new RemotePath(
        `${host}:${file.path}`,
        {
          connection,
          privateKey,
          path: file.path,
          type: "file",
          owner: file.owner,
          group: file.group,
          mode: file.mode,
          content: file.content,
          // A cdb's bytes say nothing to a reviewer: they stay out of previews, its summary line shows instead.
          secret: file.secret || file.kind === "cdb",
          summary: file.summary,
        },
        after(file.path),
      ),
    );
  }
  return resources;
}

function toArray(value: pulumi.CustomResourceOptions["dependsOn"]): pulumi.Input<pulumi.Resource>[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value as pulumi.Input<pulumi.Resource>];
}
