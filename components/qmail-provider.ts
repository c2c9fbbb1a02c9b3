// QmailProvider: the provider plugin (pulumi-resource-qmail) that changes
// mailhubs over SSH. One per fleet, so the SSH private key is held once, as a
// secret, in the provider's own state.
import * as pulumi from "@pulumi/pulumi";
import { PROVIDER_PACKAGE } from "../provider/types";

export interface QmailProviderArgs {
  /** OpenSSH private key text. @default ssh-agent (SSH_AUTH_SOCK of the `pulumi` process) */
  privateKey?: pulumi.Input<string>;
}

export class QmailProvider extends pulumi.ProviderResource {
  constructor(name: string, args: QmailProviderArgs, opts?: pulumi.ResourceOptions) {
    super(PROVIDER_PACKAGE, name, { privateKey: args.privateKey === undefined ? undefined : pulumi.secret(args.privateKey) }, opts);
  }
}
