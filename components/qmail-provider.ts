// QmailProvider: the provider plugin (pulumi-resource-qmail) that changes
// mailhubs over SSH. One per fleet, so the SSH private key is held once, as a
// secret, in the provider's own state.
import * as pulumi from "./pulumi-sdk";
import { PROVIDER_PACKAGE, type ProviderArgs } from "../provider/types";

/** The provider's configuration as a program gives it: each field may come from another resource. */
export type QmailProviderArgs = { [K in keyof ProviderArgs]: pulumi.Input<ProviderArgs[K]> };

export class QmailProvider extends pulumi.ProviderResource {
  constructor(name: string, args: QmailProviderArgs, opts?: pulumi.ResourceOptions) {
    super(PROVIDER_PACKAGE, name, { privateKey: args.privateKey === undefined ? undefined : pulumi.secret(args.privateKey) }, opts);
  }
}
