// HostConfiguration: the program's side of the provider's one resource, its
// inputs made from a HostPlan by hostConfigurationArgs (host-configuration.ts);
// the secret bytes go in the inputs as a secret, which the provider drops
// before the state is written.
import * as pulumi from "./pulumi-sdk";
import { HOST_CONFIGURATION_TYPE, type HostConfigurationArgs } from "../provider/types";

/** The provider's inputs, each of which may still be waiting for another resource. */
export type HostConfigurationInputs = { [K in keyof HostConfigurationArgs]: pulumi.Input<HostConfigurationArgs[K]> };

export class HostConfiguration extends pulumi.CustomResource {
  /** The SMTP banner each plain service answered with at its last start. */
  declare readonly banners: pulumi.Output<Record<string, string>>;

  constructor(name: string, args: HostConfigurationInputs, opts: pulumi.CustomResourceOptions) {
    const inputs: Record<string, unknown> = { ...args, banners: undefined };
    if (args.secretContents) inputs.secretContents = pulumi.secret(args.secretContents);
    super(HOST_CONFIGURATION_TYPE, name, inputs, opts);
  }
}
