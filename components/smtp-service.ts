// SmtpService: one qmail-smtpd service on one host: its directories, run and
// log/run scripts, and the supervised service itself, restarted only when a
// file it reads at start changed.
import * as pulumi from "@pulumi/pulumi";
import type { HostPlan, ServicePlan } from "../lib/host-plan";
import { managedPaths } from "./managed-paths";
import type { RemotePath } from "./remote/remote-path";
import { SupervisedService } from "./remote/supervised-service";
import type { Connection } from "./remote/ssh-connection";
import { restartTrigger } from "./restart-triggers";

export interface SmtpServiceArgs {
  host: HostPlan;
  service: ServicePlan;
  connection: Omit<Connection, "privateKey">;
  privateKey?: pulumi.Input<string>;
  /** Host-level resources the service needs in place before it starts (shared files). */
  needs?: pulumi.Resource[];
  /** Resources that must be done before anything of this service is touched (sequential rollout). */
  after?: pulumi.Resource[];
}

export class SmtpService extends pulumi.ComponentResource {
  readonly supervised: SupervisedService;
  readonly paths: RemotePath[];

  constructor(name: string, args: SmtpServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("qmail-fleet:index:SmtpService", name, {}, opts);
    const { host, service, connection, privateKey } = args;
    const inService = (path: string) => path === service.dir || path.startsWith(`${service.dir}/`);

    this.paths = managedPaths(
      { host: host.name, connection, privateKey },
      host.directories.filter((d) => inService(d.path)),
      host.files.filter((f) => inService(f.path)),
      { parent: this, dependsOn: args.after ?? [] },
    );

    const serviceTrigger = restartTrigger(host, service, "service");
    const logTrigger = restartTrigger(host, service, "log");
    this.supervised = new SupervisedService(
      `${host.name}:${service.name}`,
      {
        connection,
        privateKey,
        name: service.name,
        dir: service.dir,
        link: service.link,
        listen: service.listen,
        // sslserver's banner comes only after a TLS handshake.
        checkBanner: !service.ssl,
        serviceTrigger: serviceTrigger.secret ? pulumi.secret(serviceTrigger.hash) : serviceTrigger.hash,
        logTrigger: logTrigger.hash,
      },
      { parent: this, dependsOn: [...this.paths, ...(args.needs ?? []), ...(args.after ?? [])] },
    );
    this.registerOutputs({ banner: this.supervised.banner });
  }
}
