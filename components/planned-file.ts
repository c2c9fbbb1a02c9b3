// What a component reports about a file it puts on its mailhub: enough to
// find it, check it and read its summary, never its bytes.
import type { ManagedFile } from "../lib/host-plan";
import { sha256Hex } from "../provider/build-files";

export interface PlannedFile {
  /** Absolute path on the host. */
  path: string;
  /** sha256 of the bytes, hex. */
  sha256: string;
  /** Size in bytes. */
  size: number;
  owner: string;
  group: string;
  /** Permission bits in octal, e.g. `0640`. */
  mode: string;
  /** One line for people, e.g. `validrcptto.cdb: 12 addresses`; never a secret. */
  summary?: string;
}

export function plannedFile(file: ManagedFile): PlannedFile {
  return {
    path: file.path,
    sha256: sha256Hex(file.content),
    size: file.content.length,
    owner: file.owner,
    group: file.group,
    mode: file.mode.toString(8).padStart(4, "0"),
    ...(file.summary !== undefined ? { summary: file.summary } : {}),
  };
}

/** The files at these paths, in the plan's order, without their kind. */
export function filesAt(files: ReadonlyArray<PlannedFile & { kind?: unknown }>, paths: readonly string[]): PlannedFile[] {
  return files.filter((file) => paths.includes(file.path)).map(({ kind: _kind, ...file }) => file);
}
