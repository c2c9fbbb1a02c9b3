// SSH settings: fleet defaults and per-host overrides, with the pinned host key.
import { z } from "zod";
import { nonEmptyText, tcpPort } from "./primitives";
import { strictGroup } from "./strict";

const KEY_TYPES = [
  "ssh-ed25519",
  "ssh-rsa",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
  "sk-ssh-ed25519@openssh.com",
  "sk-ecdsa-sha2-nistp256@openssh.com",
];

/** True when `line` is `TYPE BASE64 [comment]` and the blob names the same TYPE. */
export function isPublicKeyLine(line: string): boolean {
  const [type, blob] = line.trim().split(/\s+/);
  if (!KEY_TYPES.includes(type) || !blob || !/^[A-Za-z0-9+/]+={0,2}$/.test(blob)) return false;
  const bytes = Buffer.from(blob, "base64");
  if (bytes.length < 4) return false;
  const nameLength = bytes.readUInt32BE(0);
  return bytes.subarray(4, 4 + nameLength).toString("latin1") === type;
}

/** `TYPE BASE64` without the comment: the form plans carry and SSH clients compare. */
export function keyWithoutComment(line: string): string {
  return line.trim().split(/\s+/).slice(0, 2).join(" ");
}

// Surrounding spaces or a line end (a pasted .pub file) are harmless: the key is pinned without them.
export const publicKeyLine = (what: string) =>
  z.string({ error: `${what} must be text, for example hostKey: "ssh-ed25519 AAAA..."` }).refine(isPublicKeyLine, {
    message: `${what} must be a public key line such as "ssh-ed25519 AAAA..." (copy it from the host's /etc/ssh/ssh_host_ed25519_key.pub or ssh-keyscan)`,
  });

const sshUser = (what: string) =>
  z
    .string({ error: `${what} must be text, for example user: deploy` })
    .regex(/^[A-Za-z0-9_][A-Za-z0-9._-]*$/, { message: `${what} must be a login name (letters, digits, '.', '_' and '-')` })
    .max(32, { message: `${what} may be at most 32 characters` });

export const fleetSshSchema = strictGroup({
  /** Login user. Default: root. */
  user: sshUser("ssh.user").default("root"),
  /** SSH port. Default: 22. */
  port: tcpPort().default(22),
  /** Private key file on the machine running qmail-fleet; or the secret sshPrivateKey. */
  privateKeyFile: nonEmptyText("ssh.privateKeyFile").optional(),
  /** Run privileged commands through `sudo -n` (non-root user). Default: false. */
  sudo: z.boolean().default(false),
});

export const hostSshSchema = strictGroup({
  /** Default: the fleet's ssh.port. */
  port: tcpPort().optional(),
  /** Default: the fleet's ssh.user. */
  user: sshUser("ssh.user").optional(),
  /** The host's public key line, pinned: no other key is accepted. */
  hostKey: publicKeyLine("ssh.hostKey").optional(),
  /** A known_hosts file holding the host's key (matched by address, or [address]:port). */
  knownHostsFile: nonEmptyText("ssh.knownHostsFile").optional(),
  /** Default: the fleet's ssh.sudo. */
  sudo: z.boolean().optional(),
});
