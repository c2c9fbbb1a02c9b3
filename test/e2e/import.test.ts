// qmail-fleet import over SSH on a sandbox mailhub: two hand-written services
// of test/import run under the real svscan; the import reads them with the
// host key pinned, changes nothing on the host (same files, services not
// restarted), and writes a config that loads, whose rendered scripts run
// what the originals run.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { importHost, type HostImport } from "../../lib/import/host-import";
import { SshSource } from "../../lib/import/host-source";
import { meaningDifferences, runScriptMeaning } from "../../lib/import/run-script-meaning";
import { loadConfigFile } from "../../lib/load-config";
import { renderRunScript } from "../../lib/render/run-script";
import { corpusEntries, scriptForAddress, type CorpusEntry } from "../import/corpus";
import { Mailhubs, smtpConversation, type SandboxHost } from "./sandbox";

const ADDRESS = "127.0.0.161";
const ENTRIES = ["03-patch-script-mx", "04-patch-script-submission"];

async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch {
      // not yet
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

/** Installs a corpus entry on the host as its administrator would have: files, compiled rules, the /service link. */
function install(host: SandboxHost, entry: CorpusEntry): void {
  const rootOf = (file: string) => path.join(host.root, "root", file);
  const dir = rootOf(`/var/qmail/supervise/${entry.service}`);
  fs.mkdirSync(path.join(dir, "log"), { recursive: true });
  fs.writeFileSync(path.join(dir, "run"), scriptForAddress(fs.readFileSync(path.join(entry.dir, "run"), "utf8"), ADDRESS), { mode: 0o755 });
  fs.writeFileSync(path.join(dir, "log/run"), fs.readFileSync(path.join(entry.dir, "log/run")), { mode: 0o755 });
  for (const file of entry.files) {
    fs.mkdirSync(path.dirname(rootOf(file)), { recursive: true });
    fs.copyFileSync(path.join(entry.dir, "files", file), rootOf(file));
  }
  for (const rules of entry.tcprules)
    execFileSync("tcprules", [rootOf(rules.cdb), `${rootOf(rules.cdb)}.tmp`], { input: fs.readFileSync(path.join(entry.dir, "files", rules.source)) });
  fs.symlinkSync(`/var/qmail/supervise/${entry.service}`, rootOf(`/service/${entry.service}`));
}

/** Path and sha256 of every file under the host's /var/qmail and /service, supervise's own state left out. */
function snapshot(host: SandboxHost): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of fs.readdirSync(dir).sort()) {
      const file = path.join(dir, name);
      const stat = fs.lstatSync(file);
      if (stat.isDirectory()) {
        if (name !== "supervise" || !dir.includes("/supervise/")) walk(file);
      } else if (stat.isSymbolicLink()) out.push(`${file} -> ${fs.readlinkSync(file)}`);
      else if (stat.isFile() && !/\/main\//.test(file)) out.push(`${file} ${createHash("sha256").update(fs.readFileSync(file)).digest("hex")} ${stat.mode.toString(8)}`);
    }
  };
  walk(path.join(host.root, "root", "var", "qmail"));
  walk(path.join(host.root, "root", "service"));
  return out;
}

describe("qmail-fleet import over SSH", () => {
  let hubs: Mailhubs;
  let host: SandboxHost;
  let entries: CorpusEntry[];
  let result: HostImport;
  let before: string[];
  let uptimes: number[];
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "qmail-fleet-import-e2e-"));

  beforeAll(async () => {
    hubs = Mailhubs.start("e2e-import", 1, ADDRESS);
    host = hubs.hosts[0];
    entries = corpusEntries().filter((e) => ENTRIES.includes(e.id));
    for (const entry of entries) install(host, entry);
    for (const entry of entries) await eventually(`${entry.service} up`, async () => ((await hubs.uptime(host, `/service/${entry.service}`)) ?? 0) >= 2 || undefined);
  });

  afterAll(() => {
    hubs?.stop();
    fs.rmSync(out, { recursive: true, force: true });
  });

  it("reads the host with its key pinned, and changes nothing there", async () => {
    before = snapshot(host);
    uptimes = await Promise.all(entries.map(async (e) => (await hubs.uptime(host, `/service/${e.service}`))!));
    const source = new SshSource({ host: host.name, address: host.address, port: host.sshPort, user: "root", hostKey: host.hostKey, sudo: false }, fs.readFileSync(hubs.clientKey, "utf8"));
    try {
      result = await importHost(source, { hostName: host.name, address: host.address, hostKey: host.hostKey });
    } finally {
      source.close();
    }
    expect(snapshot(host)).toEqual(before);
    const after = await Promise.all(entries.map(async (e) => (await hubs.uptime(host, `/service/${e.service}`))!));
    after.forEach((uptime, i) => expect(uptime).toBeGreaterThanOrEqual(uptimes[i]));
  });

  it("a host that presents another key gets nothing", async () => {
    // A well-formed key of some other machine.
    const other = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKREcv9w/RBTq8tGL0tCpFgM07bu1UoHQJLyD4sT+RgM";
    expect(other).not.toBe(host.hostKey);
    const source = new SshSource({ host: host.name, address: host.address, port: host.sshPort, user: "root", hostKey: other, sudo: false }, fs.readFileSync(hubs.clientKey, "utf8"));
    try {
      await expect(importHost(source, { hostName: host.name, address: host.address, hostKey: other })).rejects.toThrow(/presented host key/);
    } finally {
      source.close();
    }
  });

  it("writes a config that loads, whose scripts run what runs now (the test double reports the environment the import read)", async () => {
    const stackFile = path.join(out, "Pulumi.imported.yaml");
    fs.writeFileSync(stackFile, result.yaml);
    for (const side of result.sideFiles) fs.writeFileSync(path.join(out, side.name), side.bytes);
    const loaded = loadConfigFile(stackFile);
    expect(loaded.ok, JSON.stringify(loaded)).toBe(true);
    if (!loaded.ok) return;
    const hostConfig = loaded.config.hosts[0];
    expect(hostConfig.services.map((s) => s.name).sort()).toEqual(entries.map((e) => e.service).sort());
    const me = (await hubs.ssh(host, "cat /var/qmail/control/me")).trim();
    const facts = { files: { "/var/qmail/control/me": me } };
    for (const entry of entries) {
      const service = hostConfig.services.find((s) => s.name === entry.service)!;
      const original = await hubs.ssh(host, `cat /var/qmail/supervise/${entry.service}/run`);
      const differences = meaningDifferences(runScriptMeaning(original, { facts }), runScriptMeaning(renderRunScript(service, hostConfig), { facts }));
      expect(differences, entry.id).toEqual([]);
      // The service answers as the test double reports it: what the import read is what runs.
      const lines = await smtpConversation(ADDRESS, entry.port, ["EHLO import.e2e.test", "XENV"]);
      const env = new Map(lines.filter((l) => l.startsWith("250-env:")).map((l) => l.slice(8).split(/=(.*)/s).slice(0, 2) as [string, string]));
      const exported = runScriptMeaning(original, { facts }).environment;
      for (const [name, value] of exported) if (value && name !== "PATH") expect(env.get(name), `${entry.id} ${name}`).toBe(value.segments.join(""));
    }
  });
});
