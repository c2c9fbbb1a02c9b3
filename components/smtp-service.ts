// SmtpService: one qmail-smtpd service on a mailhub (its run and log/run
// scripts, its supervise directory and svscan link), with every option of the
// seed's run script. It attaches to its Mailhub, which holds it in the host's
// one HostConfiguration.
import * as pulumi from "./pulumi-sdk";
import type { Mailhub } from "./mailhub";
import type { SmtpServiceOptions } from "./options";
import { checkPartArgs } from "./part-check";
import type { PlannedFile } from "./planned-file";

export interface SmtpServiceArgs extends Omit<SmtpServiceOptions, "ip"> {
  /**
   * Address to listen on; "0" means every address, and then no other service
   * may use the port. May come from another resource (a VM's address).
   */
  ip: pulumi.Input<string>;
  /** The mailhub that runs the service. */
  mailhub: Mailhub;
  /**
   * Directory name under the supervise and service roots, e.g. `smtpd`.
   * @default the resource name
   */
  serviceName?: string;
}

export class SmtpService extends pulumi.ComponentResource {
  /** The directory name under the supervise and service roots. */
  readonly serviceName: string;
  /** The service directory, e.g. /var/qmail/supervise/smtpd. */
  readonly serviceDir: pulumi.Output<string>;
  /** Where it listens: `ip:port`. */
  readonly listen: pulumi.Output<string>;
  readonly runScript: pulumi.Output<PlannedFile>;
  readonly logScript: pulumi.Output<PlannedFile>;
  /** The SMTP banner it answered with at its last start; empty for an SSL-wrapped service. */
  readonly banner: pulumi.Output<string>;

  constructor(name: string, args: SmtpServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    const { mailhub, serviceName = name, ...options } = args;
    const label = `SmtpService ${name}`;
    const entry = { name: serviceName, ...options };
    super("qmail-fleet:index:SmtpService", name, {}, checkPartArgs(label, { services: [{ label, options: entry }] }, { parent: mailhub, ...opts }));
    this.serviceName = serviceName;
    mailhub.attach({ kind: "service", label, options: entry });

    const service = mailhub.planned.apply(({ services, files }) => {
      const planned = services.find((s) => s.name === serviceName)!;
      const file = (path: string): PlannedFile => {
        const { kind: _kind, ...found } = files.find((f) => f.path === path)!;
        return found;
      };
      return { dir: planned.dir, listen: `${planned.listen.ip}:${planned.listen.port}`, run: file(`${planned.dir}/run`), log: file(`${planned.dir}/log/run`) };
    });
    this.serviceDir = service.dir;
    this.listen = service.listen;
    this.runScript = service.run;
    this.logScript = service.log;
    this.banner = mailhub.banners.apply((banners) => banners[serviceName] ?? "");
    this.registerOutputs({ serviceDir: this.serviceDir, listen: this.listen, runScript: this.runScript, logScript: this.logScript, banner: this.banner });
  }
}
