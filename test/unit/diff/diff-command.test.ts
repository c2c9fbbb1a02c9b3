// `qmail-fleet diff` on two configs: exactly the files, services and restarts
// a realistic change brings, nothing of a secret (plain or encrypted), its
// JSON shape, and clear errors for bad input.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { diffCommand } from "../../../cli/commands/diff";
import { DIFF_FORMAT, type FileDiff, type FleetDiff } from "../../../cli/diff/fleet-diff";
import { captureOutput } from "../../capture-output";
import { HOST_KEY } from "../schema/fixtures";
import { ALICE_PASSWORD, baseFleet, CAROL_PASSWORD, headFleet, newKeyPair, writeConfigs, type KeyPair } from "./fleet-fixture";

const output = captureOutput();

let pair: KeyPair;
let otherPair: KeyPair;
beforeAll(() => {
  pair = newKeyPair();
  otherPair = newKeyPair();
});

/** Runs the command with this run's output only in `output`. */
async function runDiff(...args: string[]): Promise<number> {
  output.stdout = output.stderr = "";
  return diffCommand.run(args);
}

async function diffJson(base: string, head: string): Promise<{ code: number; diff: FleetDiff }> {
  const code = await runDiff("--format", "json", base, head);
  return { code, diff: JSON.parse(output.stdout) as FleetDiff };
}

const row = (file: FileDiff) => `${file.path} ${file.change}${file.secret ? " [secret]" : ""}`;
const changedLines = (diff: string) => diff.split("\n").filter((line) => /^[-+]/.test(line));
/** The base64 lines of a PEM text: none of them may appear in any output. */
const pemLines = (pem: string) => pem.split("\n").filter((line) => line !== "" && !line.startsWith("-----"));

