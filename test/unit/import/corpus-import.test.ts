// Each hand-written service of test/import, imported from a copy of a host:
// the stack file the import writes loads with the project's loader, its
// warnings are the ones reviewed in the entry's expected-warnings file
// (UPDATE_IMPORT_EXPECTED=1 rewrites them; review the diff), and where no run
// line was left out, the rendered script runs what the original ran.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { buildTcpRules } from "../../../lib/cdb/tcprules";
import { importHost, type HostImport } from "../../../lib/import/host-import";
import { DirectorySource } from "../../../lib/import/host-source";
import { meaningDifferences, runScriptMeaning } from "../../../lib/import/run-script-meaning";
import { loadConfigFile } from "../../../lib/load-config";
import { renderRunScript } from "../../../lib/render/run-script";
import { corpusEntries, writeHostCopy, type CorpusEntry } from "../../import/corpus";

const update = process.env.UPDATE_IMPORT_EXPECTED === "1";
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "qmail-fleet-corpus-import-"));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));
const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKREcv9w/RBTq8tGL0tCpFgM07bu1UoHQJLyD4sT+RgM";

async function importEntry(entry: CorpusEntry): Promise<{ root: string; name: string; result: HostImport; stackFile: string }> {
  const root = fs.mkdtempSync(path.join(scratch, `${entry.id}-`));
  const name = writeHostCopy(path.join(root, "host"), [entry], (source) => buildTcpRules(source)).get(entry)!;
  const result = await importHost(new DirectorySource(path.join(root, "host")), { hostName: "mx1", address: "192.0.2.25", hostKey: HOST_KEY });
  const stackFile = path.join(root, "Pulumi.imported.yaml");
  fs.writeFileSync(stackFile, result.yaml);
  for (const side of result.sideFiles) fs.writeFileSync(path.join(root, side.name), side.bytes);
  return { root, name, result, stackFile };
}

/** A warning as the expected-warnings file holds it: paths inside the service directory made relative. */
function warningLine(serviceDir: string, warning: { file: string; line: number; message: string }): string {
  const file = warning.file.startsWith(`${serviceDir}/`) ? warning.file.slice(serviceDir.length + 1) : warning.file;
  return `${file}:${warning.line}: ${warning.message}`;
}

/** Option values (by dotted name) that still hold `$NAME`, `${...}`, `$(...)` or a backquote. */
function unexpandedValues(fields: Record<string, unknown>, prefix = ""): string[] {
  return Object.entries(fields).flatMap(([key, value]) => {
    const name = `${prefix}${key}`;
    if (typeof value === "string") return /\$[A-Za-z_{(]|`/.test(value) ? [`${name}: ${value}`] : [];
    if (Array.isArray(value)) return value.flatMap((item, i) => (typeof item === "string" && /\$[A-Za-z_{(]|`/.test(item) ? [`${name}[${i}]: ${item}`] : []));
    if (value !== null && typeof value === "object") return unexpandedValues(value as Record<string, unknown>, `${name}.`);
    return [];
  });
}

describe("importing the corpus", () => {
  for (const entry of corpusEntries()) {
    it(entry.id, async () => {
      const { name, result, stackFile } = await importEntry(entry);
      const loaded = loadConfigFile(stackFile);
      expect(loaded.ok, JSON.stringify(loaded)).toBe(true);
      if (!loaded.ok) return;
      expect(loaded.config.hosts[0].services.map((s) => s.name)).toEqual([name]);
      const service = loaded.config.hosts[0].services[0];
      expect(service.port).toBe(entry.port);
      // No option holds a shell expansion the import left unevaluated ($VQ, ${X}, $(...), backquotes).
      expect(unexpandedValues(((result.raw.hosts as Array<{ services: Array<Record<string, unknown>> }>)[0]).services[0])).toEqual([]);
      expect(service.ip).toBe("192.0.2.25");

      const serviceDir = `/var/qmail/supervise/${name}`;
      const lines = result.warnings.map((w) => warningLine(serviceDir, w));
      const expectedFile = path.join(entry.dir, "expected-warnings");
      if (update) fs.writeFileSync(expectedFile, lines.map((l) => `${l}\n`).join(""));
      expect(lines.join("\n")).toBe(fs.readFileSync(expectedFile, "utf8").replace(/\n$/, ""));

      // Nothing left out of run: the rendered script runs the same programs, arguments and environment.
      if (!lines.some((l) => /^run:[1-9]/.test(l))) {
        const original = fs.readFileSync(path.join(entry.dir, "run"), "utf8").split("192.0.2.25").join("192.0.2.25");
        const facts = { files: { "/var/qmail/control/me": "mx.corpus.test\n" } };
        const rendered = renderRunScript(service, loaded.config.hosts[0]);
        expect(meaningDifferences(runScriptMeaning(original, { facts }), runScriptMeaning(rendered, { facts }))).toEqual([]);
      }
    });
  }
});

describe("constructs the config cannot express", () => {
  it("gives a warning naming each line, and keeps the rest", async () => {
    const entry = corpusEntries().find((e) => e.id === "18-unexpressible")!;
    const { result, stackFile } = await importEntry(entry);
    const runLines = new Set(result.warnings.filter((w) => w.file.endsWith("/smtpd/run")).map((w) => w.line));
    // ulimit, the function, the case block, the function call, SMTPAUTH, CHKUSER_START, sleep, the exec's nice/argv0/-t/fghack
    for (const line of [4, 8, 9, 13, 14, 15, 17, 18]) expect(runLines, `line ${line}`).toContain(line);
    const logLines = result.warnings.filter((w) => w.file.endsWith("/smtpd/log/run")).map((w) => w.line);
    expect(logLines).toContain(2);
    const loaded = loadConfigFile(stackFile);
    expect(loaded.ok).toBe(true);
    if (!loaded.ok) return;
    const service = loaded.config.hosts[0].services[0];
    expect(service.dataBytes).toBe(20000000);
    expect(service.user).toBe("qmaild");
    expect(service.lookupRemoteInfo).toBe(false);
    expect(service.log.maxFiles).toBe(20);
    expect(result.yaml).toContain("/var/qmail/supervise/smtpd/run:14: SMTPAUTH=+cram: no option for it");
  });
});

describe("a host the config cannot take as it is", () => {
  it("two services on one address and port: imported, and the error named as a warning", async () => {
    const root = fs.mkdtempSync(path.join(scratch, "collision-"));
    const entries = corpusEntries().filter((e) => e.id === "03-patch-script-mx" || e.id === "12-rblsmtpd-lists");
    writeHostCopy(root, entries, (source) => buildTcpRules(source));
    const result = await importHost(new DirectorySource(root), { hostName: "mx1", address: "192.0.2.25", hostKey: HOST_KEY });
    expect((result.raw.hosts as Array<{ services: unknown[] }>)[0].services).toHaveLength(2);
    expect(result.warnings.filter((w) => w.file === "the imported config").map((w) => w.message).join("\n")).toMatch(/does not validate.*192\.0\.2\.25/s);
  });
});
