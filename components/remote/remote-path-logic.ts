// What the RemotePath dynamic resource does: make one path on a host match
// (file, directory or symlink with owner, group and mode), and read it back for
// `pulumi refresh` so hand edits show up as changes.
import { createHash } from "node:crypto";
import type * as pulumi from "@pulumi/pulumi";
import {
  ensureDirectory,
  ensureSymlink,
  inspectPath,
  installFile,
  readText,
  removePath,
  type ObservedPath,
  type PathType,
} from "./host-operations";
import { withoutUndefined } from "./plain-props";
import type { Connection } from "./ssh-connection";

/** The properties of a RemotePath, as inputs and (with `present`) as outputs. */
export interface RemotePathProps {
  connection: Omit<Connection, "privateKey">;
  /** Kept apart from `connection` so state can hold it as a secret. */
  privateKey?: string;
  path: string;
  type: PathType;
  owner: string;
  group: string;
  /** Four octal digits. */
  mode: string;
  /** File content: text for `utf8`, base64 for `base64`. */
  content?: string;
  encoding?: "utf8" | "base64";
  /** sha256 of the file's bytes: what is on the host after a refresh. */
  sha256?: string;
  /** True when content is secret: never read back or shown. */
  secret?: boolean;
  /** Symlink target. */
  target?: string;
  /** One human line about the content, e.g. a cdb's record count. */
  summary?: string;
  /** Output only: whether the path exists on the host. */
  present?: boolean;
}

/** Largest file whose text a refresh reads back to show a hand edit as a diff. */
const READ_BACK_LIMIT = 256 * 1024;

export function contentBytes(props: RemotePathProps): Buffer {
  return Buffer.from(props.content ?? "", props.encoding === "base64" ? "base64" : "utf8");
}

export function sha256Hex(bytes: Buffer): string {
  return createHash("sha256").update(bytes).digest("hex");
}

function connectionOf(props: RemotePathProps): Connection {
  return { ...props.connection, privateKey: props.privateKey };
}

/** Property names whose difference between `olds` (state) and `news` (config) needs an update. */
export function changedProperties(olds: RemotePathProps, news: RemotePathProps): string[] {
  const changed: string[] = [];
  if (olds.present === false) changed.push("present");
  for (const key of ["owner", "group", "mode", "target"] as const) {
    if ((olds[key] ?? "") !== (news[key] ?? "")) changed.push(key);
  }
  if (news.type === "file" && (olds.sha256 ?? "") !== (news.sha256 ?? "")) changed.push("content");
  for (const key of ["address", "port", "user", "hostKey", "sudo"] as const) {
    if (olds.connection?.[key] !== news.connection?.[key]) changed.push(`connection.${key}`);
  }
  if ((olds.privateKey ?? "") !== (news.privateKey ?? "")) changed.push("privateKey");
  return changed;
}

export async function diff(_id: string, olds: RemotePathProps, news: RemotePathProps): Promise<pulumi.dynamic.DiffResult> {
  const replaces = ["path", "type"].filter((key) => olds[key as "path"] !== news[key as "path"]);
  const changed = changedProperties(olds, news);
  return { changes: replaces.length > 0 || changed.length > 0, replaces };
}

/** Makes the host match `props`, touching only what differs. */
async function apply(props: RemotePathProps): Promise<RemotePathProps> {
  const connection = connectionOf(props);
  const observed = await inspectPath(connection, props.path);
  if (observed.present && observed.type !== props.type) {
    throw new Error(
      `${props.connection.host}: ${props.path} is a ${observed.type} on the host, not a ${props.type}; ` +
        `move it away by hand if it is not needed, then run again`,
    );
  }
  const sameAttributes =
    observed.present && observed.owner === props.owner && observed.group === props.group && observed.mode === props.mode;
  let sha256 = props.sha256;
  switch (props.type) {
    case "file": {
      const bytes = contentBytes(props);
      sha256 = sha256Hex(bytes);
      if (!sameAttributes || observed.sha256 !== sha256) {
        sha256 = await installFile(connection, {
          path: props.path,
          content: bytes,
          owner: props.owner,
          group: props.group,
          mode: props.mode,
        });
      }
      break;
    }
    case "directory":
      if (!sameAttributes) await ensureDirectory(connection, props);
      break;
    case "symlink":
      if (!observed.present || observed.target !== props.target) {
        await ensureSymlink(connection, { path: props.path, target: props.target ?? "" });
      }
      break;
  }
  return withoutUndefined({ ...props, sha256, present: true });
}

export async function create(inputs: RemotePathProps): Promise<pulumi.dynamic.CreateResult> {
  const outs = await apply(inputs);
  return { id: `${inputs.connection.host}:${inputs.path}`, outs };
}

export async function update(_id: string, _olds: RemotePathProps, news: RemotePathProps): Promise<pulumi.dynamic.UpdateResult> {
  return { outs: await apply(news) };
}

export async function remove(_id: string, props: RemotePathProps): Promise<void> {
  await removePath(connectionOf(props), props.path, props.type);
}

/** What the path looks like on the host, in the shape of its properties. */
export async function read(id: string, props: RemotePathProps): Promise<pulumi.dynamic.ReadResult> {
  const connection = connectionOf(props);
  const observed: ObservedPath = await inspectPath(connection, props.path);
  const current: RemotePathProps = {
    ...props,
    present: observed.present,
    owner: observed.owner ?? "",
    group: observed.group ?? "",
    mode: observed.mode ?? "",
  };
  if (props.type === "symlink") current.target = observed.target ?? "";
  if (props.type === "file") {
    current.sha256 = observed.sha256 ?? "";
    // A hand-edited script is read back so the refresh shows the edit itself.
    if (observed.sha256 !== props.sha256 && !props.secret && props.encoding !== "base64") {
      current.content = observed.present && observed.type === "file" ? await readBackText(connection, props.path) : "";
    }
  }
  const { present: _present, ...inputs } = current;
  return { id, props: withoutUndefined(current), inputs: withoutUndefined(inputs) };
}

async function readBackText(connection: Connection, path: string): Promise<string> {
  const text = await readText(connection, path);
  return text.length > READ_BACK_LIMIT ? `(${text.length} bytes, not shown)` : text;
}
