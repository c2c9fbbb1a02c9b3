// The one resource the qmail provider manages, HostConfiguration: everything
// qmail-fleet keeps on one mailhub. These types are shared by the program
// (components/host-configuration.ts builds the Args) and by the provider
// (provider/host-configuration.ts reads them back from the engine).
//
// State stays small whatever the size of the address and user lists: a file
// is kept as its sha256, size and a summary line, never its bytes. A script's
// text is kept too, so previews and drift reports show an edit as a diff.

import type { ServiceTraits } from "../lib/host-plan";
export type { ServiceTraits };

/** How to reach the host. The SSH private key is the provider's, held once. */
export interface HostConnection {
  address: string;
  port: number;
  user: string;
  /** The one public key accepted for this host: `ssh-ed25519 AAAA...`. */
  hostKey: string;
  /** Run privileged commands through `sudo -n` (non-root SSH user). */
  sudo: boolean;
}

/** Why a file exists on the host, which decides how previews and drift reports show it. */
export type FileKind = "script" | "cdb" | "secret" | "text";

/** A service, or only its log service, that must restart when a file it reads at start changes. */
export interface RestartTarget {
  service: string;
  part: "service" | "log";
}

export interface DirectorySpec {
  owner: string;
  group: string;
  /** Four octal digits, e.g. `0755`. */
  mode: string;
}

export interface FileSpec {
  owner: string;
  group: string;
  /** Four octal digits, e.g. `0640`. */
  mode: string;
  /** Hex sha256 of the bytes; a Pulumi secret for secret files. */
  sha256: string;
  size: number;
  kind: FileKind;
  secret: boolean;
  /** A script's text, for diffs. Absent for binary and secret files. */
  text?: string;
  /** One line for previews, e.g. `validrcptto.cdb: 12 addresses`; never a secret. */
  summary?: string;
  /** What must restart when this file changes; empty when it is read per connection. */
  restarts: RestartTarget[];
}

/**
 * What a service should be, and (as read back from the host) what it is:
 * `up` is the only declared status; the others are drift.
 */
export type ServiceStatus =
  | "up"
  | "not linked"
  | "not supervised"
  | "down"
  | "down file present"
  | "running an older run script"
  | "log running an older log/run"
  | "started before a file it loads at start changed"
  | "log directory missing"
  /** Found started or stopped anew in each of the readings a few seconds apart: it dies and supervise starts it again. */
  | "restarting again and again";

export interface ServiceSpec {
  /** e.g. /var/qmail/supervise/smtpd */
  dir: string;
  /** e.g. /service/smtpd */
  link: string;
  /** Where the health check looks for the SMTP banner. */
  listen: { ip: string; port: number };
  /** Read the SMTP banner after a start (not for SSL-wrapped services, whose banner follows a TLS handshake). */
  checkBanner: boolean;
  status: ServiceStatus;
  /** What the house rules (lib/policy) judge the service by; decided when the program plans it. */
  traits?: ServiceTraits;
}


/** When a restarted service counts as healthy, and how many hosts may fail before the rollout stops. */
export interface RolloutSettings {
  /** Seconds a restarted service and its log must stay up (no restart loop). */
  settleSeconds: number;
  /** Seconds to wait for that, and for the listener to answer. */
  healthTimeoutSeconds: number;
  /** Hosts of this fleet that may fail (and be rolled back) in one run before the rest are left untouched. */
  maxFailures: number;
  /**
   * Whether hosts of a later batch wait on this one. A failure within
   * maxFailures is then only a warning, so that they still run; otherwise a
   * failed host fails its resource, and `pulumi up` exits non-zero.
   * @default false
   */
  laterHostsWait?: boolean;
}

export const DEFAULT_ROLLOUT_SETTINGS: RolloutSettings = { settleSeconds: 2, healthTimeoutSeconds: 60, maxFailures: 0 };

/** The inputs of a HostConfiguration, as the program declares them. */
export interface HostConfigurationArgs {
  /** The host's name in the fleet, used in every message. */
  host: string;
  connection: HostConnection;
  /** By absolute path. */
  directories: Record<string, DirectorySpec>;
  /** By absolute path. */
  files: Record<string, FileSpec>;
  /** By service name. */
  services: Record<string, ServiceSpec>;
  /** How this run's changes are checked; not part of what the host holds, so a change here alone changes nothing. */
  rollout?: RolloutSettings;
  /**
   * The bytes of the secret files, base64 by sha256, as a Pulumi secret. The
   * provider's Check keeps them in memory for this run and drops them from the
   * inputs, so they never reach the state. Non-secret bytes come from the
   * build directory (see build-files.ts).
   */
  secretContents?: Record<string, string>;
}

/** The outputs: the inputs as last applied or read back, and the banner each service answered with. */
export interface HostConfigurationState extends Omit<HostConfigurationArgs, "secretContents"> {
  banners: Record<string, string>;
}

/** The provider's own configuration: one per fleet, so the key is held once. */
export interface ProviderArgs {
  /** OpenSSH private key text, held as a secret. @default ssh-agent (SSH_AUTH_SOCK of the `pulumi` process) */
  privateKey?: string;
}

/** The summary a refresh gives a file whose content on the host is not the declared one (its sha256 may be a secret). */
export const CHANGED_ON_HOST = "changed on the host";

/** Type token of the resource; the package name is the provider plugin's. */
export const HOST_CONFIGURATION_TYPE = "qmail:index:HostConfiguration";
export const PROVIDER_PACKAGE = "qmail";
