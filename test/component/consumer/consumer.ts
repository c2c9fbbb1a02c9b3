// A program that uses only what the package exports ("qmail-fleet"): it must
// compile, and each `@ts-expect-error` line must be a compile error (tsc
// fails on a directive that finds no error).
import type * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { AuthCdb, Fleet, Mailhub, SmtpService, SslKeyFile, TcpRulesCdb, ValidRcptToCdb } from "qmail-fleet";
import type { FleetArgs, MailhubConnection, PlannedFile, SmtpServiceArgs } from "qmail-fleet";

// One connection object for @pulumi/command's remote.Command and for a Mailhub.
const connection = {
  host: pulumi.output("192.0.2.10"),
  port: 22,
  user: "root",
  privateKey: pulumi.secret("(the OpenSSH private key text)"),
  hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKREcv9w/RBTq8tGL0tCpFgM07bu1UoHQJLyD4sT+RgM",
};
export const forCommand: command.types.input.remote.ConnectionArgs = connection;
export const forMailhub: MailhubConnection = connection;

const mailhub = new Mailhub("mx1", { connection, sudo: false, qmailDir: "/var/qmail" });
const mx = new SmtpService("mx1-smtpd", { mailhub, serviceName: "smtpd", preset: "mx", ip: "0", forceTls: true, certificateFile: "/var/qmail/control/servercert.pem", maxConnections: 40, rblsmtpd: { blockLists: ["zen.spamhaus.org"] } });
new SslKeyFile("mx1-key", { mailhub, key: pulumi.secret("key"), certificate: "certificate" });
new AuthCdb("mx1-auth", { mailhub, users: [{ user: "alice@example.com", password: pulumi.secret("pw") }, { user: "bob@example.com", hash: "$6$salt$hash" }], saltSecret: pulumi.secret("a salt of sixteen bytes") });
new ValidRcptToCdb("mx1-rcpt", { mailhub, addresses: ["@example.com"] });
new TcpRulesCdb("mx1-rules", { mailhub, path: "/var/qmail/control/tcp.smtp.cdb", rules: [{ address: "127.", action: "allow", env: { RELAYCLIENT: "" } }] });
// An address from another resource.
new SmtpService("mx1-submission", { mailhub, serviceName: "submission", preset: "submission", ip: connection.host, certificateFile: "/var/qmail/control/servercert.pem" });
export const runScript: pulumi.Output<PlannedFile> = mx.runScript;
export const banner: pulumi.Output<string> = mx.banner;

const fleetArgs: FleetArgs = {
  services: [{ name: "smtpd", preset: "mx", ip: "0" }],
  hosts: [{ name: "mx2", address: "192.0.2.11", ssh: { hostKey: connection.hostKey } }],
  rollout: "sequential",
};
new Fleet("eu", fleetArgs);

// Wrong option types are compile errors.
// @ts-expect-error port is a number
export const portAsText: SmtpServiceArgs = { mailhub, ip: "0", port: "25" };
// @ts-expect-error preset is one of mx, submission, smtps
export const unknownPreset: SmtpServiceArgs = { mailhub, ip: "0", preset: "relay" };
// @ts-expect-error forceTls is a boolean
export const tlsAsText: SmtpServiceArgs = { mailhub, ip: "0", forceTls: "yes" };
// @ts-expect-error a misspelt option is no option
export const misspelt: SmtpServiceArgs = { mailhub, ip: "0", forceTsl: true };
// @ts-expect-error a service needs its mailhub
export const noMailhub: SmtpServiceArgs = { ip: "0" };
// @ts-expect-error a connection needs a host
export const noHost: MailhubConnection = { user: "root" };
// @ts-expect-error the action is allow or deny
new TcpRulesCdb("bad", { mailhub, path: "/x.cdb", rules: [{ address: "", action: "permit" }] });
// @ts-expect-error a fleet's host needs an address
export const hostWithoutAddress: FleetArgs = { hosts: [{ name: "mx3" }] };
