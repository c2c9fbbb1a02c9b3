// The validate and render commands, run in-process on the examples.
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { renderCommand } from "../../../cli/commands/render";
import { validateCommand } from "../../../cli/commands/validate";
import { captureOutput } from "../../capture-output";

// cli/main loads commands with require(), which vitest cannot resolve for .ts
// files; the dispatcher is exercised through the compiled bin by hand.
const main = ([name, ...args]: string[]) => (name === "validate" ? validateCommand : renderCommand).run(args);

const EXAMPLES = join(__dirname, "..", "..", "..", "examples");
const examples = ["Pulumi.mx-fleet.yaml", "submission.yaml", "smtps.json"].map((name) => join(EXAMPLES, name));

const output = captureOutput();

describe("qmail-fleet validate", () => {
  it.each(examples)("accepts %s", async (file) => {
    expect(await main(["validate", file])).toBe(0);
    expect(output.stdout).toContain(": ok (");
  });

  it("prints one path: message line per error and exits 1", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "qf-")), "bad.yaml");
    writeFileSync(file, "hosts:\n  - name: mx1\n    address: 192.0.2.10\n    services: [{ name: smtpd, ip: '0', port: 0 }]\n");
    expect(await main(["validate", file])).toBe(1);
    expect(output.stderr.trim().split("\n")).toEqual([
      "hosts[0].ssh.hostKey: host 'mx1' has no pinned host key: set ssh.hostKey to its public key line (\"ssh-ed25519 AAAA...\") or ssh.knownHostsFile",
      "hosts[0].services[0].port: the port must be between 1 and 65535",
    ]);
  });

  it("prints warnings to stderr and still exits 0", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "qf-")), "warn.json");
    const key = readFileSync(join(EXAMPLES, "known_hosts"), "utf8").split("\n")[1].split(" ").slice(1).join(" ");
    writeFileSync(file, JSON.stringify({ hosts: [{ name: "mx1", address: "192.0.2.10", ssh: { hostKey: key }, services: [{ name: "smtpd", ip: "0", relayReject: true }] }] }));
    expect(await main(["validate", file])).toBe(0);
    expect(output.stderr).toMatch(/^warning: hosts\[0\]\.services\[0\]\.relayReject: RELAYREJ/);
  });

  it("needs exactly one file", async () => {
    expect(await main(["validate"])).toBe(1);
    expect(output.stderr).toContain("usage: qmail-fleet validate");
  });
});

describe("qmail-fleet render", () => {
  it("writes every host's files under DIR/<host>/ with a manifest, the same bytes each time", async () => {
    const out = mkdtempSync(join(tmpdir(), "qf-out-"));
    expect(await main(["render", examples[0], "--out", out])).toBe(0);
    const run = join(out, "mx2", "var/qmail/supervise/smtpd/run");
    expect(statSync(run).mode & 0o777).toBe(0o755);
    const manifest = JSON.parse(readFileSync(join(out, "mx2", "manifest.json"), "utf8"));
    const entry = manifest.files.find((f: { path: string }) => f.path === "/var/qmail/supervise/smtpd/run");
    expect(entry).toMatchObject({ owner: "root", group: "root", mode: "0755" });
    expect(entry.sha256).toBe(createHash("sha256").update(readFileSync(run)).digest("hex"));
    expect(manifest.ssh.hostKey).toMatch(/^ssh-ed25519 /); // read from examples/known_hosts

    const first = readFileSync(join(out, "mx2", "manifest.json"), "utf8");
    expect(await main(["render", examples[0], "--out", out])).toBe(0);
    expect(readFileSync(join(out, "mx2", "manifest.json"), "utf8")).toBe(first);
  });

  it("renders only the hosts asked for", async () => {
    const out = mkdtempSync(join(tmpdir(), "qf-out-"));
    expect(await main(["render", examples[0], "--host", "mx1", `--out=${out}`])).toBe(0);
    expect(existsSync(join(out, "mx1", "manifest.json"))).toBe(true);
    expect(existsSync(join(out, "mx2"))).toBe(false);
    expect(await main(["render", examples[0], "--host", "nope", "--out", out])).toBe(1);
    expect(output.stderr).toContain("no host named nope");
  });

  it("refuses an --out that is a file, and leaves it as it was", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "qf-out-")), "not-a-dir");
    writeFileSync(file, "keep\n");
    expect(await main(["render", examples[0], "--out", file])).toBe(1);
    expect(output.stderr).toContain(`--out ${file} is a file; give a directory`);
    expect(readFileSync(file, "utf8")).toBe("keep\n");
  });

  it("needs --out", async () => {
    expect(await main(["render", examples[0]])).toBe(1);
    expect(output.stderr).toContain("--out DIR is required");
  });
});
