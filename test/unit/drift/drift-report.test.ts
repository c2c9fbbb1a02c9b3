// From engine events to the drift report: constructed events in the shape the
// engine sends, and events recorded from the real engine (pulumi 3.248) on a
// sandbox mailhub with five hand edits.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { describe, expect, it } from "vitest";
import { driftReport, engineErrorText, formatDriftReport, parseDriftArgs } from "../../../cli/commands/drift";
import type { HostConfigurationState } from "../../../provider/types";

const TYPE = "qmail:index:HostConfiguration";
const SECRET = { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", ciphertext: "[secret]" };
const SUP = "/var/qmail/supervise";

let sequence = 0;

const urn = (name: string) => `urn:pulumi:prod::qmail-fleet::qmail-fleet:index:Fleet$qmail-fleet:index:Mailhub$${TYPE}::${name}`;

function stateOf(name: string, props: object) {
  return { type: TYPE, urn: urn(name), id: name, parent: "", inputs: props as Record<string, unknown>, outputs: props as Record<string, unknown>, provider: "" };
}

/** A host as declared: a run script, a secret key file, a cdb, a directory and a service. */
function declared(host: string): HostConfigurationState {
  return {
    host,
    connection: { address: "192.0.2.10", port: 22, user: "root", hostKey: "ssh-ed25519 AAAA", sudo: false },
    directories: { [`${SUP}/smtpd/log/main`]: { owner: "qmaill", group: "nofiles", mode: "0750" } },
    files: {
      [`${SUP}/smtpd/run`]: { owner: "root", group: "root", mode: "0755", sha256: "a".repeat(64), size: 20, kind: "script", secret: false, text: "#!/bin/sh\nexec true\n", restarts: [{ service: "smtpd", part: "service" }] },
      "/var/qmail/control/servercert.pem": { owner: "root", group: "nofiles", mode: "0640", sha256: SECRET as unknown as string, size: 900, kind: "secret", secret: true, restarts: [] },
      "/var/qmail/control/validrcptto.cdb": { owner: "root", group: "nofiles", mode: "0644", sha256: "c".repeat(64), size: 2100, kind: "cdb", secret: false, summary: "validrcptto.cdb: 3 addresses", restarts: [] },
    },
    services: { smtpd: { dir: `${SUP}/smtpd`, link: "/service/smtpd", listen: { ip: "192.0.2.10", port: 25 }, checkBanner: true, status: "up" } },
    banners: { smtpd: "220 mx1 ESMTP" },
  };
}

/**
 * The events `pulumi preview --refresh` sends for one host: its refresh
 * (state → what the host has) and the preview step (what the host has → what
 * the program declares).
 */
function previewRefresh(name: string, onHost: HostConfigurationState, wanted: HostConfigurationState = declared(name), op = "update"): EngineEvent[] {
  const refresh = { op: "refresh" as const, urn: urn(name), type: TYPE, provider: "", old: stateOf(name, declared(name)) };
  const { banners: _banners, ...inputs } = wanted;
  return [
    { sequence: sequence++, timestamp: 0, resourcePreEvent: { planning: true, metadata: { ...refresh, new: stateOf(name, declared(name)) } } },
    { sequence: sequence++, timestamp: 0, resOutputsEvent: { planning: true, metadata: { ...refresh, new: stateOf(name, onHost) } } },
    {
      sequence: sequence++,
      timestamp: 0,
      resourcePreEvent: { planning: true, metadata: { op: op as "update", urn: urn(name), type: TYPE, provider: "", old: stateOf(name, onHost), new: { ...stateOf(name, inputs), outputs: {} } } },
    },
  ];
}

const edited = (host: string, change: (s: HostConfigurationState) => void) => {
  const s = declared(host);
  change(s);
  return s;
};

describe("driftReport on constructed events", () => {
  it("reports nothing and exit-clean when every host matches", () => {
    const report = driftReport([...previewRefresh("mx1", declared("mx1"), declared("mx1"), "same"), ...previewRefresh("mx2", declared("mx2"), declared("mx2"), "same")]);
    expect(report.clean).toBe(true);
    expect(report.hosts).toEqual([
      { host: "mx1", checked: 5, drift: [] },
      { host: "mx2", checked: 5, drift: [] },
    ]);
    expect(formatDriftReport(report)).toBe("mx1: no drift (5 path(s) and service(s) checked)\nmx2: no drift (5 path(s) and service(s) checked)\n");
  });

  it("names content, mode, owner and group changes and missing paths, per host", () => {
    const onHost = edited("mx1", (s) => {
      s.files[`${SUP}/smtpd/run`] = { ...s.files[`${SUP}/smtpd/run`], sha256: "f".repeat(64), text: "#!/bin/sh\nexec false\n" };
      s.files["/var/qmail/control/validrcptto.cdb"] = { ...s.files["/var/qmail/control/validrcptto.cdb"], mode: "0600", owner: "qmaild" };
      delete s.directories[`${SUP}/smtpd/log/main`];
    });
    const report = driftReport([...previewRefresh("mx1", onHost), ...previewRefresh("mx2", declared("mx2"), declared("mx2"), "same")]);
    expect(report.clean).toBe(false);
    expect(formatDriftReport(report)).toBe(
      [
        "mx1: drift (5 path(s) and service(s) checked; changes shown as stack → host)",
        "  /var/qmail/control/validrcptto.cdb: mode 0644 → 0600",
        "  /var/qmail/control/validrcptto.cdb: owner root → qmaild",
        `  ${SUP}/smtpd/log/main: missing`,
        `  ${SUP}/smtpd/run: content changed`,
        "mx2: no drift (5 path(s) and service(s) checked)",
        "",
      ].join("\n"),
    );
  });

  it("reports a service that is not up with the status read on the host", () => {
    for (const status of ["down", "not linked", "down file present", "running an older run script"] as const) {
      const onHost = edited("mx1", (s) => (s.services.smtpd.status = status));
      expect(formatDriftReport(driftReport(previewRefresh("mx1", onHost)))).toContain(`  service smtpd: ${status} (declared up)\n`);
    }
  });

  it("reports a changed secret file by the provider's summary, never by its content", () => {
    const onHost = edited("mx1", (s) => {
      s.files["/var/qmail/control/servercert.pem"] = { ...s.files["/var/qmail/control/servercert.pem"], summary: "changed on the host" };
    });
    const text = formatDriftReport(driftReport(previewRefresh("mx1", onHost)));
    expect(text).toContain("/var/qmail/control/servercert.pem: content changed");
    expect(text).not.toContain("ciphertext");
  });

  it("judges by the stack, not the last deployment: a host already matching a new config is not drift", () => {
    const both = edited("mx1", (s) => (s.files[`${SUP}/smtpd/run`].mode = "0700"));
    expect(driftReport(previewRefresh("mx1", both, both, "same")).clean).toBe(true);
  });

  it("reports a host not deployed yet, one the stack no longer declares, and files it no longer declares", () => {
    const created: EngineEvent = { sequence: sequence++, timestamp: 0, resourcePreEvent: { metadata: { op: "create", urn: urn("mx3"), type: TYPE, provider: "", new: stateOf("mx3", declared("mx3")) } } };
    const deleted: EngineEvent = { sequence: sequence++, timestamp: 0, resourcePreEvent: { metadata: { op: "delete", urn: urn("mx4"), type: TYPE, provider: "", old: stateOf("mx4", declared("mx4")) } } };
    const report = driftReport([created, deleted]);
    expect(formatDriftReport(report)).toBe("mx3: drift (5 path(s) and service(s) checked; changes shown as stack → host)\n  the host: not deployed yet\nmx4: drift (0 path(s) and service(s) checked; changes shown as stack → host)\n  the host: no longer declared by the stack\n");
    const fewer = declared("mx1");
    delete fewer.files["/var/qmail/control/validrcptto.cdb"];
    expect(formatDriftReport(driftReport(previewRefresh("mx1", declared("mx1"), fewer)))).toContain("/var/qmail/control/validrcptto.cdb: no longer declared by the stack");
  });

  it("names the inputs of a change none of the findings explain", () => {
    const moved = edited("mx1", (s) => (s.connection.address = "192.0.2.99"));
    expect(formatDriftReport(driftReport(previewRefresh("mx1", declared("mx1"), moved)))).toContain("  the host: differs from the stack in connection\n");
  });

  it("ignores components, the stack and providers", () => {
    const component: EngineEvent = {
      sequence: sequence++,
      timestamp: 0,
      resourcePreEvent: { metadata: { op: "update", urn: "urn:pulumi:prod::qmail-fleet::qmail-fleet:index:Mailhub::mx1", type: "qmail-fleet:index:Mailhub", provider: "" } },
    };
    expect(driftReport([component])).toEqual({ clean: true, hosts: [] });
    expect(formatDriftReport({ clean: true, hosts: [] })).toBe("no managed hosts found in the stack\n");
  });
});

describe("driftReport on events recorded from pulumi 3.248", () => {
  // Two sandbox mailhubs; on mailhub1 the run script was edited, a down file
  // made, validrcptto.cdb chmod 0600, log/main and tcp.smtp.cdb removed.
  const recorded = (name: string) => JSON.parse(readFileSync(join(__dirname, `${name}.events.json`), "utf8")) as EngineEvent[];
  const expected = [
    "mailhub1: drift (8 path(s) and service(s) checked; changes shown as stack → host)",
    "  /var/qmail/control/tcp.smtp.cdb: missing",
    "  /var/qmail/control/validrcptto.cdb: mode 0644 → 0600",
    "  /var/qmail/supervise/smtpd/log/main: missing",
    "  /var/qmail/supervise/smtpd/run: content changed",
    "  service smtpd: down file present (declared up)",
    "mailhub2: no drift (8 path(s) and service(s) checked)",
    "",
  ].join("\n");

  it("pulumi preview --refresh", () => {
    expect(formatDriftReport(driftReport(recorded("pulumi-preview-refresh")))).toBe(expected);
  });

  it("pulumi refresh --preview-only (ops reported as update, old = state, new = host)", () => {
    expect(formatDriftReport(driftReport(recorded("pulumi-refresh-preview-only")))).toBe(expected);
  });
});

describe("drift arguments", () => {
  it("needs --stack", () => {
    expect(parseDriftArgs([], {})).toBe("--stack is required");
    expect(parseDriftArgs(["--stack"], {})).toBe("--stack needs a value");
    expect(parseDriftArgs(["--stack", "prod", "--bogus"], {})).toBe("unknown argument '--bogus'");
  });

  it("resolves directories and reads the engine directory from the environment", () => {
    expect(parseDriftArgs(["--stack=prod", "--cwd", "/srv/fleet", "--config-file", "/srv/c.yaml", "--json"], { QMAIL_FLEET_PULUMI_BIN_DIR: "/opt/pulumi/bin" })).toEqual({
      stack: "prod",
      cwd: "/srv/fleet",
      configFile: "/srv/c.yaml",
      pulumiBin: "/opt/pulumi/bin",
      json: true,
    });
    expect(parseDriftArgs(["--stack", "prod", "--pulumi-bin", "/x/bin"], { QMAIL_FLEET_PULUMI_BIN_DIR: "/opt/pulumi/bin" })).toMatchObject({ pulumiBin: "/x/bin", json: false });
  });
});

describe("engine errors", () => {
  it("keeps the engine's error lines of an Automation API failure", () => {
    const message =
      "code: -2\n stdout: \n stderr: Command failed with exit code 6: pulumi stack select --stack nope --non-interactive\n" +
      "error: no stack named 'nope' found\n err?: Error: Command failed with exit code 6: pulumi stack select --stack nope --non-interactive\n" +
      "error: no stack named 'nope' found\n";
    expect(engineErrorText(message)).toBe("error: no stack named 'nope' found");
    expect(engineErrorText("something else\n")).toBe("something else");
    expect(engineErrorText("code: -2\n stderr: Command failed with ENOENT: pulumi version\nspawn pulumi ENOENT\n")).toMatch(/^no pulumi CLI on PATH: pass --pulumi-bin DIR/);
  });
});
