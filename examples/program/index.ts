// Two mailhubs declared in code: each an MX service on port 25 and a
// submission service on 587, the recipients it accepts and who may relay.
// Everything one host holds goes into that host's one configuration, so each
// host changes as a unit.
import { readFileSync } from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { Mailhub, SmtpService, TcpRulesCdb, ValidRcptToCdb } from "qmail-fleet";

const config = new pulumi.Config();
/** The hosts, by name: the address SSH connects to and the services listen on. */
const hosts = config.requireObject<Record<string, string>>("hosts");
/** A known_hosts file holding each host's key: no other key is accepted. */
const knownHostsFile = config.require("knownHostsFile");
/** The SSH key: a stack secret, else a file, else ssh-agent. */
const privateKeyFile = config.get("privateKeyFile");
const privateKey = config.getSecret("sshPrivateKey") ?? (privateKeyFile ? pulumi.secret(readFileSync(privateKeyFile, "utf8")) : undefined);
const domain = config.get("domain") ?? "example.test";

const CONTROL = "/var/qmail/control";

export const mailhubs = Object.entries(hosts).map(([name, address]) => {
  // The same connection object would suit @pulumi/command's remote.Command.
  const connection = { host: address, user: "root", privateKey };
  const mailhub = new Mailhub(name, { connection, knownHostsFile });

  const mx = new SmtpService(`${name}-mx`, {
    mailhub,
    serviceName: "smtpd",
    preset: "mx",
    ip: address,
    smtpGreeting: `${name}.${domain}`,
    maxConnections: 20,
    accessRules: `${CONTROL}/tcp.smtp.cdb`,
    validRcptTo: { cdbFile: `${CONTROL}/validrcptto.cdb` },
  });
  const submission = new SmtpService(`${name}-submission`, {
    mailhub,
    serviceName: "submission",
    ip: address,
    port: 587,
    smtpGreeting: `${name}.${domain}`,
    accessRules: `${CONTROL}/tcp.smtp.cdb`,
  });
  new ValidRcptToCdb(`${name}-recipients`, { mailhub, addresses: [`postmaster@${domain}`, `abuse@${domain}`, `@lists.${domain}`] });
  new TcpRulesCdb(`${name}-relay`, {
    mailhub,
    path: `${CONTROL}/tcp.smtp.cdb`,
    rules: [
      { address: "127.0.0.1", action: "allow", env: { RELAYCLIENT: "" } },
      { address: "", action: "allow" },
    ],
  });

  return {
    name,
    mx: { listen: mx.listen, banner: mx.banner, runScript: mx.runScript },
    submission: { listen: submission.listen, banner: submission.banner },
    files: mailhub.files.apply((files) => files.map((file) => `${file.path} ${file.sha256.slice(0, 12)}${file.summary ? ` (${file.summary})` : ""}`)),
  };
});
