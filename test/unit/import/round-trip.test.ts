// render → import → render is byte-identical for the project's own scripts:
// every host of every valid config and golden case is rendered, its files
// laid out as on the host, imported with `importHost` from that copy, and the
// imported config rendered again.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseFleetConfig, type FleetConfig, type HostConfig } from "../../../lib/config";
import { renderRunScript } from "../../../lib/render/run-script";
import { renderLogScript } from "../../../lib/render/log-script";
import { readConfigSource } from "../../../lib/source/config-file";
import { importHost } from "../../../lib/import/host-import";
import { DirectorySource } from "../../../lib/import/host-source";

const TEST = path.join(__dirname, "..", "..");
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "qmail-fleet-round-trip-"));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

function configs(): Array<[string, FleetConfig]> {
  const files = [
    ...fs.readdirSync(path.join(TEST, "valid-configs")).filter((f) => /\.(ya?ml|json)$/.test(f)).map((f) => path.join(TEST, "valid-configs", f)),
    ...fs.readdirSync(path.join(TEST, "golden")).filter((f) => f.endsWith(".yaml")).map((f) => path.join(TEST, "golden", f)),
  ];
  const out: Array<[string, FleetConfig]> = [];
  for (const file of files) {
    const parsed = parseFleetConfig(readConfigSource(file).raw, { now: new Date("2026-01-01T00:00:00Z") });
    if (parsed.ok) out.push([path.relative(TEST, file), parsed.config]);
  }
  return out;
}

/** The host's scripts where a host keeps them. */
function layOut(root: string, host: HostConfig): Map<string, string> {
  const files = new Map<string, string>();
  for (const service of host.services) {
    const dir = `${host.superviseDir}/${service.name}`;
    files.set(`${dir}/run`, renderRunScript(service, host));
    files.set(`${dir}/log/run`, renderLogScript(service, host));
    fs.mkdirSync(path.join(root, host.serviceDir), { recursive: true });
    fs.symlinkSync(dir, path.join(root, host.serviceDir, service.name));
  }
  for (const [file, text] of files) {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), text);
  }
  return files;
}

const cases = configs().flatMap(([file, config]) => config.hosts.map((host): [string, HostConfig] => [`${file} ${host.name}`, host]));

describe("render → import → render", () => {
  it("has cases from test/valid-configs and test/golden", () => {
    expect(cases.length).toBeGreaterThan(20);
  });

  it.each(cases)("%s", async (name, host) => {
    const root = fs.mkdtempSync(path.join(scratch, "host-"));
    const before = layOut(root, host);
    const imported = await importHost(new DirectorySource(root), {
      hostName: host.name,
      address: host.address,
      hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKREcv9w/RBTq8tGL0tCpFgM07bu1UoHQJLyD4sT+RgM",
      serviceDir: host.serviceDir,
    });
    // Only the files the options point at may be missing here; no script line is left out.
    expect(imported.warnings.filter((w) => w.line > 0), JSON.stringify(imported.warnings, null, 1)).toEqual([]);
    const reparsed = parseFleetConfig(imported.raw, { now: new Date("2026-01-01T00:00:00Z") });
    expect(reparsed.ok, JSON.stringify(reparsed)).toBe(true);
    if (!reparsed.ok) return;
    const again = reparsed.config.hosts[0];
    const after = new Map<string, string>();
    for (const service of again.services) {
      after.set(`${again.superviseDir}/${service.name}/run`, renderRunScript(service, again));
      after.set(`${again.superviseDir}/${service.name}/log/run`, renderLogScript(service, again));
    }
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    for (const [file, text] of before) expect(after.get(file), file).toBe(text);
  });
});
