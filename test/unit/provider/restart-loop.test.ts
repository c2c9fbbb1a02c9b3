// A service in a restart loop against one restarted a moment ago: readings a
// few seconds apart tell them apart.
import { describe, expect, it } from "vitest";
import type { ObservedService, ObservedSupervise } from "../../../provider/host-operations";
import { recentlyStarted, restartingServices } from "../../../provider/restart-loop";

const up = (pid: number, startedAt: number, age: number): ObservedSupervise => ({ supervised: true, up: true, startedAt, age, pid });
const down = (downSince: number, age: number): ObservedSupervise => ({ supervised: true, up: false, downSince, age });
const service = (main: ObservedSupervise, log: ObservedSupervise = up(50, 900, 100), downFile = false): ObservedService => ({
  linkTarget: "/var/qmail/supervise/smtpd",
  service: main,
  log,
  downFile,
  logMainPresent: true,
});
const readings = (...states: ObservedService[]) => states.map((state) => new Map([["smtpd", state]]));

describe("recentlyStarted", () => {
  it("names a service or log started or stopped in the last seconds, not one long up, long down or down on purpose", () => {
    const found = new Map([
      ["young", service(up(10, 1000, 1))],
      ["young-log", service(up(11, 900, 100), down(1000, 0))],
      ["old", service(up(12, 900, 100))],
      ["long-down", service(down(900, 100))],
      ["down-file", service(down(1000, 0), up(13, 900, 100), true)],
    ]);
    expect(recentlyStarted(found)).toEqual(["young", "young-log"]);
  });
});

describe("restartingServices", () => {
  it("a service that came up on a new process in each reading is restarting", () => {
    expect(restartingServices(readings(service(up(10, 1000, 1)), service(up(14, 1002, 1)), service(up(18, 1004, 0))))).toEqual(new Set(["smtpd"]));
  });

  it("caught up and down in turn, or down since another time each reading, it is restarting", () => {
    expect(restartingServices(readings(service(up(10, 1000, 0)), service(down(1002, 0)), service(up(18, 1004, 0))))).toEqual(new Set(["smtpd"]));
    expect(restartingServices(readings(service(down(1000, 0)), service(down(1002, 0)), service(down(1004, 0))))).toEqual(new Set(["smtpd"]));
  });

  it("its log in a loop counts as well", () => {
    expect(restartingServices(readings(service(up(10, 900, 100), up(20, 1000, 0)), service(up(10, 900, 102), up(21, 1002, 0)), service(up(10, 900, 104), up(22, 1004, 0))))).toEqual(
      new Set(["smtpd"]),
    );
  });

  it("restarted once on purpose a moment before, on the same process afterwards: not restarting", () => {
    expect(restartingServices(readings(service(up(10, 1000, 0)), service(up(10, 1000, 2)), service(up(10, 1001, 4))))).toEqual(new Set());
  });

  it("a single crash (down, then up on one process) is not a loop", () => {
    expect(restartingServices(readings(service(down(1000, 0)), service(up(12, 1001, 1)), service(up(12, 1001, 3))))).toEqual(new Set());
  });

  it("down for good (svc -d) is not restarting", () => {
    expect(restartingServices(readings(service(down(1000, 2)), service(down(1000, 4)), service(down(1001, 6))))).toEqual(new Set());
  });
});
