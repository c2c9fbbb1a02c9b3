// Which SupervisedService triggers a change moves: only the part (service or
// log) of the service that reads the changed file at start.
import { beforeAll, describe, expect, it } from "vitest";
import type { FleetPlan } from "../../lib/host-plan";
import { fileOf, hostOf, plain, planWithSharedFiles, registerFleet, SSL_KEY, TYPES, withContent, type FleetRun } from "./mock-fleet";

const SUP = "/var/qmail/supervise";

type Triggers = Record<string, { service: unknown; log: unknown }>;

function triggers(run: FleetRun): Triggers {
  return Object.fromEntries(
    run.ofType(TYPES.supervisedService).map((r) => [r.name, { service: plain(r.inputs.serviceTrigger), log: plain(r.inputs.logTrigger) }]),
  );
}

/** `<service>.<part>` for every trigger that differs between the two runs. */
function moved(before: Triggers, after: Triggers): string[] {
  const names = Object.keys(before);
  expect(Object.keys(after)).toEqual(names);
  return names.flatMap((name) =>
    (["service", "log"] as const).filter((part) => before[name][part] !== after[name][part]).map((part) => `${name}.${part}`),
  );
}

const appended = (plan: FleetPlan, host: string, path: string, text: string) =>
  withContent(plan, host, path, Buffer.concat([fileOf(hostOf(plan, host), path).content, Buffer.from(text)]));

describe("restart triggers", () => {
  const base = planWithSharedFiles();
  let before: Triggers;
  beforeAll(async () => {
    before = triggers(await registerFleet(base));
  });

  it("are hex sha256 digests, one pair per service", () => {
    expect(Object.keys(before)).toEqual(["mx1:smtpd", "mx1:submission", "mx2:smtpd", "mx2:submission"]);
    for (const t of Object.values(before)) {
      expect(t.service).toMatch(/^[0-9a-f]{64}$/);
      expect(t.log).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  it("do not move when nothing changed", async () => {
    expect(moved(before, triggers(await registerFleet(planWithSharedFiles())))).toEqual([]);
  });

  it("a changed run script moves only that service's serviceTrigger", async () => {
    const after = triggers(await registerFleet(appended(base, "mx1", `${SUP}/submission/run`, "# edited\n")));
    expect(moved(before, after)).toEqual(["mx1:submission.service"]);
  });

  it("the same run script changed on the other host moves only that host's trigger", async () => {
    const after = triggers(await registerFleet(appended(base, "mx2", `${SUP}/smtpd/run`, "# edited\n")));
    expect(moved(before, after)).toEqual(["mx2:smtpd.service"]);
  });

  it("a changed log/run moves only that service's logTrigger", async () => {
    const after = triggers(await registerFleet(appended(base, "mx1", `${SUP}/smtpd/log/run`, "# edited\n")));
    expect(moved(before, after)).toEqual(["mx1:smtpd.log"]);
  });

  it("a file with restarts: [] (a cdb read per connection) moves no trigger, though the file itself changes", async () => {
    const cdb = "/var/qmail/control/validrcptto.cdb";
    const run = await registerFleet(withContent(base, "mx1", cdb, Buffer.from([0x00, 0x08, 0x00, 0x00, 0xff, 0x02])));
    expect(moved(before, triggers(run))).toEqual([]);
    expect(plain(run.get(`RemotePath mx1:${cdb}`).inputs.content)).toBe("AAgAAP8C");
  });

  it("a file a service reads at start (the SSL key) moves that service's serviceTrigger only", async () => {
    const run = await registerFleet(withContent(base, "mx1", "/var/qmail/control/servercert.key", SSL_KEY.replace("mock", "new")));
    expect(moved(before, triggers(run))).toEqual(["mx1:smtpd.service"]);
  });
});
