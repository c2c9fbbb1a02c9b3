// Host: one mailhub reached over SSH with its host key pinned, holding its
// shared files and its SMTP services.
import * as pulumi from "@pulumi/pulumi";
import type { HostPlan } from "../lib/host-plan";
import { managedPaths } from "./managed-paths";
import type { Connection } from "./remote/ssh-connection";
import { SmtpService } from "./smtp-service";

export interface HostArgs {
  plan: HostPlan;
  /** OpenSSH private key; undefined to use ssh-agent. */
  privateKey?: pulumi.Input<string>;
  /** Resources this host waits for (the previous host, when rolling out one host at a time). */
  after?: pulumi.Resource[];
}

export interface HostSummary {
  address: string;
  services: Record<string, { listen: string; banner: string | undefined }>;
  files: string[];
}

export class Host extends pulumi.ComponentResource {
  readonly services: SmtpService[] = [];
  readonly summary: pulumi.Output<HostSummary>;

  constructor(name: string, args: HostArgs, opts?: pulumi.ComponentResourceOptions) {
    super("qmail-fleet:index:Host", name, {}, opts);
    const { plan, privateKey } = args;
    const connection: Omit<Connection, "privateKey"> = {
      host: plan.name,
      address: plan.ssh.address,
      port: plan.ssh.port,
      user: plan.ssh.user,
      hostKey: plan.ssh.hostKey,
      sudo: plan.ssh.sudo,
    };
    const serviceDirs = plan.services.map((s) => s.dir);
    const ownedByService = (path: string) => serviceDirs.some((dir) => path === dir || path.startsWith(`${dir}/`));

    // Shared files (cdbs, the SSL key) and directories outside any service directory.
    const shared = managedPaths(
      { host: plan.name, connection, privateKey },
      plan.directories.filter((d) => !ownedByService(d.path)),
      plan.files.filter((f) => !ownedByService(f.path)),
      { parent: this, dependsOn: args.after ?? [] },
    );

    for (const service of plan.services) {
      this.services.push(
        new SmtpService(
          `${plan.name}:${service.name}`,
          { host: plan, service, connection, privateKey, needs: shared, after: args.after },
          { parent: this },
        ),
      );
    }

    const banners = pulumi.all(this.services.map((s) => s.supervised.banner));
    this.summary = banners.apply((values) => ({
      address: plan.ssh.address,
      services: Object.fromEntries(
        plan.services.map((s, i) => [s.name, { listen: `${s.listen.ip}:${s.listen.port}`, banner: values[i] }]),
      ),
      files: plan.files.map((f) => f.path),
    }));
    this.registerOutputs({ summary: this.summary });
  }
}