describe("qmail-fleet diff: a realistic change", () => {
  it("lists exactly the greeting, the address, the new user and the removed service, with the restart", async () => {
    const files = writeConfigs({ base: baseFleet(pair), head: headFleet(pair) });
    const { code, diff } = await diffJson(files.base, files.head);
    expect(code).toBe(2);
    expect(diff.changed).toBe(true);
    expect(diff.hosts.map((h) => `${h.host} ${h.change}`)).toEqual(["mx1 changed", "mx2 changed"]);

    const [mx1, mx2] = diff.hosts;
    expect(mx1.files.map(row)).toEqual([
      "/var/qmail/control/auth.cdb changed [secret]",
      "/var/qmail/control/validrcptto.cdb changed",
      "/var/qmail/supervise/smtpd/run changed",
    ]);
    const [auth, validRcptTo, run] = mx1.files;
    expect(auth.keys).toEqual({ added: ["carol@example.com"], removed: [], changed: [] });
    expect(validRcptTo.keys).toEqual({ added: ["bob@example.com"], removed: [], changed: [] });
    expect(changedLines(run.diff!)).toEqual(["+# qmail-smtpd", "+export SMTPGREETING=mx1.example.com", "+"]);
    // Only smtpd's run script changed: only smtpd restarts; the cdbs are read per connection.
    expect(mx1.services.map((s) => `${s.service} ${s.change} restart=${s.restart} log=${s.restartLog}`)).toEqual([
      "smtpd unchanged restart=true log=false",
      "smtps unchanged restart=false log=false",
    ]);

    expect(mx2.files.map(row)).toEqual([
      "/var/qmail/control/auth.cdb removed [secret]",
      "/var/qmail/control/validrcptto.cdb changed",
      "/var/qmail/supervise/smtps/log/run removed",
      "/var/qmail/supervise/smtps/run removed",
    ]);
    expect(mx2.services.map((s) => `${s.service} ${s.change} restart=${s.restart} log=${s.restartLog}`)).toEqual([
      "smtpd unchanged restart=false log=false",
      "smtps removed restart=false log=false",
    ]);
    expect(mx2.directories.map((d) => `${d.path} ${d.change}`)).toEqual([
      "/var/qmail/supervise/smtps removed",
      "/var/qmail/supervise/smtps/log removed",
      "/var/qmail/supervise/smtps/log/main removed",
    ]);
    for (const host of diff.hosts) expect(host.connection).toEqual([]);
  });

  it("prints them as Markdown for a pull request, without a password", async () => {
    const files = writeConfigs({ base: baseFleet(pair), head: headFleet(pair) });
    expect(await runDiff(files.base, files.head)).toBe(2);
    const text = output.stdout;
    expect(text).toContain("### mx1 (changed)\n\nRestarts: `smtpd`\n");
    expect(text).toContain("| `/var/qmail/control/auth.cdb` | changed `[secret]` | auth.cdb: 2 users (alice@example.com, carol@example.com); added: carol@example.com |");
    expect(text).toContain("| `/var/qmail/control/validrcptto.cdb` | changed | validrcptto.cdb: 3 addresses; added: bob@example.com |");
    expect(text).toContain("+export SMTPGREETING=mx1.example.com\n");
    expect(text).toContain("### mx2 (changed)\n\nRestarts: none\n\n- service `smtps` removed");
    for (const secret of [ALICE_PASSWORD, CAROL_PASSWORD, ...pemLines(pair.key)]) expect(text).not.toContain(secret);
  });

  it("says so, and exits 0, when nothing changes", async () => {
    const files = writeConfigs({ base: baseFleet(pair), head: baseFleet(pair) });
    expect(await runDiff(files.base, files.head)).toBe(0);
    expect(output.stdout).toContain("No host changes.");
    const { code, diff } = await diffJson(files.base, files.head);
    expect(code).toBe(0);
    expect(diff.hosts.map((h) => `${h.host} ${h.change}`)).toEqual(["mx1 unchanged", "mx2 unchanged"]);
  });

  it("names hosts added and removed", async () => {
    const head = baseFleet(pair) as { hosts: Array<Record<string, unknown>> };
    head.hosts = [head.hosts[0], { name: "mx3", address: "192.0.2.12", ssh: { hostKey: HOST_KEY } }];
    const files = writeConfigs({ base: baseFleet(pair), head });
    const { diff } = await diffJson(files.base, files.head);
    expect(diff.hosts.map((h) => `${h.host} ${h.change}`)).toEqual(["mx1 unchanged", "mx3 added", "mx2 removed"]);
    const mx3 = diff.hosts[1];
    expect(mx3.services.map((s) => `${s.service} ${s.change} restart=${s.restart}`)).toEqual(["smtpd added restart=false"]);
    expect(mx3.files.every((f) => f.change === "added")).toBe(true);
  });
  it("names the rule for every client (address \"\") when it changes, as the open relay it makes is the change to see", async () => {
    const rules = (relay: boolean) => ({
      "/var/qmail/control/tcp.smtp.cdb": { rules: [{ address: "127.", action: "allow", env: { RELAYCLIENT: "" } }, { address: "", action: "allow", ...(relay ? { env: { RELAYCLIENT: "" } } : {}) }] },
    });
    const withRules = (relay: boolean) => {
      const fleet = baseFleet(pair) as { services: Array<Record<string, unknown>> } & Record<string, unknown>;
      fleet.services = [{ ...fleet.services[0], accessRules: "/var/qmail/control/tcp.smtp.cdb", ...(relay ? { acknowledge: ["open-relay"] } : {}) }];
      fleet.tcpRules = rules(relay);
      return fleet;
    };
    const files = writeConfigs({ base: withRules(false), head: withRules(true) });
    const { diff } = await diffJson(files.base, files.head);
    expect(diff.hosts[0].files.find((f) => f.path === "/var/qmail/control/tcp.smtp.cdb")?.keys).toEqual({ added: [], removed: [], changed: [""] });
    expect(await runDiff(files.base, files.head)).toBe(2);
    expect(output.stdout).toContain('| `/var/qmail/control/tcp.smtp.cdb` | changed | tcp.smtp.cdb: 2 rule entries; changed: "" (every client) |');
  });
});

describe("qmail-fleet diff: the rollout", () => {
  it("shows how pulumi up takes the hosts when the rollout policy changes, and nothing about hosts that do not change", async () => {
    const files = writeConfigs({ base: baseFleet(pair), head: { ...baseFleet(pair), rollout: { canary: 1, maxFailures: 0 } } });
    expect(await runDiff(files.base, files.head)).toBe(0);
    expect(output.stdout).toContain("No host changes.");
    expect(output.stdout).toContain(
      "- was: all at once: mx1, mx2; settle 2 s, health timeout 60 s, every failure tolerated\n- now: in turn: canary mx1; then mx2; settle 2 s, health timeout 60 s, 0 failures tolerated\n",
    );
    const { diff } = await diffJson(files.base, files.head);
    expect(diff.rollout?.after).toBe("in turn: canary mx1; then mx2; settle 2 s, health timeout 60 s, 0 failures tolerated");
    expect((await diffJson(files.base, files.base)).diff.rollout).toBeUndefined();
  });
});

