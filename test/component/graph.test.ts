// The resource graph a Fleet registers: types, parents and dependencies.
import { beforeAll, describe, expect, it } from "vitest";
import { HOST_KEY, plain, planWithSharedFiles, registerFleet, TYPES, twoHostPlan, type FleetRun } from "./mock-fleet";

const SUP = "/var/qmail/supervise";

describe("Fleet resource graph (two hosts, two services each)", () => {
  let run: FleetRun;
  beforeAll(async () => {
    run = await registerFleet(planWithSharedFiles());
  });

  it("registers one Fleet, a Host per host, an SmtpService and a SupervisedService per service", () => {
    expect(run.ofType(TYPES.fleet).map((r) => r.name)).toEqual(["fleet"]);
    expect(run.ofType(TYPES.host).map((r) => r.name)).toEqual(["mx1", "mx2"]);
    expect(run.ofType(TYPES.smtpService).map((r) => r.name)).toEqual(["mx1:smtpd", "mx1:submission", "mx2:smtpd", "mx2:submission"]);
    expect(run.ofType(TYPES.supervisedService).map((r) => r.name)).toEqual([
      "mx1:smtpd",
      "mx1:submission",
      "mx2:smtpd",
      "mx2:submission",
    ]);
    for (const r of run.resources) expect(r.custom).toBe(r.type.startsWith("pulumi-nodejs:dynamic/"));
    expect(new Set(run.resources.map((r) => r.type))).toEqual(new Set(Object.values(TYPES)));
  });

  it("registers one RemotePath per planned directory and file, named <host>:<path>", () => {
    const names = run.ofType(TYPES.remotePath).map((r) => r.name);
    const plan = planWithSharedFiles();
    const expected = plan.hosts.flatMap((h) => [...h.directories, ...h.files].map((p) => `${h.name}:${p.path}`));
    expect([...names].sort()).toEqual([...expected].sort());
    expect(run.get(`RemotePath mx1:${SUP}/smtpd/run`).inputs).toMatchObject({
      path: `${SUP}/smtpd/run`,
      type: "file",
      owner: "root",
      group: "root",
      mode: "0755",
      encoding: "utf8",
      secret: false,
      connection: { host: "mx1", address: "192.0.2.10", port: 22, user: "root", hostKey: HOST_KEY, sudo: false },
    });
    expect(run.get(`RemotePath mx1:${SUP}/smtpd/log/main`).inputs).toMatchObject({ type: "directory", owner: "qmaill", group: "nofiles", mode: "0750" });
    // Binary content (cdb) travels as base64.
    const cdb = run.get("RemotePath mx1:/var/qmail/control/validrcptto.cdb").inputs;
    expect(cdb.encoding).toBe("base64");
    expect(plain(cdb.content)).toBe("AAgAAP8B");
  });

  it("nests Host under Fleet, SmtpService under Host, a service's paths and SupervisedService under its SmtpService", () => {
    expect(run.get("Fleet fleet").parent).toBeUndefined();
    expect(run.get("Host mx1").parent).toBe("Fleet fleet");
    expect(run.get("Host mx2").parent).toBe("Fleet fleet");
    for (const host of ["mx1", "mx2"])
      for (const service of ["smtpd", "submission"]) {
        const owner = `SmtpService ${host}:${service}`;
        expect(run.get(owner).parent).toBe(`Host ${host}`);
        expect(run.get(`SupervisedService ${host}:${service}`).parent).toBe(owner);
        for (const path of [`${SUP}/${service}`, `${SUP}/${service}/log`, `${SUP}/${service}/log/main`, `${SUP}/${service}/run`, `${SUP}/${service}/log/run`])
          expect(run.get(`RemotePath ${host}:${path}`).parent).toBe(owner);
      }
  });

  it("puts paths outside every service directory under the Host", () => {
    for (const path of ["/var/qmail/control", "/var/qmail/control/validrcptto.cdb", "/var/qmail/control/servercert.key"])
      expect(run.get(`RemotePath mx1:${path}`).parent).toBe("Host mx1");
  });

  it("makes each file and directory depend on its parent directory's resource", () => {
    const dependsOn = (path: string) => run.get(`RemotePath mx2:${path}`).dependsOn;
    expect(dependsOn(`${SUP}/smtpd`)).toEqual([]);
    expect(dependsOn(`${SUP}/smtpd/log`)).toEqual([`RemotePath mx2:${SUP}/smtpd`]);
    expect(dependsOn(`${SUP}/smtpd/log/main`)).toEqual([`RemotePath mx2:${SUP}/smtpd/log`]);
    expect(dependsOn(`${SUP}/smtpd/run`)).toEqual([`RemotePath mx2:${SUP}/smtpd`]);
    expect(dependsOn(`${SUP}/smtpd/log/run`)).toEqual([`RemotePath mx2:${SUP}/smtpd/log`]);
  });

  it("makes a SupervisedService depend on all of its service's paths and the host's shared paths, and on no other service's", () => {
    const own = (host: string, service: string) =>
      [`${SUP}/${service}`, `${SUP}/${service}/log`, `${SUP}/${service}/log/main`, `${SUP}/${service}/run`, `${SUP}/${service}/log/run`].map(
        (p) => `RemotePath ${host}:${p}`,
      );
    const shared = ["/var/qmail/control", "/var/qmail/control/validrcptto.cdb", "/var/qmail/control/servercert.key"].map(
      (p) => `RemotePath mx1:${p}`,
    );
    expect([...run.get("SupervisedService mx1:smtpd").dependsOn].sort()).toEqual([...own("mx1", "smtpd"), ...shared].sort());
    expect([...run.get("SupervisedService mx1:submission").dependsOn].sort()).toEqual([...own("mx1", "submission"), ...shared].sort());
    expect([...run.get("SupervisedService mx2:smtpd").dependsOn].sort()).toEqual(own("mx2", "smtpd").sort());
  });

  it("passes each service's name, directories and listening address to its SupervisedService", () => {
    expect(run.get("SupervisedService mx2:submission").inputs).toMatchObject({
      name: "submission",
      dir: `${SUP}/submission`,
      link: "/service/submission",
      listen: { ip: "192.0.2.20", port: 587 },
      checkBanner: true,
    });
  });
});

describe("Fleet rollout", () => {
  it("in parallel: no host waits for another", async () => {
    const run = await registerFleet(twoHostPlan(), { rollout: "parallel" });
    for (const r of run.resources.filter((r) => r.name.startsWith("mx2:")))
      expect(r.dependsOn.filter((d) => d.includes(" mx1:"))).toEqual([]);
  });

  it("sequentially: mx2's services wait for mx1's services", async () => {
    const run = await registerFleet(twoHostPlan(), { rollout: "sequential" });
    const mx1Services = ["SupervisedService mx1:smtpd", "SupervisedService mx1:submission"];
    expect(run.get("SupervisedService mx2:smtpd").dependsOn).toEqual(expect.arrayContaining(mx1Services));
    expect(run.get("SupervisedService mx2:submission").dependsOn).toEqual(expect.arrayContaining(mx1Services));
    // Nothing of mx2 is written before mx1's services are up: not its run scripts either.
    for (const r of run.resources.filter((r) => r.type === TYPES.remotePath && r.name.startsWith("mx2:")))
      expect(r.dependsOn).toEqual(expect.arrayContaining(mx1Services));
    for (const r of run.resources.filter((r) => r.name.startsWith("mx1:")))
      expect(r.dependsOn.filter((d) => d.includes(" mx2:"))).toEqual([]);
  });
});
