// The raw fleet: top-level keys, hosts and the fleet-wide services. Services
// are checked here only for a name: a host's entry may be a partial override,
// so the full service schema runs after fleet and host entries are merged.
import { z } from "zod";
import { absolutePath, hostNameProblem, isIPv4, isIPv6, serviceName } from "./primitives";
import { secretString } from "./secret";
import { authUsersSchema, sslCertificateSchema, sslKeySchema, tcpRulesSchema, validRcptToSourcesSchema } from "./shared-files";
import { rolloutSchema } from "./rollout";
import { fleetSshSchema, hostSshSchema } from "./ssh";
import { strictGroup } from "./strict";

/** A service entry before merging: any object with a valid name. */
export const serviceEntrySchema = z.looseObject(
  { name: serviceName() },
  { error: 'each service must be a mapping with a name, for example - { name: smtpd, preset: mx, ip: "0" }' },
);

/** Where SSH connects: an IPv4 or IPv6 address or a DNS name. */
const sshAddress = z.string({ error: "address must be text, for example address: 192.0.2.10" }).superRefine((s, ctx) => {
  if (isIPv4(s) || isIPv6(s)) return;
  if (/^\[.*\]$/.test(s) && isIPv6(s.slice(1, -1)))
    return ctx.addIssue({ code: "custom", message: `address '${s}' is an IPv6 address in brackets: write it without them, address: "${s.slice(1, -1)}" (the SSH port goes in ssh.port)` });
  const problem = hostNameProblem(s, "address");
  if (problem) ctx.addIssue({ code: "custom", message: problem.replace("a DNS name such as mx1.example.com", "an IP address or a DNS name such as mx1.example.com") });
});

export const hostSchema = strictGroup({
  /** Host name in plans and output directories. */
  name: z
    .string({ error: "the host name must be text, for example name: mx1" })
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, {
      message: "the host name must use only letters, digits, '.', '_' and '-', starting with a letter or digit (it names the host's directory in render output)",
    })
    .max(63, { message: "the host name may be at most 63 characters" }),
  /** Address SSH connects to (IP or DNS name). */
  address: sshAddress,
  ssh: hostSshSchema.prefault({}),
  /** The qmail directory. Default: /var/qmail. */
  qmailDir: absolutePath("qmailDir").default("/var/qmail"),
  /** svscan's directory of service links. Default: /service. */
  serviceDir: absolutePath("serviceDir").default("/service"),
  /** Where service directories live. Default: <qmailDir>/supervise. */
  superviseDir: absolutePath("superviseDir").optional(),
  /** Services of this host: entries named like a fleet service override it field by field. */
  services: z.array(serviceEntrySchema).default([]),
  /** Secret: this host's SSL private key (PEM), instead of the fleet's sslKey. */
  sslKey: sslKeySchema("sslKey").optional(),
  /** This host's certificate chain (PEM), instead of the fleet's sslCertificate. */
  sslCertificate: sslCertificateSchema("sslCertificate").optional(),
  /** auth.cdb users of this host only: added to the fleet's authUsers, replacing fleet entries of the same user. */
  authUsers: authUsersSchema.optional(),
});

export const fleetSchema = strictGroup({
  ssh: fleetSshSchema.prefault({}),
  /** Secret: the SSH private key, instead of ssh.privateKeyFile. */
  sshPrivateKey: secretString("sshPrivateKey")
    .superRefine((value, ctx) => {
      if (typeof value !== "string") return;
      if (!/-----BEGIN (OPENSSH |RSA |EC |DSA )?PRIVATE KEY-----[\s\S]+-----END (OPENSSH |RSA |EC |DSA )?PRIVATE KEY-----/.test(value))
        ctx.addIssue({
          code: "custom",
          message: /PUBLIC KEY|^ssh-|^ecdsa-/.test(value.trim())
            ? "sshPrivateKey holds a public key: give the private key (pulumi config set --secret sshPrivateKey < ~/.ssh/qmail-fleet)"
            : "sshPrivateKey must be an OpenSSH or PEM private key (pulumi config set --secret sshPrivateKey < ~/.ssh/qmail-fleet); the value given is not one",
        });
      else if (/ENCRYPTED|Proc-Type: 4,ENCRYPTED/.test(value) || /aes256-ctr|bcrypt/.test(Buffer.from(value.replace(/-----[^-]+-----|\s/g, ""), "base64").subarray(0, 64).toString("latin1")))
        ctx.addIssue({ code: "custom", message: "sshPrivateKey is protected by a passphrase, which qmail-fleet cannot ask for: give an unencrypted key, or load it into ssh-agent and leave sshPrivateKey out" });
    })
    .optional(),
  /** Secret: the salts of authUsers' plain passwords are derived from it (at least 16 bytes). */
  saltSecret: secretString("saltSecret").optional(),
  /** Secret: the SSL private key (PEM), written with sslCertificate into the services' certificateFile. */
  sslKey: sslKeySchema("sslKey").optional(),
  /** The certificate chain (PEM), server certificate first. */
  sslCertificate: sslCertificateSchema("sslCertificate").optional(),
  /** Users of auth.cdb, for every service with auth.method cdb. */
  authUsers: authUsersSchema.optional(),
  /** Entries of validrcptto.cdb, for every service with validRcptTo.cdbFile. */
  validRcptTo: validRcptToSourcesSchema.optional(),
  /** tcprules cdbs keyed by the path services give as accessRules. */
  tcpRules: tcpRulesSchema.optional(),
  /** Services every host runs. */
  services: z.array(serviceEntrySchema).default([]),
  hosts: z
    .array(hostSchema, {
      error: (issue) =>
        issue.input === undefined
          ? "hosts is required: a list of mailhubs ({ name, address, ssh: { hostKey }, services })"
          : "hosts must be a list of mailhubs ({ name, address, ssh: { hostKey }, services })",
    })
    .min(1, { message: "hosts must list at least one mailhub" }),
  /** How `pulumi up` takes the hosts: parallel (default), sequential, or a policy object (lib/rollout.ts). */
  rollout: rolloutSchema.optional(),
});

export type RawFleet = z.output<typeof fleetSchema>;
export type RawHost = z.output<typeof hostSchema>;

/** The fleet's top-level keys (the `qmail-fleet:` config keys). */
export const FLEET_KEYS: readonly string[] = Object.keys(fleetSchema.shape);
