// The resource graph a Fleet registers: one qmail provider holding the SSH key,
// a Mailhub per host, and under each one HostConfiguration carrying the
// host's directories, files and services as hashes, never bytes.
import { existsSync, readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { buildFilePath } from "../../provider/build-files";
import { describeBatches } from "../../components/fleet";
import { configWithSharedFiles, HOST_KEY, hostsConfig, isSecret, plain, planOf, registerFleet, sslPair, TYPES, twoHostConfig, type FleetRun } from "./mock-fleet";

const SUP = "/var/qmail/supervise";

describe("Fleet resource graph (two hosts, two services each)", () => {
  let run: FleetRun;
  const pair = sslPair();
  beforeAll(async () => {
    run = await registerFleet(configWithSharedFiles(pair));
  });

  it("registers one Fleet, one qmail provider, and a Mailhub with one HostConfiguration per host", () => {
    expect(run.ofType(TYPES.fleet).map((r) => r.name)).toEqual(["fleet"]);
    expect(run.ofType(TYPES.provider).map((r) => r.name)).toEqual(["fleet"]);
    expect(run.ofType(TYPES.mailhub).map((r) => r.name)).toEqual(["mx1", "mx2"]);
    expect(run.ofType(TYPES.hostConfiguration).map((r) => r.name)).toEqual(["mx1", "mx2"]);
    // Two resources per host: every resource costs the engine a step on each run and refresh.
    expect(run.resources.map((r) => r.type).sort()).toEqual(
      [TYPES.fleet, TYPES.provider, TYPES.mailhub, TYPES.mailhub, TYPES.hostConfiguration, TYPES.hostConfiguration].sort(),
    );
  });

  it("puts each host's services and the shared files its services read into its one HostConfiguration", () => {
    const children = (parent: string) => run.resources.filter((r) => r.parent === parent).map((r) => r.key).sort();
    expect(children("Mailhub mx1")).toEqual(["HostConfiguration mx1"]);
    expect(children("Mailhub mx2")).toEqual(["HostConfiguration mx2"]);
    const keysOf = (host: string, field: "services" | "files") => Object.keys(run.get(`HostConfiguration ${host}`).inputs[field] as object);
    expect(keysOf("mx1", "services").sort()).toEqual(["smtpd", "submission"]);
    expect(keysOf("mx1", "files").filter((path) => !path.includes("/supervise/")).sort()).toEqual(["/var/qmail/control/servercert.pem", "/var/qmail/control/validrcptto.cdb"]);
    expect(keysOf("mx2", "services").sort()).toEqual(["smtpd", "submission"]);
    expect(keysOf("mx2", "files").filter((path) => !path.includes("/supervise/"))).toEqual([]);
  });

  it("nests Mailhub and the provider under Fleet, each HostConfiguration under its Mailhub", () => {
    expect(run.get("Fleet fleet").parent).toBeUndefined();
    expect(run.get("qmail fleet").parent).toBe("Fleet fleet");
    for (const host of ["mx1", "mx2"]) {
      expect(run.get(`Mailhub ${host}`).parent).toBe("Fleet fleet");
      expect(run.get(`HostConfiguration ${host}`).parent).toBe(`Mailhub ${host}`);
    }
  });

  it("gives each HostConfiguration the host's connection, without any private key", () => {
    const inputs = run.get("HostConfiguration mx2").inputs;
    expect(inputs.host).toBe("mx2");
    expect(inputs.connection).toEqual({ address: "192.0.2.20", port: 22, user: "root", hostKey: HOST_KEY, sudo: false });
    expect(JSON.stringify(inputs)).not.toContain("mock-client-key");
  });

  it("lists every planned directory, file and service by path or name", () => {
    const plan = planOf(configWithSharedFiles(pair));
    for (const host of plan.hosts) {
      const inputs = run.get(`HostConfiguration ${host.name}`).inputs;
      expect(Object.keys(inputs.directories as object).sort()).toEqual(host.directories.map((d) => d.path).sort());
      expect(Object.keys(inputs.files as object).sort()).toEqual(host.files.map((f) => f.path).sort());
      expect(Object.keys(inputs.services as object).sort()).toEqual(host.services.map((s) => s.name).sort());
    }
    const mx1 = run.get("HostConfiguration mx1").inputs as Record<string, Record<string, Record<string, unknown>>>;
    expect(mx1.directories[`${SUP}/smtpd/log/main`]).toEqual({ owner: "qmaill", group: "nofiles", mode: "0750" });
    expect(mx1.services.submission).toEqual({
      dir: `${SUP}/submission`,
      link: "/service/submission",
      listen: { ip: "192.0.2.10", port: 587 },
      checkBanner: true,
      status: "up",
      traits: expect.objectContaining({ requiresAuth: true, tls: "required" }),
    });
  });

  it("keeps a script's text (for diffs) and what it restarts", () => {
    const files = run.get("HostConfiguration mx1").inputs.files as Record<string, Record<string, unknown>>;
    const script = files[`${SUP}/smtpd/run`];
    expect(script).toMatchObject({ owner: "root", group: "root", mode: "0755", kind: "script", secret: false });
    expect(script.text).toMatch(/^#!\/bin\/sh/);
    expect(script.size).toBe(Buffer.byteLength(script.text as string));
    expect(script.restarts).toEqual([{ service: "smtpd", part: "service" }]);
    expect(files[`${SUP}/smtpd/log/run`].restarts).toEqual([{ service: "smtpd", part: "log" }]);
  });

  it("hands a cdb over through the build directory: its inputs hold the sha256, never the bytes", () => {
    const cdb = (run.get("HostConfiguration mx1").inputs.files as Record<string, Record<string, unknown>>)["/var/qmail/control/validrcptto.cdb"];
    const planned = planOf(configWithSharedFiles(pair)).hosts[0].files.find((f) => f.path === "/var/qmail/control/validrcptto.cdb")!;
    expect(cdb).toMatchObject({ kind: "cdb", size: planned.content.length, restarts: [], summary: "validrcptto.cdb: 1 address" });
    expect(cdb.text).toBeUndefined();
    expect(cdb.sha256).toMatch(/^[0-9a-f]{64}$/);
    const built = buildFilePath(cdb.sha256 as string);
    expect(existsSync(built)).toBe(true);
    expect(readFileSync(built)).toEqual(planned.content);
  });

  it("hands a secret file over as a secret input, by sha256, and writes no build file for it", () => {
    const inputs = run.get("HostConfiguration mx1").inputs;
    const key = (inputs.files as Record<string, Record<string, unknown>>)["/var/qmail/control/servercert.pem"];
    expect(key).toMatchObject({ kind: "secret", secret: true });
    expect(isSecret(inputs.secretContents)).toBe(true);
    const contents = plain(inputs.secretContents) as Record<string, string>;
    expect(Object.keys(contents)).toEqual([key.sha256]);
    expect(Buffer.from(contents[key.sha256 as string], "base64").toString()).toBe(`${pair.key}${pair.certificate}`);
    expect(existsSync(buildFilePath(key.sha256 as string))).toBe(false);
    // mx2 has no secret file, so no secret contents.
    expect(run.get("HostConfiguration mx2").inputs.secretContents).toBeUndefined();
  });
});

describe("the qmail provider", () => {
  it("holds the SSH private key once, as a secret", async () => {
    const run = await registerFleet(twoHostConfig());
    const provider = run.get("qmail fleet").inputs;
    expect(isSecret(provider.privateKey)).toBe(true);
    expect(plain(provider.privateKey)).toContain("mock-client-key");
    const holders = run.resources.filter((r) => JSON.stringify(plain(r.inputs.privateKey) ?? "").includes("mock-client-key"));
    expect(holders.map((r) => r.key)).toEqual(["qmail fleet"]);
  });

  it("without a private key (ssh-agent) holds none", async () => {
    const run = await registerFleet(twoHostConfig(), {});
    expect(run.get("qmail fleet").inputs.privateKey).toBeUndefined();
  });
});

describe("Fleet rollout", () => {
  const configurations = (run: FleetRun) =>
    Object.fromEntries(run.ofType(TYPES.hostConfiguration).map((r) => [r.name, [...r.dependsOn].sort()]));

  it("in parallel: one batch, no host waits for another, and a failure fails the run without stopping the others", async () => {
    const run = await registerFleet(hostsConfig(3, "parallel"));
    expect(configurations(run)).toEqual({ mx1: [], mx2: [], mx3: [] });
    expect(run.get("HostConfiguration mx2").inputs.rollout).toEqual({ settleSeconds: 2, healthTimeoutSeconds: 60, maxFailures: 3 });
  });

  it("sequentially: each host's configuration waits for the previous host's, no failure tolerated", async () => {
    const run = await registerFleet(hostsConfig(3, "sequential"));
    expect(configurations(run)).toEqual({ mx1: [], mx2: ["HostConfiguration mx1"], mx3: ["HostConfiguration mx2"] });
    expect(run.get("HostConfiguration mx3").inputs.rollout).toEqual({ settleSeconds: 2, healthTimeoutSeconds: 60, maxFailures: 0 });
    expect(run.get("HostConfiguration mx2").inputs.rollout).toMatchObject({ laterHostsWait: true });
  });

  it("canary 1, batches of 2: the canary alone, then each batch waits for every host of the batch before", async () => {
    const run = await registerFleet(hostsConfig(6, { canary: 1, batchSize: 2, maxFailures: 1, settleSeconds: 5 }));
    expect(configurations(run)).toEqual({
      mx1: [],
      mx2: ["HostConfiguration mx1"],
      mx3: ["HostConfiguration mx1"],
      mx4: ["HostConfiguration mx2", "HostConfiguration mx3"],
      mx5: ["HostConfiguration mx2", "HostConfiguration mx3"],
      mx6: ["HostConfiguration mx4", "HostConfiguration mx5"],
    });
    expect(run.get("HostConfiguration mx6").inputs.rollout).toEqual({ settleSeconds: 5, healthTimeoutSeconds: 60, maxFailures: 1 });
    // A failure within maxFailures is a warning only where a later batch waits on the host.
    for (const host of ["mx1", "mx2", "mx3", "mx4", "mx5"]) expect(run.get(`HostConfiguration ${host}`).inputs.rollout).toMatchObject({ laterHostsWait: true });
  });

  it("batches of a percentage: 25% of 5 hosts is 2 per batch, rounded up", async () => {
    const run = await registerFleet(hostsConfig(5, { batchSize: "25%" }));
    expect(configurations(run)).toEqual({
      mx1: [],
      mx2: [],
      mx3: ["HostConfiguration mx1", "HostConfiguration mx2"],
      mx4: ["HostConfiguration mx1", "HostConfiguration mx2"],
      mx5: ["HostConfiguration mx3", "HostConfiguration mx4"],
    });
  });

  it("says the batches when there is more than one", () => {
    expect(describeBatches([["mx1"], ["mx2", "mx3"], ["mx4"]], true)).toBe("rollout: canary mx1; batch 2: mx2, mx3; batch 3: mx4");
    expect(describeBatches([["mx1", "mx2"], ["mx3"]], false)).toBe("rollout: batch 1: mx1, mx2; batch 2: mx3");
  });
});
