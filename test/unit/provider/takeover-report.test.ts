// The preview's take-over lines for services an update adds over hand-written
// ones: only services whose directory already holds a run script, and for
// each what is written and whether it restarts.
import { describe, expect, it } from "vitest";
import { planChanges } from "../../../provider/change-plan";
import { addedServicesReport, servicesTakenOver, takeoverReport } from "../../../provider/takeover-report";
import type { Observation, ObservedFile, ObservedService } from "../../../provider/host-operations";
import type { FileSpec, HostConfigurationArgs, HostConfigurationState, ServiceSpec } from "../../../provider/types";

const SUP = "/var/qmail/supervise";
const sha = (c: string) => c.repeat(64);
const script = (content: string, text: string, service: string, part: "service" | "log"): FileSpec => ({
  owner: "root", group: "root", mode: "0755", sha256: sha(content), size: text.length, kind: "script", secret: false, text, restarts: [{ service, part }],
});
const service = (name: string, port: number): ServiceSpec => ({ dir: `${SUP}/${name}`, link: `/service/${name}`, listen: { ip: "192.0.2.10", port }, checkBanner: true, status: "up" });

const RUN = "#!/bin/sh\nexec 2>&1\nexec tcpserver -v -R -u 7791 -g 2108 0 587 /var/qmail/bin/qmail-smtpd\n";
const HAND_RUN = "#!/bin/sh\n# by hand\nexec tcpserver -vR -u 7791 -g 2108 0 587 /var/qmail/bin/qmail-smtpd 2>&1\n";
const LOG = "#!/bin/sh\nexec setuidgid qmaill multilog t s99999 n10 ./main\n";
const HAND_LOG = "#!/bin/sh\nexec setuidgid qmaill multilog t s5000 ./main\n";

const previous: HostConfigurationState = {
  host: "mx1",
  connection: { address: "192.0.2.10", port: 22, user: "root", hostKey: "ssh-ed25519 AAAA", sudo: false },
  directories: {},
  files: { [`${SUP}/smtpd/run`]: script("a", RUN, "smtpd", "service") },
  services: { smtpd: service("smtpd", 25) },
  banners: {},
};

const desired: HostConfigurationArgs = {
  ...previous,
  files: {
    ...previous.files,
    [`${SUP}/submission/run`]: script("b", RUN, "submission", "service"),
    [`${SUP}/submission/log/run`]: script("c", LOG, "submission", "log"),
    [`${SUP}/fresh/run`]: script("d", RUN, "fresh", "service"),
  },
  services: { ...previous.services, submission: service("submission", 587), fresh: service("fresh", 2525) },
};

const up: ObservedService = {
  service: { supervised: true, up: true, startedAt: 1000 },
  log: { supervised: true, up: true, startedAt: 1000 },
  downFile: false,
  logMainPresent: true,
  runMtime: 900,
  logRunMtime: 900,
};
const onHost = (content: string, text?: string): ObservedFile => ({ present: true, regular: true, owner: "root", group: "root", mode: "0755", sha256: sha(content), size: 10, leftover: false, text });

const observation: Observation = {
  files: new Map([
    [`${SUP}/smtpd/run`, onHost("a")],
    [`${SUP}/submission/run`, onHost("e", HAND_RUN)],
    [`${SUP}/submission/log/run`, onHost("f", HAND_LOG)],
    [`${SUP}/fresh/run`, { present: false, leftover: false }],
  ]),
  directories: new Map(),
  services: new Map([
    ["smtpd", { ...up, linkTarget: `${SUP}/smtpd` }],
    ["submission", { ...up, linkTarget: `${SUP}/submission` }],
    ["fresh", { ...up, linkTarget: undefined, service: { supervised: false, up: false }, log: { supervised: false, up: false } }],
  ]),
};

describe("services an update takes over", () => {
  it("are the added ones whose directory holds a run script", () => {
    expect(servicesTakenOver(previous, desired, observation)).toEqual(["submission"]);
    expect(servicesTakenOver(desired, desired, observation)).toEqual([]);
  });

  it("are reported file by file, with whether each restarts and why", () => {
    const plan = planChanges("mx1", previous, desired, observation);
    expect(addedServicesReport("mx1", ["submission"], desired, observation, plan).split("\n")).toEqual([
      "mx1: taking over service submission already on the host, as read from it before anything is written:",
      `  written: ${SUP}/submission/log/run (bytes differ)`,
      "      exec chain: setuidgid qmaill | multilog t s5000 ./main → setuidgid qmaill | multilog t ./main",
      `  written: ${SUP}/submission/run (bytes differ; runs the same programs, arguments and environment)`,
      "  service submission: log restarted",
    ]);
  });
});

describe("files outside the services' directories", () => {
  it("are named in the added services' report when the same update writes them", () => {
    const CDB = "/var/qmail/control/validrcptto.cdb";
    const withCdb: HostConfigurationArgs = { ...desired, files: { ...desired.files, [CDB]: { ...script("g", "", "smtpd", "service"), kind: "cdb", mode: "0644", text: undefined, restarts: [] } } };
    const host: Observation = { ...observation, files: new Map([...observation.files, [CDB, { ...onHost("h"), mode: "0644" }]]) };
    const report = addedServicesReport("mx1", ["submission"], withCdb, host, planChanges("mx1", previous, withCdb, host)).split("\n");
    expect(report).toContain(`  written: ${CDB} (bytes differ)`);
    expect(report.filter((line) => line.includes(`${SUP}/fresh/`))).toEqual([]);
  });
});

describe("a cdb the host built itself", () => {
  it("is said to be built from the stack config from now on when the take-over rewrites it", () => {
    const CDB = "/var/qmail/control/tcp.smtp.cdb";
    const withCdb: HostConfigurationArgs = { ...previous, files: { ...previous.files, [CDB]: { ...script("g", "", "smtpd", "service"), kind: "cdb", mode: "0644", text: undefined, restarts: [] } } };
    const host: Observation = { ...observation, files: new Map([...observation.files, [CDB, { ...onHost("h"), mode: "0644" }]]) };
    const plan = planChanges("mx1", { ...withCdb, directories: {}, files: {}, services: {}, banners: {} }, withCdb, host);
    expect(takeoverReport("mx1", withCdb, host, plan).split("\n")).toEqual(expect.arrayContaining([
      `  written: ${CDB} (bytes differ)`,
      "      built from the stack config from now on: a source file the host built it from (e.g. tcp.smtp for tcprules) no longer reaches it",
    ]));
  });
});
