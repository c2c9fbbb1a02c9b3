// The raw fleet: top-level keys, hosts and the fleet-wide services. Services
// are checked here only for a name: a host's entry may be a partial override,
// so the full service schema runs after fleet and host entries are merged.
import { z } from "zod";
import { absolutePath, nonEmptyText, serviceName } from "./primitives";
import { secretString } from "./secret";
import { fleetSshSchema, hostSshSchema } from "./ssh";
import { strictGroup } from "./strict";

/** A service entry before merging: any object with a valid name. */
export const serviceEntrySchema = z.looseObject({ name: serviceName() });

export const hostSchema = strictGroup({
  /** Host name in plans and output directories. */
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, {
    message: "the host name must use only letters, digits, '.', '_' and '-'",
  }),
  /** Address SSH connects to (IP or DNS name). */
  address: nonEmptyText("address").regex(/^[A-Za-z0-9.:_-]+$/, {
    message: "address must be an IP address or a DNS name",
  }),
  ssh: hostSshSchema.prefault({}),
  /** The qmail directory. Default: /var/qmail. */
  qmailDir: absolutePath("qmailDir").default("/var/qmail"),
  /** svscan's directory of service links. Default: /service. */
  serviceDir: absolutePath("serviceDir").default("/service"),
  /** Where service directories live. Default: <qmailDir>/supervise. */
  superviseDir: absolutePath("superviseDir").optional(),
  /** Services of this host: entries named like a fleet service override it field by field. */
  services: z.array(serviceEntrySchema).default([]),
});

/** Keys other parts of qmail-fleet own; accepted here so they never fail validation. */
export const RESERVED_KEYS = [
  "authUsers",
  "validRcptTo",
  "tcpRules",
  "sslKey",
  "sslCertificate",
  "rollout",
] as const;

const reservedShape = Object.fromEntries(RESERVED_KEYS.map((key) => [key, z.unknown()])) as Record<
  (typeof RESERVED_KEYS)[number],
  z.ZodUnknown
>;

export const fleetSchema = strictGroup({
  ssh: fleetSshSchema.prefault({}),
  /** Secret: the SSH private key, instead of ssh.privateKeyFile. */
  sshPrivateKey: secretString("sshPrivateKey").optional(),
  /** Secret: reserved for deterministic auth.cdb salts. */
  saltSecret: secretString("saltSecret").optional(),
  /** Services every host runs. */
  services: z.array(serviceEntrySchema).default([]),
  hosts: z
    .array(hostSchema, { error: "hosts is required: a list of mailhubs ({ name, address, ssh: { hostKey }, services })" })
    .min(1, { message: "hosts must list at least one mailhub" }),
  ...reservedShape,
});

export type RawFleet = z.output<typeof fleetSchema>;
export type RawHost = z.output<typeof hostSchema>;
