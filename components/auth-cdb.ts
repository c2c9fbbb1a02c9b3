// AuthCdb: the logins of SMTP AUTH as auth.cdb, written at the auth.cdbFile of
// every service of the mailhub with auth.method cdb. Plain passwords are
// hashed (SHA-512 crypt) with salts derived from saltSecret, so the same
// users give the same bytes; the file is a secret, the state keeps its sha256.
import * as pulumi from "./pulumi-sdk";
import type { Mailhub } from "./mailhub";
import type { AuthUser } from "./options";
import { checkPartArgs } from "./part-check";
import { filesAt, type PlannedFile } from "./planned-file";

/** A login whose password may come from another resource or a stack secret. */
export type AuthUserInput = Omit<AuthUser, "password"> & {
  /** A plain password, hashed with SHA-512 crypt and a salt derived from saltSecret. */
  password?: pulumi.Input<string>;
};

export interface AuthCdbArgs {
  /** The mailhub whose services read auth.cdb. */
  mailhub: Mailhub;
  /** The logins: `{ user, password | hash, env?, expires? }`, each user once. */
  users: AuthUserInput[];
  /** Secret of at least 16 bytes the salts of plain passwords are derived from; required when a user has a password. */
  saltSecret?: pulumi.Input<string>;
}

export class AuthCdb extends pulumi.ComponentResource {
  /** auth.cdb at each path a service reads it from, with its summary (the number of logins). */
  readonly files: pulumi.Output<PlannedFile[]>;

  constructor(name: string, args: AuthCdbArgs, opts?: pulumi.ComponentResourceOptions) {
    const label = `AuthCdb ${name}`;
    super("qmail-fleet:index:AuthCdb", name, {}, checkPartArgs(label, { auth: { label, users: args.users, saltSecret: args.saltSecret as string | undefined } }, { parent: args.mailhub, ...opts }));
    args.mailhub.attach({ kind: "auth", label, users: args.users, saltSecret: args.saltSecret });
    this.files = args.mailhub.planned.apply(({ files, readers }) => filesAt(files, readers.auth));
    this.registerOutputs({ files: this.files });
  }
}
