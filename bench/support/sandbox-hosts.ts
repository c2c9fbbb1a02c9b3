// Sandbox mailhubs for a benchmark, through sandbox/mailhubs, and the TLS
// certificate their submission services use.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

const MAILHUBS = path.resolve(__dirname, "..", "..", "sandbox", "mailhubs");

// A host as sandbox/mailhubs records it in hosts.json: the e2e tests' type.
export type { SandboxHost } from "../../test/e2e/sandbox";
import type { SandboxHost } from "../../test/e2e/sandbox";

export function mailhubs(...args: string[]): void {
  const result = spawnSync(MAILHUBS, args, { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`sandbox/mailhubs ${args.join(" ")} failed (${result.status}):\n${result.stderr}`);
}

/** Fresh, empty hosts: any earlier sandbox in `dir` is stopped and removed first. */
export function startHosts(dir: string, count: number, firstAddress: string): SandboxHost[] {
  stopHosts(dir);
  fs.rmSync(dir, { recursive: true, force: true });
  mailhubs("start", "--dir", dir, "--count", String(count), "--first-address", firstAddress);
  return JSON.parse(fs.readFileSync(path.join(dir, "hosts.json"), "utf8"));
}

export function stopHosts(dir: string): void {
  if (fs.existsSync(dir)) mailhubs("stop", "--dir", dir);
}

export interface TlsPair {
  key: string;
  certificate: string;
}

/** A throwaway TLS key and self-signed certificate for the submission service's STARTTLS. */
export function makeCertificate(): TlsPair {
  const pem = spawnSync("openssl", [
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
    "-subj", "/CN=mail.bench.test", "-days", "2", "-keyout", "-", "-out", "-",
  ], { encoding: "utf8" });
  if (pem.status !== 0) throw new Error(`openssl could not make a certificate:\n${pem.stderr}`);
  const block = (label: string) => {
    const match = new RegExp(`-----BEGIN ${label}-----[\\s\\S]*?-----END ${label}-----\\n?`).exec(pem.stdout);
    if (!match) throw new Error(`no ${label} in openssl's output`);
    return match[0];
  };
  return { key: block("PRIVATE KEY"), certificate: block("CERTIFICATE") };
}

