// SslKeyFile: the SSL private key and its certificate chain in one PEM file
// (root, the services' group, 0640), written wherever the mailhub's services
// read their certificate (certificateFile, or qmail's control/servercert.pem).
// The key stays a Pulumi secret: the state keeps only its sha256.
import * as pulumi from "./pulumi-sdk";
import type { Mailhub } from "./mailhub";
import { checkPartArgs } from "./part-check";
import { filesAt, type PlannedFile } from "./planned-file";

export interface SslKeyFileArgs {
  /** The mailhub whose services read the file. */
  mailhub: Mailhub;
  /** The private key, PEM, without a passphrase (an ACME resource's key, a stack secret). */
  key: pulumi.Input<string>;
  /** The certificate chain, PEM, server certificate first. */
  certificate: pulumi.Input<string>;
}

export class SslKeyFile extends pulumi.ComponentResource {
  /** The file at each path a service reads it from: path, sha256, owner, group, mode, summary (names and expiry, never the key). */
  readonly files: pulumi.Output<PlannedFile[]>;

  constructor(name: string, args: SslKeyFileArgs, opts?: pulumi.ComponentResourceOptions) {
    const label = `SslKeyFile ${name}`;
    super("qmail-fleet:index:SslKeyFile", name, {}, checkPartArgs(label, { sslKey: { label, key: args.key as string, certificate: args.certificate as string } }, { parent: args.mailhub, ...opts }));
    args.mailhub.attach({ kind: "sslKey", label, key: args.key, certificate: args.certificate });
    this.files = args.mailhub.planned.apply(({ files, readers }) => filesAt(files, readers.certificate));
    this.registerOutputs({ files: this.files });
  }
}
