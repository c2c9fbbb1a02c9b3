// SupervisedService: a daemontools service linked into svscan's directory,
// restarted only when what it reads at start changed.
import * as pulumi from "@pulumi/pulumi";
import { providerFor } from "./load-logic";
import type { Connection } from "./ssh-connection";

const provider = providerFor(require.resolve("./supervised-service-logic"));

export interface SupervisedServiceArgs {
  connection: pulumi.Input<Omit<Connection, "privateKey">>;
  privateKey?: pulumi.Input<string | undefined>;
  name: string;
  dir: string;
  link: string;
  listen: { ip: string; port: number };
  checkBanner: boolean;
  /** Changes when anything the service reads at start changes. */
  serviceTrigger: pulumi.Input<string>;
  /** Changes when log/run changes. */
  logTrigger: pulumi.Input<string>;
}

export class SupervisedService extends pulumi.dynamic.Resource {
  declare readonly banner: pulumi.Output<string | undefined>;
  declare readonly running: pulumi.Output<boolean>;

  constructor(name: string, args: SupervisedServiceArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      provider,
      name,
      {
        ...args,
        privateKey: args.privateKey === undefined ? undefined : pulumi.secret(args.privateKey),
        linkTarget: undefined,
        running: undefined,
        banner: undefined,
      },
      { ...opts, additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), "privateKey"] },
      "qmail-fleet",
      "SupervisedService",
    );
  }
}
