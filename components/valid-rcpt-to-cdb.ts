// ValidRcptToCdb: the recipients the mailhub accepts, as validrcptto.cdb,
// written at the validRcptTo.cdbFile of every service that sets one. Read per
// connection, so a new list restarts nothing.
import * as pulumi from "./pulumi-sdk";
import type { Mailhub } from "./mailhub";
import { checkPartArgs } from "./part-check";
import { filesAt, type PlannedFile } from "./planned-file";

export interface ValidRcptToCdbArgs {
  /** The mailhub whose services read validrcptto.cdb. */
  mailhub: Mailhub;
  /**
   * Entries in validrcptto syntax: user@domain, list-default@domain, @domain, !user@domain.
   * @default []
   */
  addresses?: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * Files of such entries, one per line, read when the program runs (relative to its directory).
   * @default []
   */
  files?: string[];
}

export class ValidRcptToCdb extends pulumi.ComponentResource {
  /** validrcptto.cdb at each path a service reads it from, with its summary (the number of addresses). */
  readonly files: pulumi.Output<PlannedFile[]>;

  constructor(name: string, args: ValidRcptToCdbArgs, opts?: pulumi.ComponentResourceOptions) {
    const label = `ValidRcptToCdb ${name}`;
    super("qmail-fleet:index:ValidRcptToCdb", name, {}, checkPartArgs(label, { validRcptTo: { label, addresses: args.addresses as string[] | undefined, files: args.files } }, { parent: args.mailhub, ...opts }));
    args.mailhub.attach({ kind: "validRcptTo", label, addresses: args.addresses, files: args.files });
    this.files = args.mailhub.planned.apply(({ files, readers }) => filesAt(files, readers.validRcptTo));
    this.registerOutputs({ files: this.files });
  }
}
