// RemotePath: one file, directory or symlink on a mailhub, drift-aware.
import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { providerFor } from "./load-logic";
import type { PathType } from "./host-operations";
import type { Connection } from "./ssh-connection";

const provider = providerFor(require.resolve("./remote-path-logic"));

export interface RemotePathArgs {
  connection: pulumi.Input<Omit<Connection, "privateKey">>;
  /** OpenSSH private key; undefined to use ssh-agent. Held as a secret. */
  privateKey?: pulumi.Input<string | undefined>;
  path: string;
  type: PathType;
  owner: string;
  group: string;
  /** Permission bits, e.g. 0o640. */
  mode: number;
  /** File bytes (files only): known when the program runs, since plans are pure. */
  content?: Buffer;
  /** Keep the content a secret: encrypted in state, never shown or read back. */
  secret?: boolean;
  /** Symlink target (symlinks only). */
  target?: string;
  /** One line shown in previews for content that is not text (cdb files). */
  summary?: pulumi.Input<string>;
}

export class RemotePath extends pulumi.dynamic.Resource {
  declare readonly path: pulumi.Output<string>;
  declare readonly sha256: pulumi.Output<string | undefined>;
  declare readonly present: pulumi.Output<boolean>;

  constructor(name: string, args: RemotePathArgs, opts?: pulumi.CustomResourceOptions) {
    const props: Record<string, pulumi.Input<unknown>> = {
      connection: args.connection,
      privateKey: args.privateKey === undefined ? undefined : pulumi.secret(args.privateKey),
      path: args.path,
      type: args.type,
      owner: args.owner,
      group: args.group,
      mode: args.mode.toString(8).padStart(4, "0"),
      target: args.target,
      summary: args.summary,
      secret: args.secret ?? false,
      present: undefined,
    };
    if (args.content) {
      // Binary content (cdb files) travels as base64, text as itself so previews show text diffs.
      const encoding = isText(args.content) ? "utf8" : "base64";
      const encoded = args.content.toString(encoding);
      props.content = args.secret ? pulumi.secret(encoded) : encoded;
      props.encoding = encoding;
      props.sha256 = createHash("sha256").update(args.content).digest("hex");
    }
    const secretOutputs = args.secret ? ["privateKey", "content"] : ["privateKey"];
    super(provider, name, props, {
      ...opts,
      additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), ...secretOutputs],
    }, "qmail-fleet", "RemotePath");
  }
}

/** UTF-8 text without NUL: shown as text in previews; anything else as base64. */
function isText(bytes: Buffer): boolean {
  return !bytes.includes(0) && Buffer.from(bytes.toString("utf8"), "utf8").equals(bytes);
}