describe("qmail-fleet diff: secrets", () => {
  it("names a changed SSL key file [secret], restarts the SSL-wrapped service, and prints nothing of either key", async () => {
    const files = writeConfigs({ base: baseFleet(pair), head: baseFleet(otherPair) });
    const { code, diff } = await diffJson(files.base, files.head);
    expect(code).toBe(2);
    for (const host of diff.hosts) {
      expect(host.files.map(row)).toEqual(["/var/qmail/control/servercert.pem changed [secret]"]);
      expect(host.files[0].diff).toBeUndefined();
      // sslserver reads the key when it starts; qmail-smtpd's STARTTLS reads it per connection.
      expect(host.services.filter((s) => s.restart).map((s) => s.service)).toEqual(["smtps"]);
    }
    const json = output.stdout;
    await runDiff(files.base, files.head);
    for (const text of [json, output.stdout]) {
      for (const line of [...pemLines(pair.key), ...pemLines(otherPair.key)]) expect(text).not.toContain(line);
      // No hash of anything: a sha256 of a secret is as good as the secret for a short password.
      expect(text).not.toMatch(/[0-9a-f]{64}/);
      expect(text).not.toContain("sha256");
    }
    expect(output.stdout).toContain("| `/var/qmail/control/servercert.pem` | changed `[secret]` |");
  });

  it("names a secret encrypted in the stack file as changed when its ciphertext changes, and never prints it", async () => {
    const stack = (sslKey: string, password: string) => {
      const config = baseFleet(pair) as Record<string, unknown>;
      config.sslKey = { secure: sslKey };
      config.authUsers = [{ user: "alice@example.com", password: { secure: password } }];
      return { config: Object.fromEntries(Object.entries(config).map(([key, value]) => [`qmail-fleet:${key}`, value])) };
    };
    const dir = mkdtempSync(join(tmpdir(), "qf-diff-stack-"));
    const write = (name: string, config: unknown) => {
      const path = join(dir, name, "Pulumi.prod.json");
      require("node:fs").mkdirSync(join(dir, name));
      writeFileSync(path, JSON.stringify(config));
      return path;
    };
    const base = write("base", stack("v1:AAAAbaseKEYciphertext", "v1:AAAAbasePASSWORDciphertext"));
    const same = write("same", stack("v1:AAAAbaseKEYciphertext", "v1:AAAAbasePASSWORDciphertext"));
    const head = write("head", stack("v1:BBBBheadKEYciphertext", "v1:AAAAbasePASSWORDciphertext"));

    expect((await diffJson(base, same)).code).toBe(0);
    const { code, diff } = await diffJson(base, head);
    expect(code).toBe(2);
    for (const host of diff.hosts) {
      expect(host.files.map((f) => `${row(f)} encrypted=${f.encrypted}`)).toEqual(["/var/qmail/control/servercert.pem changed [secret] encrypted=true"]);
      expect(host.services.filter((s) => s.restart).map((s) => s.service)).toEqual(["smtps"]);
    }
    const json = output.stdout;
    await runDiff(base, head);
    for (const text of [json, output.stdout]) for (const ciphertext of ["KEYciphertext", "PASSWORDciphertext"]) expect(text).not.toContain(ciphertext);
    expect(output.stdout).toContain("encrypted in the config: its ciphertext changed");
  });
});

