// TcpRulesCdb: a tcprules cdb (tcpserver -x) at the path the mailhub's
// services give as accessRules: which clients connect and the variables they
// get (RELAYCLIENT, ...). Read per connection, so a change restarts nothing.
import * as pulumi from "./pulumi-sdk";
import type { Mailhub } from "./mailhub";
import type { TcpRule } from "./options";
import { checkPartArgs } from "./part-check";
import { filesAt, type PlannedFile } from "./planned-file";

export interface TcpRulesCdbArgs {
  /** The mailhub whose services read the rules. */
  mailhub: Mailhub;
  /** The cdb's path: the accessRules of the services that use it, e.g. /var/qmail/control/tcp.smtp.cdb. */
  path: string;
  /** Rules in order, the first match wins; or give `file`. */
  rules?: TcpRule[];
  /** A tcprules source file (ADDRESS:allow|deny,NAME="value"), read when the program runs; or give `rules`. */
  file?: string;
}

export class TcpRulesCdb extends pulumi.ComponentResource {
  /** The cdb: path, sha256, size and summary (the number of rules). */
  readonly file: pulumi.Output<PlannedFile>;

  constructor(name: string, args: TcpRulesCdbArgs, opts?: pulumi.ComponentResourceOptions) {
    const label = `TcpRulesCdb ${name}`;
    const set = { label, path: args.path, rules: args.rules, file: args.file };
    super("qmail-fleet:index:TcpRulesCdb", name, {}, checkPartArgs(label, { tcpRules: [set] }, { parent: args.mailhub, ...opts }));
    args.mailhub.attach({ kind: "tcpRules", ...set });
    this.file = args.mailhub.planned.apply(({ files }) => filesAt(files, [args.path])[0]);
    this.registerOutputs({ file: this.file });
  }
}
