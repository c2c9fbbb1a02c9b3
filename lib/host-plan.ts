// What one mailhub should look like: the pure output of planning, the input of
// the Pulumi components and of `qmail-fleet render`. No I/O here.
import type { CdbKind } from "./cdb/summary";

/** Why a file exists on the host, which decides how previews and drift reports show it. */
export type FileKind = "script" | "cdb" | "secret" | "text";

/** What must happen to a service when a file changes. */
export interface RestartTarget {
  /** Service name (the directory name under the supervise root). */
  service: string;
  /** `service`: `svc -t` the service itself; `log`: `svc -t` only its log service. */
  part: "service" | "log";
}

export interface ManagedFile {
  /** Absolute path on the host. */
  path: string;
  /** Exact bytes to install. */
  content: Buffer;
  owner: string;
  group: string;
  /** Permission bits, e.g. 0o755. */
  mode: number;
  kind: FileKind;
  /** True when the content must stay a Pulumi secret (SSL key, auth.cdb). */
  secret: boolean;
  /** Services that read this file when they start and so must restart when it changes. Empty: read per connection. */
  restarts: RestartTarget[];
  /** One line for previews and drift reports, e.g. `validrcptto.cdb: 12 addresses`; never a secret or a hash. */
  summary?: string;
  /** Which cdb a `cdb` file is, so that a change can be summarized against the previous build. */
  cdb?: CdbKind;
}

/**
 * A secret file whose inputs the config still holds encrypted (the CLI reads a
 * stack file without the passphrase): where it would go and what it restarts,
 * but no bytes. `pulumi up` decrypts the inputs and plans it as a ManagedFile.
 */
export interface SealedFile extends Omit<ManagedFile, "content" | "summary"> {
  /** What it is built from as the config holds it (ciphertexts among them): compared to tell a change, never shown. */
  sealedInputs: string;
}

export interface ManagedDirectory {
  path: string;
  owner: string;
  group: string;
  mode: number;
}

export interface ServicePlan {
  /** Service name, e.g. `smtpd` or `submission`. */
  name: string;
  /** Service directory, e.g. /var/qmail/supervise/smtpd. */
  dir: string;
  /** The svscan link, e.g. /service/smtpd. */
  link: string;
  /** TCP address and port the service listens on, for health checks. */
  listen: { ip: string; port: number };
  /** True for an SSL-wrapped (sslserver) service. */
  ssl: boolean;
  traits: ServiceTraits;
}

/**
 * Facts about a service that its run script and shared files carry, kept
 * beside it so that a policy decides without parsing bytes. Not part of what
 * the host holds: a change here alone changes nothing on the host.
 */
export interface ServiceTraits {
  /** REQUIRE_AUTH: every client must authenticate before MAIL FROM. */
  requiresAuth: boolean;
  /** `wrapped`: sslserver (SMTPS); `required`: FORCE_TLS; `offered`: STARTTLS offered; `off`: denyTls. */
  tls: "wrapped" | "required" | "offered" | "off";
  /** The file holding the SSL key and certificate the service reads, when it uses TLS. */
  certificateFile?: string;
  /** The auth.cdb the service reads (auth.method cdb). */
  authCdb?: string;
  /** The validrcptto.cdb the service reads (VALIDRCPTTO_CDB). */
  validRcptToCdb?: string;
  /** The tcprules cdb tcpserver reads (-x). */
  accessRules?: string;
  /** Whether rules of those tcprules that match every client (address "", "=" while tcpserver looks up host names, or one for every first octet) set RELAYCLIENT; absent when the config does not give the rules. */
  relaysEveryClient?: boolean;
}

export interface SshTarget {
  address: string;
  port: number;
  user: string;
  /** Public host key line, e.g. `ssh-ed25519 AAAA...`: the only key accepted for this host. */
  hostKey: string;
  /** Prefix privileged commands with `sudo -n` (non-root SSH user). */
  sudo: boolean;
}

export interface HostPlan {
  name: string;
  ssh: SshTarget;
  directories: ManagedDirectory[];
  files: ManagedFile[];
  services: ServicePlan[];
  /** Secret files left out of `files` because their inputs are encrypted; only the CLI's plans have them. */
  sealedFiles?: SealedFile[];
}

export interface FleetPlan {
  hosts: HostPlan[];
  /** Advice the operator should read (the seed's "don't"s); never blocks. */
  warnings: string[];
}
