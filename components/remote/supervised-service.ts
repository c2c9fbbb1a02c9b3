// SupervisedService: a daemontools service linked into svscan's directory,
// restarted only when what it reads at start changed.
import * as pulumi from "@pulumi/pulumi";
import { loadLogic } from "./load-logic";
import type * as Logic from "./supervised-service-logic";
import type { Connection } from "./ssh-connection";

const logicPath = require.resolve("./supervised-service-logic");

const provider: pulumi.dynamic.ResourceProvider = {
  diff: (id, olds, news) => loadLogic<typeof Logic>(logicPath).diff(id, olds, news),
  create: (inputs) => loadLogic<typeof Logic>(logicPath).create(inputs),
  update: (id, olds, news) => loadLogic<typeof Logic>(logicPath).update(id, olds, news),
  delete: (id, props) => loadLogic<typeof Logic>(logicPath).remove(id, props),
  read: (id, props) => loadLogic<typeof Logic>(logicPath).read(id, props),
};

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
