// Two versions of one fleet for the diff tests: a base, and a head that makes
// the realistic change a pull request makes (a greeting on one host, one
// address added, a new auth user, a service removed), each written as a plain
// JSON config. Secrets are plain text here, as the program sees them.
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HOST_KEY } from "../schema/fixtures";
import { extractPem } from "../../pem";

export interface KeyPair {
  key: string;
  certificate: string;
}

/** A fresh ed25519 key and self-signed certificate from openssl. */
export function newKeyPair(): KeyPair {
  const made = spawnSync("openssl", ["req", "-x509", "-newkey", "ed25519", "-nodes", "-subj", "/CN=mx.example.com", "-days", "30", "-keyout", "-", "-out", "-"], { encoding: "utf8" });
  if (made.status !== 0) throw new Error(made.stderr);
  return { key: extractPem(made.stdout, "PRIVATE KEY"), certificate: extractPem(made.stdout, "CERTIFICATE") };
}

const SMTPS = { name: "smtps", preset: "smtps", ip: "0", auth: { method: "cdb", cdbFile: "/var/qmail/control/auth.cdb" } };

export const ALICE_PASSWORD = "alice-base-password";
export const CAROL_PASSWORD = "carol-new-password";

/** The base fleet: mx1 and mx2, each an MX (smtpd); mx2 also SMTPS submission (smtps) with auth.cdb. */
export function baseFleet(pair: KeyPair): Record<string, unknown> {
  return {
    sslKey: pair.key,
    sslCertificate: pair.certificate,
    saltSecret: "0123456789abcdef0123",
    authUsers: [{ user: "alice@example.com", password: ALICE_PASSWORD }],
    validRcptTo: { addresses: ["postmaster@example.com", "alice@example.com"] },
    services: [{ name: "smtpd", preset: "mx", ip: "0", validRcptTo: { cdbFile: "/var/qmail/control/validrcptto.cdb" } }],
    hosts: [
      { name: "mx1", address: "192.0.2.10", ssh: { hostKey: HOST_KEY }, services: [SMTPS] },
      { name: "mx2", address: "192.0.2.11", ssh: { hostKey: HOST_KEY }, services: [SMTPS] },
    ],
  };
}

/** The head: mx1's smtpd greets as mx1.example.com, bob@ is a valid recipient, carol may log in, mx2 no longer runs smtps. */
export function headFleet(pair: KeyPair): Record<string, unknown> {
  const base = baseFleet(pair) as { [key: string]: unknown; hosts: Array<Record<string, unknown>> };
  return {
    ...base,
    authUsers: [
      { user: "alice@example.com", password: ALICE_PASSWORD },
      { user: "carol@example.com", password: CAROL_PASSWORD },
    ],
    validRcptTo: { addresses: ["postmaster@example.com", "alice@example.com", "bob@example.com"] },
    hosts: [
      { ...base.hosts[0], services: [SMTPS, { name: "smtpd", smtpGreeting: "mx1.example.com" }] },
      { ...base.hosts[1], services: [] },
    ],
  };
}

/** Writes each config as a JSON file in a fresh directory; returns their paths. */
export function writeConfigs(configs: Record<string, Record<string, unknown>>): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), "qf-diff-"));
  return Object.fromEntries(
    Object.entries(configs).map(([name, config]) => {
      const path = join(dir, `${name}.json`);
      writeFileSync(path, JSON.stringify(config, null, 2));
      return [name, path];
    }),
  );
}
