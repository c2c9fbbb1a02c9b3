// From engine events to the drift report: constructed events in the shape the
// engine sends, and events recorded from the real engine (pulumi 3.260).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { describe, expect, it } from "vitest";
import { driftReport, engineErrorText, formatDriftReport, parseDriftArgs } from "../../../cli/commands/drift";

const PATH_TYPE = "pulumi-nodejs:dynamic/qmail-fleet:RemotePath";
const SERVICE_TYPE = "pulumi-nodejs:dynamic/qmail-fleet:SupervisedService";
const SECRET = { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", ciphertext: "[secret]" };
const SUP = "/var/qmail/supervise";

type Props = Record<string, unknown>;
let sequence = 0;

function urn(type: string, name: string): string {
  return `urn:pulumi:prod::qmail-fleet::qmail-fleet:index:Fleet$qmail-fleet:index:Host$qmail-fleet:index:SmtpService$${type}::${name}`;
}

function state(type: string, name: string, props: Props) {
  const u = urn(type, name);
  return { type, urn: u, id: name, parent: "", inputs: props, outputs: props, provider: "" };
}

/**
 * The events `pulumi preview --refresh` sends for one resource: its refresh
 * (state → what the host has) and the preview step (what the host has → what
 * the program declares).
 */
function previewRefresh(type: string, name: string, deployed: Props, onHost: Props, declared: Props, op: string): EngineEvent[] {
  const u = urn(type, name);
  const refresh = { op: "refresh" as const, urn: u, type, provider: "", old: state(type, name, deployed) };
  return [
    { sequence: sequence++, timestamp: 0, resourcePreEvent: { planning: true, metadata: { ...refresh, new: state(type, name, deployed) } } },
    { sequence: sequence++, timestamp: 0, resOutputsEvent: { planning: true, metadata: { ...refresh, new: state(type, name, onHost) } } },
    {
      sequence: sequence++,
      timestamp: 0,
      resourcePreEvent: {
        planning: true,
        metadata: { op: op as "update", urn: u, type, provider: "", old: state(type, name, onHost), new: { ...state(type, name, declared), outputs: {} } },
      },
    },
  ];
}

const connection = { host: "mx1", address: "192.0.2.10", port: 22, user: "root", hostKey: "ssh-ed25519 AAAA", sudo: false };
const file = (path: string, extra: Props = {}): Props => ({
  connection,
  privateKey: SECRET,
  path,
  type: "file",
  owner: "root",
  group: "root",
  mode: "0755",
  content: "#!/bin/sh\nexec true\n",
  encoding: "utf8",
  sha256: "a".repeat(64),
  secret: false,
  present: true,
  ...extra,
});
const declaredFile = (path: string, extra: Props = {}): Props => {
  const { present: _present, ...props } = file(path, extra);
  return props;
};
const service = (name: string, extra: Props = {}): Props => ({
  connection,
  privateKey: SECRET,
  name,
  dir: `${SUP}/${name}`,
  link: `/service/${name}`,
  listen: { ip: "192.0.2.10", port: 25 },
  checkBanner: true,
  serviceTrigger: "1".repeat(64),
  logTrigger: "2".repeat(64),
  linkTarget: `${SUP}/${name}`,
  running: true,
  banner: "220 mx1 ESMTP",
  ...extra,
});
const declaredService = (name: string, extra: Props = {}): Props => {
  const { linkTarget: _l, running: _r, banner: _b, ...props } = service(name, extra);
  return props;
};

/** A file whose state matches the stack, with `onHost` what a refresh reads back. */
function fileEvents(host: string, path: string, onHost: Props, declared: Props = {}): EngineEvent[] {
  const hostFile = file(path, onHost);
  const wanted = declaredFile(path, declared);
  const same = Object.keys(onHost).length === 0 && Object.keys(declared).length === 0;
  return previewRefresh(PATH_TYPE, `${host}:${path}`, file(path), hostFile, wanted, same ? "same" : "update");
}

function serviceEvents(host: string, name: string, onHost: Props): EngineEvent[] {
  const same = Object.keys(onHost).length === 0;
  return previewRefresh(SERVICE_TYPE, `${host}:${name}`, service(name), service(name, onHost), declaredService(name), same ? "same" : "update");
}

describe("driftReport on constructed events", () => {
  it("reports nothing and exit-clean when every host matches", () => {
    const events = [
      ...fileEvents("mx1", `${SUP}/smtpd/run`, {}),
      ...serviceEvents("mx1", "smtpd", {}),
      ...fileEvents("mx2", `${SUP}/smtpd/run`, {}),
      ...serviceEvents("mx2", "smtpd", {}),
    ];
    const report = driftReport(events);
    expect(report.clean).toBe(true);
    expect(report.hosts).toEqual([
      { host: "mx1", checked: 2, drift: [] },
      { host: "mx2", checked: 2, drift: [] },
    ]);
    expect(formatDriftReport(report)).toBe(
      "mx1: no drift (2 path(s) and service(s) checked)\nmx2: no drift (2 path(s) and service(s) checked)\n",
    );
  });

  it("names content, mode, owner and group changes and missing paths, per host", () => {
    const events = [
      ...fileEvents("mx1", `${SUP}/smtpd/run`, { sha256: "b".repeat(64), content: "#!/bin/sh\nexec false\n" }),
      ...fileEvents("mx1", "/var/qmail/control/servercert.key", { mode: "0644" }, { mode: "0640" }),
      ...fileEvents("mx2", `${SUP}/submission/log/run`, { owner: "qmaill", group: "nofiles" }),
      ...fileEvents("mx2", `${SUP}/smtpd/run`, { present: false, owner: "", group: "", mode: "", sha256: "" }),
      ...fileEvents("mx2", `${SUP}/smtpd/log/run`, {}),
    ];
    const report = driftReport(events);
    expect(report.clean).toBe(false);
    expect(formatDriftReport(report)).toBe(
      [
        "mx1: drift (2 path(s) and service(s) checked; changes shown as stack → host)",
        "  /var/qmail/control/servercert.key: mode 0640 → 0644",
        `  ${SUP}/smtpd/run: content changed`,
        "mx2: drift (3 path(s) and service(s) checked; changes shown as stack → host)",
        `  ${SUP}/smtpd/run: missing`,
        `  ${SUP}/submission/log/run: owner root → qmaill`,
        `  ${SUP}/submission/log/run: group root → nofiles`,
        "",
      ].join("\n"),
    );
  });

  it("reports a directory's mode and a missing directory", () => {
    const dir = (extra: Props = {}): Props => ({ ...file(`${SUP}/smtpd/log/main`), type: "directory", content: undefined, sha256: undefined, owner: "qmaill", group: "nofiles", mode: "0750", ...extra });
    const { present: _p, ...declared } = dir();
    const events = previewRefresh(PATH_TYPE, `mx1:${SUP}/smtpd/log/main`, dir(), dir({ mode: "0755" }), declared, "update");
    expect(driftReport(events).hosts[0].drift).toEqual([
      { resource: "path", name: `${SUP}/smtpd/log/main`, findings: [{ kind: "mode", declared: "0750", found: "0755" }] },
    ]);
  });

  it("reports services that are down or not linked", () => {
    const events = [
      ...serviceEvents("mx1", "smtpd", { running: false }),
      ...serviceEvents("mx1", "submission", { linkTarget: "" }),
      ...serviceEvents("mx2", "smtpd", { linkTarget: "/var/qmail/supervise/old-smtpd" }),
    ];
    const report = driftReport(events);
    expect(report.hosts.flatMap((h) => h.drift.map((d) => [h.host, d.name, d.findings.map((f) => f.kind)]))).toEqual([
      ["mx1", "smtpd", ["down"]],
      ["mx1", "submission", ["unlinked"]],
      ["mx2", "smtpd", ["unlinked"]],
    ]);
    expect(formatDriftReport(report)).toContain("  service smtpd: down (supervise is not running it)\n");
    expect(formatDriftReport(report)).toContain("  service submission: not linked into the svscan directory\n");
    expect(formatDriftReport(report)).toContain(`  service smtpd: linked to /var/qmail/supervise/old-smtpd, not ${SUP}/smtpd\n`);
  });

  it("never prints a secret file's content, only that it changed", () => {
    const secretFile = { secret: true, content: SECRET, sha256: "c".repeat(64), mode: "0640", group: "qmaild" };
    const events = fileEvents("mx1", "/var/qmail/control/servercert.key", { ...secretFile, sha256: "d".repeat(64) }, secretFile);
    const report = driftReport(events);
    expect(report.hosts[0].drift).toEqual([{ resource: "path", name: "/var/qmail/control/servercert.key", findings: [{ kind: "content" }] }]);
    const text = formatDriftReport(report) + JSON.stringify(report);
    expect(text).not.toContain("ciphertext");
    expect(text).not.toContain("c".repeat(64));
    expect(text).not.toContain("d".repeat(64));
  });

  it("judges by the stack, not the last deployment: a host already matching a new config is not drift", () => {
    // State has mode 0644, the host and the program both 0640.
    const path = "/var/qmail/control/validrcptto.cdb";
    const events = previewRefresh(PATH_TYPE, `mx1:${path}`, file(path, { mode: "0644" }), file(path, { mode: "0640" }), declaredFile(path, { mode: "0640" }), "same");
    expect(driftReport(events).clean).toBe(true);
  });

  it("reports what is not deployed yet and what the stack no longer declares", () => {
    const path = `${SUP}/submission/run`;
    const create: EngineEvent = {
      sequence: sequence++,
      timestamp: 0,
      resourcePreEvent: { planning: true, metadata: { op: "create", urn: urn(PATH_TYPE, `mx1:${path}`), type: PATH_TYPE, provider: "", new: state(PATH_TYPE, `mx1:${path}`, declaredFile(path)) } },
    };
    const old = `${SUP}/old/run`;
    const del: EngineEvent = {
      sequence: sequence++,
      timestamp: 0,
      resourcePreEvent: { planning: true, metadata: { op: "delete", urn: urn(PATH_TYPE, `mx1:${old}`), type: PATH_TYPE, provider: "", old: state(PATH_TYPE, `mx1:${old}`, file(old)) } },
    };
    const text = formatDriftReport(driftReport([create, del]));
    expect(text).toContain(`  ${old}: no longer declared by the stack\n`);
    expect(text).toContain(`  ${path}: not deployed yet\n`);
  });

  it("names the inputs of a change none of the findings explain, without their values", () => {
    const path = `${SUP}/smtpd/run`;
    const moved = { ...connection, port: 2222 };
    const events = previewRefresh(PATH_TYPE, `mx1:${path}`, file(path), file(path), declaredFile(path, { connection: moved }), "update");
    expect(driftReport(events).hosts[0].drift[0].findings).toEqual([{ kind: "other", properties: ["connection"] }]);
    expect(formatDriftReport(driftReport(events))).toContain(`  ${path}: differs from the stack in connection\n`);
  });

  it("takes a replacement's replace step, not its delete-replaced half", () => {
    const path = `${SUP}/smtpd/run`;
    const events = previewRefresh(PATH_TYPE, `mx1:${path}`, file(path), file(path), declaredFile(path, { type: "symlink" }), "replace");
    events.push({
      sequence: sequence++,
      timestamp: 0,
      resourcePreEvent: { planning: true, metadata: { op: "delete-replaced", urn: urn(PATH_TYPE, `mx1:${path}`), type: PATH_TYPE, provider: "", old: state(PATH_TYPE, `mx1:${path}`, file(path)) } },
    });
    expect(driftReport(events).hosts[0].drift[0].findings).toEqual([{ kind: "other", properties: ["type"] }]);
  });

  it("ignores components, the stack and providers", () => {
    const component: EngineEvent = {
      sequence: sequence++,
      timestamp: 0,
      resourcePreEvent: { metadata: { op: "update", urn: "urn:pulumi:prod::qmail-fleet::qmail-fleet:index:Host::mx1", type: "qmail-fleet:index:Host", provider: "" } },
    };
    expect(driftReport([component])).toEqual({ clean: true, hosts: [] });
    expect(formatDriftReport({ clean: true, hosts: [] })).toBe("no managed files or services found in the stack\n");
  });
});

describe("driftReport on events recorded from pulumi 3.260", () => {
  // A stack of three RemotePath resources (dynamic provider reading a fake
  // host); on the host /a's mode was changed, /b's content, /c removed. The
  // plain-text secret the program declared for /a is masked by the engine.
  const recorded = (name: string) =>
    JSON.parse(readFileSync(join(__dirname, `${name}.events.json`), "utf8")) as EngineEvent[];
  const expected = [
    "mx1: drift (3 path(s) and service(s) checked; changes shown as stack → host)",
    "  /a: mode 0644 → 0600",
    "  /b: content changed",
    "  /c: missing",
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
