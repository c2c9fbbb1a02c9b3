// `qmail-fleet render` with shared files: secrets stay out of the output tree
// unless --include-secrets; the example stack file renders what the CLI can
// and warns about what it cannot decrypt.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { renderCommand } from "../../../cli/commands/render";
import { validateCommand } from "../../../cli/commands/validate";
import { buildValidRcptTo } from "../../../lib/cdb/validrcptto";
import { HOST_KEY } from "../schema/fixtures";
import { extractPem } from "../../pem";
import { captureOutput } from "../../capture-output";

const EXAMPLE = join(__dirname, "..", "..", "..", "examples", "mailhub-files", "Pulumi.mailhub.yaml");

const output = captureOutput();

let configFile: string;
let key: string;
beforeAll(() => {
  const made = spawnSync("openssl", ["req", "-x509", "-newkey", "ed25519", "-nodes", "-subj", "/CN=test", "-days", "2", "-keyout", "-", "-out", "-"], { encoding: "utf8" });
  if (made.status !== 0) throw new Error(made.stderr);
  key = extractPem(made.stdout, "PRIVATE KEY");
  const certificate = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n/.exec(made.stdout)![0];
  configFile = join(mkdtempSync(join(tmpdir(), "qf-secrets-")), "fleet.json");
  writeFileSync(
    configFile,
    JSON.stringify({
      sslKey: key,
      sslCertificate: certificate,
      saltSecret: "0123456789abcdef0123",
      authUsers: [{ user: "alice@example.com", password: "pw" }],
      hosts: [
        {
          name: "mx1",
          address: "192.0.2.10",
          ssh: { hostKey: HOST_KEY },
          services: [{ name: "smtps", preset: "smtps", ip: "192.0.2.10", auth: { method: "cdb", cdbFile: "/var/qmail/control/auth.cdb" } }],
        },
      ],
    }),
  );
});

const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

describe("qmail-fleet render and secret files", () => {
  it("lists secret files in the manifest with their sha256 only", async () => {
    const out = mkdtempSync(join(tmpdir(), "qf-out-"));
    expect(await renderCommand.run([configFile, "--out", out])).toBe(0);
    const manifest = JSON.parse(readFileSync(join(out, "mx1", "manifest.json"), "utf8"));
    const secrets = manifest.files.filter((f: { secret: boolean }) => f.secret);
    expect(secrets.map((f: { path: string; mode: string }) => `${f.path} ${f.mode}`)).toEqual(["/var/qmail/control/servercert.pem 0640", "/var/qmail/control/auth.cdb 0640"]);
    for (const file of secrets) {
      expect(file.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(existsSync(join(out, "mx1", file.path))).toBe(false);
    }
    expect(readFileSync(join(out, "mx1", "manifest.json"), "utf8")).not.toContain(key.split("\n")[1]);
    expect(output.stdout).toContain("2 secret(s) in the manifest only (--include-secrets writes them)");
  });

  it("writes them, readable by the owner only, with --include-secrets", async () => {
    const out = mkdtempSync(join(tmpdir(), "qf-out-"));
    expect(await renderCommand.run([configFile, "--include-secrets", "--out", out])).toBe(0);
    const manifest = JSON.parse(readFileSync(join(out, "mx1", "manifest.json"), "utf8"));
    const cert = join(out, "mx1", "var/qmail/control/servercert.pem");
    expect(readFileSync(cert, "utf8").startsWith(key)).toBe(true);
    expect(statSync(cert).mode & 0o777).toBe(0o600);
    expect(manifest.files.find((f: { path: string }) => f.path === "/var/qmail/control/servercert.pem").sha256).toBe(sha256(readFileSync(cert)));
    expect(manifest.files.find((f: { path: string }) => f.path === "/var/qmail/control/auth.cdb").summary).toBe("auth.cdb: 1 user (alice@example.com)");
  });

  it("renders the example: cdbs from its files, encrypted secrets left out with a warning", async () => {
    expect(await validateCommand.run([EXAMPLE])).toBe(0);
    const out = mkdtempSync(join(tmpdir(), "qf-out-"));
    expect(await renderCommand.run([EXAMPLE, "--out", out])).toBe(0);
    const manifest = JSON.parse(readFileSync(join(out, "hub1", "manifest.json"), "utf8"));
    const shared = manifest.files.filter((f: { kind: string }) => f.kind !== "script");
    expect(shared.map((f: { path: string; summary: string }) => `${f.path}: ${f.summary}`)).toEqual([
      "/var/qmail/control/validrcptto.cdb: validrcptto.cdb: 6 addresses",
      "/etc/tcp/smtp.cdb: smtp.cdb: 13 rule entries",
      "/etc/tcp/submission.cdb: submission.cdb: 2 rule entries",
    ]);
    const cdb = readFileSync(join(out, "hub1", "var/qmail/control/validrcptto.cdb"));
    const list = readFileSync(join(EXAMPLE, "..", "validrcptto.txt"), "utf8");
    expect(cdb.equals(buildValidRcptTo(`postmaster@example.com\nlist-default@example.com\n!former@example.com\n${list}`))).toBe(true);
    expect(output.stderr).toContain("warning: host hub1: /var/qmail/control/servercert.pem not rendered: the key (sslKey) is encrypted in the stack file");
    expect(output.stderr).toContain("warning: host hub1: /var/qmail/control/auth.cdb (auth.cdb) not rendered: its passwords are encrypted in the stack file");
  });
});
