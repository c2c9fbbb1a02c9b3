// tcpserver -l 0 (no lookup of the local host name, TCPLOCALHOST=0) is a
// common idiom: it imports as localHostName "0", which the config accepts and
// renders back to -l 0, so the rendered script runs what the host runs.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseFleetConfig } from "../../../lib/config";
import { importHost } from "../../../lib/import/host-import";
import { DirectorySource } from "../../../lib/import/host-source";
import { meaningDifferences, runScriptMeaning } from "../../../lib/import/run-script-meaning";
import { renderRunScript } from "../../../lib/render/run-script";
import { hostCopy } from "./host-copy";

const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKREcv9w/RBTq8tGL0tCpFgM07bu1UoHQJLyD4sT+RgM";
const DIR = "/var/qmail/supervise/smtpd";
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "qmail-fleet-local-zero-"));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));
const NOW = { now: new Date("2026-01-01T00:00:00Z") };

describe("tcpserver -l 0", () => {
  const run = "#!/bin/sh\nexec 2>&1\nPATH=/var/qmail/bin:/usr/local/bin:/usr/bin:/bin\nexport PATH\nexec tcpserver -v -R -l 0 -x /etc/tcp.smtp.cdb -c 20 -u 7791 -g 2108 0 25 /var/qmail/bin/qmail-smtpd\n";

  it("imports to a config that validates, and renders back to -l 0 (the same programs and arguments)", async () => {
    const imported = await importHost(new DirectorySource(hostCopy(scratch, { smtpd: run })), { hostName: "mx1", address: "192.0.2.25", hostKey: HOST_KEY });
    const service = (imported.raw.hosts as Array<{ services: Array<Record<string, unknown>> }>)[0].services[0];
    expect(service.localHostName).toBe("0");
    const parsed = parseFleetConfig(imported.raw, NOW);
    expect(parsed.ok, JSON.stringify(parsed)).toBe(true);
    if (!parsed.ok) return;
    const host = parsed.config.hosts[0];
    const rendered = renderRunScript(host.services[0], host);
    expect(rendered).toContain("LOCAL=0\n");
    const facts = { users: { qmaild: { uid: "7791", gid: "2108" } } };
    const before = runScriptMeaning(run, { serviceDir: DIR, facts });
    const after = runScriptMeaning(rendered, { serviceDir: DIR, facts });
    expect(after.chain.find((stage) => stage.operands)?.options?.get("l")).toEqual(before.chain.find((stage) => stage.operands)?.options?.get("l"));
    expect(meaningDifferences(before, after).filter((line) => /-l|LOCAL/.test(line))).toEqual([]);
  });

  it("validate accepts exactly 0, nothing else that looks like an address", async () => {
    const imported = await importHost(new DirectorySource(hostCopy(scratch, { smtpd: run })), { hostName: "mx1", address: "192.0.2.25", hostKey: HOST_KEY });
    const service = (imported.raw.hosts as Array<{ services: Array<Record<string, unknown>> }>)[0].services[0];
    for (const name of ["00", "0.0.0.0", "127.0.0"]) {
      service.localHostName = name;
      const refused = parseFleetConfig(imported.raw, NOW);
      expect(refused.ok, name).toBe(false);
      expect(JSON.stringify(refused)).toMatch(/localHostName looks like an IP address/);
    }
  });
});