describe("qmail-fleet diff: JSON", () => {
  it("has the documented shape", async () => {
    const files = writeConfigs({ base: baseFleet(pair), head: headFleet(pair) });
    const { diff } = await diffJson(files.base, files.head);
    expect(Object.keys(diff).sort()).toEqual(["base", "changed", "format", "hazards", "head", "hosts", "notes", "policy"]);
    expect(diff.format).toBe(DIFF_FORMAT);
    expect(diff.base).toBe(files.base);
    expect(diff.head).toBe(files.head);
    expect(diff.policy).toEqual([]);
    expect(diff.hazards).toEqual([]);
    for (const host of diff.hosts) {
      expect(Object.keys(host).sort()).toEqual(["change", "connection", "directories", "files", "host", "services"]);
      for (const file of host.files) {
        expect(["added", "removed", "changed"]).toContain(file.change);
        expect(["script", "cdb", "secret", "text"]).toContain(file.kind);
        expect(typeof file.secret).toBe("boolean");
        expect(typeof file.encrypted).toBe("boolean");
        expect(typeof file.contentChanged).toBe("boolean");
        expect(Array.isArray(file.attributes)).toBe(true);
      }
      for (const service of host.services) expect(Object.keys(service).sort()).toEqual(["change", "restart", "restartLog", "service"]);
    }
  });

  it("lists the house rules the head config breaks, decided offline", async () => {
    const head = baseFleet(pair) as { hosts: Array<Record<string, unknown>> };
    head.hosts = Array.from({ length: 11 }, (_, i) => ({ name: `mx${i + 1}`, address: `192.0.2.${i + 10}`, ssh: { hostKey: HOST_KEY } }));
    const files = writeConfigs({ base: baseFleet(pair), head });
    const { diff } = await diffJson(files.base, files.head);
    expect(diff.policy.map((p) => `${p.rule} ${p.enforcement}`)).toEqual(["rollout-in-batches mandatory"]);
    await runDiff(files.base, files.head);
    expect(output.stdout).toContain("- **mandatory** `rollout-in-batches`: the fleet: its 11 hosts would change all at once");

    // A service rule, decided from the traits planning gives the provider's inputs: an open relay acknowledged in the config.
    const relay = baseFleet(pair) as { services: Array<Record<string, unknown>> } & Record<string, unknown>;
    relay.services = [{ ...relay.services[0], accessRules: "/var/qmail/control/tcp.smtp.cdb", acknowledge: ["open-relay"] }];
    relay.tcpRules = { "/var/qmail/control/tcp.smtp.cdb": { rules: [{ address: "", action: "allow", env: { RELAYCLIENT: "" } }] } };
    const relayFiles = writeConfigs({ base: baseFleet(pair), head: relay });
    const relayed = (await diffJson(relayFiles.base, relayFiles.head)).diff;
    expect(relayed.policy.map((p) => `${p.rule} ${p.enforcement} ${p.host}`)).toEqual(["no-open-relay-on-mx mandatory mx1", "no-open-relay-on-mx mandatory mx2"]);

    // The policy pack's config file sets levels and settings as it does for pulumi preview.
    const policyConfig = (config: unknown) => writeConfigs({ policy: config as Record<string, unknown> }).policy;
    await runDiff("--format", "json", "--policy-config", policyConfig({ "rollout-in-batches": "advisory" }), files.base, files.head);
    expect((JSON.parse(output.stdout) as FleetDiff).policy.map((p) => `${p.rule} ${p.enforcement}`)).toEqual(["rollout-in-batches advisory"]);
    await runDiff("--format", "json", "--policy-config", policyConfig({ "rollout-in-batches": { enforcementLevel: "mandatory", maxBatchHosts: 11 } }), files.base, files.head);
    expect((JSON.parse(output.stdout) as FleetDiff).policy).toEqual([]);
    expect(await runDiff("--policy-config", policyConfig({ "open-relay": "mandatory" }), files.base, files.head)).toBe(1);
    expect(output.stderr).toContain("open-relay: no such rule (rules: ssl-key-file-permissions,");
    expect(await runDiff("--policy-config", policyConfig({ "validrcptto-on-mx": "warn" }), files.base, files.head)).toBe(1);
    expect(output.stderr).toContain('validrcptto-on-mx: enforcementLevel "warn" is not one of mandatory, advisory, disabled');
  });
});

describe("qmail-fleet diff: bad input", () => {
  const noStackTrace = () => expect(output.stderr).not.toMatch(/\n\s+at /);

  it("names a config file that is not there", async () => {
    const files = writeConfigs({ base: baseFleet(pair) });
    expect(await runDiff(files.base, "/nonexistent/head.yaml")).toBe(1);
    expect(output.stderr).toContain("cannot read /nonexistent/head.yaml: no such file");
    expect(output.stdout).toBe("");
    noStackTrace();
  });

  it("names the field a config gets wrong", async () => {
    const bad = baseFleet(pair) as { services: Array<Record<string, unknown>> };
    bad.services = [{ ...bad.services[0], port: "twenty-five" }];
    const files = writeConfigs({ base: baseFleet(pair), head: bad });
    expect(await runDiff(files.base, files.head)).toBe(1);
    expect(output.stderr).toContain(`${files.head}:\n`);
    expect(output.stderr).toMatch(/services\[0\]\.port/);
    // Errors alone: no empty "warning:" line above them.
    expect(output.stderr).not.toContain("warning:");
    expect(output.stdout).toBe("");
    noStackTrace();
  });

  it("refuses a wrong format, a missing config and an option it does not know", async () => {
    const files = writeConfigs({ base: baseFleet(pair), head: headFleet(pair) });
    expect(await runDiff("--format", "xml", files.base, files.head)).toBe(1);
    expect(output.stderr).toContain("--format xml: give markdown or json");
    expect(await runDiff(files.base)).toBe(1);
    expect(output.stderr).toContain("give two config files (base, then head), or --base GIT-REF");
    expect(await runDiff("--verbose", files.base, files.head)).toBe(1);
    expect(output.stderr).toContain("unknown option --verbose");
    expect(output.stdout).toBe("");
    noStackTrace();
  });
});
