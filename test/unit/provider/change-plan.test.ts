// What an update decides to do on a host, from one inspection: which files are
// staged, what goes away, and which service or log restarts.
import { describe, expect, it } from "vitest";
import { planChanges, serviceStatus } from "../../../provider/change-plan";
import { factsNeeded } from "../../../provider/run-script-comparison";
import type { Observation, ObservedFile, ObservedService } from "../../../provider/host-operations";
import type { FileSpec, HostConfigurationArgs, HostConfigurationState } from "../../../provider/types";

const SUP = "/var/qmail/supervise";
const sha = (c: string) => c.repeat(64);

function file(content: string, restarts: FileSpec["restarts"] = []): FileSpec {
  return { owner: "root", group: "root", mode: "0755", sha256: sha(content), size: 10, kind: "script", secret: false, restarts };
}

function desired(): HostConfigurationArgs {
  return {
    host: "mx1",
    connection: { address: "192.0.2.10", port: 22, user: "root", hostKey: "ssh-ed25519 AAAA", sudo: false },
    directories: { [`${SUP}/smtpd`]: { owner: "root", group: "root", mode: "0755" }, [`${SUP}/smtpd/log/main`]: { owner: "qmaill", group: "nofiles", mode: "0750" } },
    files: {
      [`${SUP}/smtpd/run`]: file("a", [{ service: "smtpd", part: "service" }]),
      [`${SUP}/smtpd/log/run`]: file("b", [{ service: "smtpd", part: "log" }]),
      "/var/qmail/control/validrcptto.cdb": { ...file("c"), kind: "cdb", mode: "0644" },
    },
    services: { smtpd: { dir: `${SUP}/smtpd`, link: "/service/smtpd", listen: { ip: "192.0.2.10", port: 25 }, checkBanner: true, status: "up" } },
  };
}

const asState = (args: HostConfigurationArgs): HostConfigurationState => ({ ...args, banners: { smtpd: "220 mx1 ESMTP" } });

const running = (startedAt = 1000): ObservedService => ({
  linkTarget: `${SUP}/smtpd`,
  service: { supervised: true, up: true, startedAt },
  log: { supervised: true, up: true, startedAt },
  downFile: false,
  runMtime: startedAt - 10,
  logRunMtime: startedAt - 10,
  logMainPresent: true,
});

/** The host exactly as `args` declares it, then `change` applied. */
function hostAs(args: HostConfigurationArgs, change: (o: Observation) => void = () => undefined): Observation {
  const files = new Map<string, ObservedFile>(
    Object.entries(args.files).map(([path, s]) => [path, { present: true, regular: true, owner: s.owner, group: s.group, mode: s.mode, sha256: s.sha256, size: s.size, leftover: false }]),
  );
  const directories = new Map(Object.entries(args.directories).map(([path, d]) => [path, { present: true, directory: true, ...d }]));
  const observation: Observation = { files, directories, services: new Map([["smtpd", running()]]) };
  change(observation);
  return observation;
}

const restarts = (plan: ReturnType<typeof planChanges>) =>
  plan.services.flatMap((s) => [...(s.restartService ? [`${s.name}`] : []), ...(s.restartLog ? [`${s.name}/log`] : [])]);

describe("planChanges", () => {
  it("does nothing on a host that matches", () => {
    const plan = planChanges("mx1", asState(desired()), desired(), hostAs(desired()));
    expect(plan).toMatchObject({ leftovers: [], directories: [], writes: [], removedFiles: [], teardowns: [], removedDirectories: [] });
    expect(plan.services).toEqual([{ name: "smtpd", link: false, bringUp: false, restartService: false, restartLog: false, checkHealth: false, takenOver: false }]);
  });

  it("a new run script restarts the service, not its log", () => {
    const next = desired();
    next.files[`${SUP}/smtpd/run`] = file("d", [{ service: "smtpd", part: "service" }]);
    const plan = planChanges("mx1", asState(desired()), next, hostAs(desired()));
    expect(plan.writes).toEqual([`${SUP}/smtpd/run`]);
    expect(restarts(plan)).toEqual(["smtpd"]);
    expect(plan.services[0].checkHealth).toBe(true);
  });

  it("a new log/run restarts only the log", () => {
    const next = desired();
    next.files[`${SUP}/smtpd/log/run`] = file("e", [{ service: "smtpd", part: "log" }]);
    expect(restarts(planChanges("mx1", asState(desired()), next, hostAs(desired())))).toEqual(["smtpd/log"]);
  });

  it("a new cdb (read per connection) is written and restarts nothing", () => {
    const next = desired();
    next.files["/var/qmail/control/validrcptto.cdb"] = { ...file("f"), kind: "cdb", mode: "0644" };
    const plan = planChanges("mx1", asState(desired()), next, hostAs(desired()));
    expect(plan.writes).toEqual(["/var/qmail/control/validrcptto.cdb"]);
    expect(restarts(plan)).toEqual([]);
    expect(plan.services[0].checkHealth).toBe(false);
  });

  it("a hand-edited or re-moded file is written again, whatever the state says", () => {
    const edited = hostAs(desired(), (o) => {
      o.files.get(`${SUP}/smtpd/run`)!.sha256 = sha("9");
      o.files.get("/var/qmail/control/validrcptto.cdb")!.mode = "0666";
    });
    const plan = planChanges("mx1", asState(desired()), desired(), edited);
    expect(plan.writes).toEqual(["/var/qmail/control/validrcptto.cdb", `${SUP}/smtpd/run`]);
    expect(restarts(plan)).toEqual(["smtpd"]);
  });

  it("a service running a run script changed after it started restarts, though the file is already right", () => {
    const stale = hostAs(desired(), (o) => (o.services.get("smtpd")!.runMtime = 1001));
    const plan = planChanges("mx1", asState(desired()), desired(), stale);
    expect(plan.writes).toEqual([]);
    expect(restarts(plan)).toEqual(["smtpd"]);
  });

  it("a down file or a stopped service is brought up; a deleted log/main is made again and the log restarts", () => {
    const down = hostAs(desired(), (o) => (o.services.get("smtpd")!.downFile = true));
    expect(planChanges("mx1", asState(desired()), desired(), down).services[0]).toMatchObject({ bringUp: true, checkHealth: true });
    const noMain = hostAs(desired(), (o) => {
      o.services.get("smtpd")!.logMainPresent = false;
      o.directories.set(`${SUP}/smtpd/log/main`, { present: false });
    });
    const plan = planChanges("mx1", asState(desired()), desired(), noMain);
    expect(plan.directories.map((d) => d.path)).toEqual([`${SUP}/smtpd/log/main`]);
    expect(restarts(plan)).toEqual(["smtpd/log"]);
  });

  it("a new service is linked and starts fresh: no svc -t", () => {
    const host = hostAs(desired(), (o) => o.services.set("smtpd", { ...running(), linkTarget: undefined, service: { supervised: false, up: false }, log: { supervised: false, up: false } }));
    const plan = planChanges("mx1", asState({ ...desired(), services: {} }), desired(), host);
    expect(plan.services[0]).toMatchObject({ link: true, restartService: false, restartLog: false, checkHealth: true });
  });

  it("a service with no state whose run script is already on the host is taken over; one whose directory is empty is new", () => {
    const noState = asState({ ...desired(), services: {}, files: {}, directories: {} });
    expect(planChanges("mx1", noState, desired(), hostAs(desired())).services[0].takenOver).toBe(true);
    const empty = hostAs(desired(), (o) => {
      o.files.set(`${SUP}/smtpd/run`, { present: false, leftover: false });
      o.services.set("smtpd", { ...running(), linkTarget: undefined, service: { supervised: false, up: false }, log: { supervised: false, up: false }, runMtime: undefined });
    });
    expect(planChanges("mx1", noState, desired(), empty).services[0].takenOver).toBe(false);
  });

  it("a service no longer declared is taken down, its files and directories removed; one moved keeps a directory still declared", () => {
    const next = desired();
    next.services = {};
    const gone = planChanges("mx1", asState(desired()), { ...next, files: {}, directories: {} }, hostAs(desired()));
    expect(gone.teardowns).toEqual([{ name: "smtpd", dir: `${SUP}/smtpd`, link: "/service/smtpd", keepDir: false }]);
    expect(gone.removedFiles).toHaveLength(3);
    expect(gone.removedDirectories).toHaveLength(2);

    const relinked = desired();
    relinked.services.smtpd = { ...relinked.services.smtpd, link: "/etc/service/smtpd" };
    const moved = planChanges("mx1", asState(desired()), relinked, hostAs(desired()));
    expect(moved.teardowns).toEqual([{ name: "smtpd", dir: `${SUP}/smtpd`, link: "/service/smtpd", keepDir: true }]);
    expect(moved.services[0]).toMatchObject({ link: true, restartService: false });
  });

  it("names staging files an interrupted run left, to remove them first", () => {
    const host = hostAs(desired(), (o) => (o.files.get("/var/qmail/control/validrcptto.cdb")!.leftover = true));
    expect(planChanges("mx1", asState(desired()), desired(), host).leftovers).toEqual(["/var/qmail/control/validrcptto.cdb"]);
  });

  // A run stopped between switching an SSL-wrapped service's certificate and
  // restarting the service: the host holds the declared bytes, but sslserver
  // still serves what it loaded at start.
  describe("a file the service loads at start, changed after it started", () => {
    const CERT = "/var/qmail/control/servercert.pem";
    const withCertificate = () => {
      const next = desired();
      next.files[CERT] = { ...file("k", [{ service: "smtpd", part: "service" }]), kind: "secret", secret: true, mode: "0640" };
      return next;
    };
    const certificateAt = (mtime: number) => (o: Observation) => (o.files.get(CERT)!.mtime = mtime);

    it("restarts the service, though no file is written", () => {
      const plan = planChanges("mx1", asState(withCertificate()), withCertificate(), hostAs(withCertificate(), certificateAt(1001)));
      expect(plan.writes).toEqual([]);
      expect(restarts(plan)).toEqual(["smtpd"]);
      expect(plan.services[0].checkHealth).toBe(true);
    });

    it("leaves it alone when the file is older than the service's start, or from the same second", () => {
      for (const mtime of [990, 1000]) expect(restarts(planChanges("mx1", asState(withCertificate()), withCertificate(), hostAs(withCertificate(), certificateAt(mtime))))).toEqual([]);
    });

    it("ignores files read per connection (a cdb newer than the service is normal)", () => {
      const host = hostAs(desired(), (o) => (o.files.get("/var/qmail/control/validrcptto.cdb")!.mtime = 5000));
      expect(restarts(planChanges("mx1", asState(desired()), desired(), host))).toEqual([]);
    });
  });

  it("refuses, before touching anything, a path that is a directory where a file belongs", () => {
    const host = hostAs(desired(), (o) => o.files.set(`${SUP}/smtpd/run`, { present: true, regular: false, leftover: false }));
    expect(() => planChanges("host mx1", asState(desired()), desired(), host)).toThrow(/host mx1: \/var\/qmail\/supervise\/smtpd\/run is not a regular file.*Nothing was changed/);
  });
});

describe("serviceStatus", () => {
  const dir = { dir: `${SUP}/smtpd` };
  it.each<[string, Partial<ObservedService>, string]>([
    ["matching", {}, "up"],
    ["link gone", { linkTarget: undefined }, "not linked"],
    ["link elsewhere", { linkTarget: "/tmp/x" }, "not linked"],
    ["no supervise", { service: { supervised: false, up: false } }, "not supervised"],
    ["down file", { downFile: true }, "down file present"],
    ["stopped", { service: { supervised: true, up: false } }, "down"],
    ["log stopped", { log: { supervised: true, up: false } }, "down"],
    ["log/main gone", { logMainPresent: false }, "log directory missing"],
    ["run changed after start", { runMtime: 1001 }, "running an older run script"],
    ["run changed in the second it started", { runMtime: 1000 }, "up"],
    ["log/run changed after the log started", { logRunMtime: 1005 }, "log running an older log/run"],
  ])("%s: %s", (_what, change, status) => {
    expect(serviceStatus(dir, { ...running(), ...change })).toBe(status);
  });

  it("reads a file loaded at start that changed after the start as drift, and one from before as up", () => {
    expect(serviceStatus(dir, running(), 1001)).toBe("started before a file it loads at start changed");
    expect(serviceStatus(dir, running(), 1000)).toBe("up");
    expect(serviceStatus(dir, running(), undefined)).toBe("up");
  });
});

// Taking over a hand-written service: its run and log/run are rewritten in our
// layout, and it restarts only when what it runs changes.
describe("planChanges on a service script whose text differs from the host's", () => {
  const RUN = `${SUP}/smtpd/run`;
  const LOG_RUN = `${SUP}/smtpd/log/run`;
  const declaredRun = [
    "#!/bin/sh",
    "exec 2>&1",
    "QMAILDUID=$(id -u qmaild) || exit 111",
    "NOFILESGID=$(id -g qmaild) || exit 111",
    "LOCAL=$(head -n 1 /var/qmail/control/me) || exit 111",
    'exec tcpserver -v -R -l "$LOCAL" -c 30 -u "$QMAILDUID" -g "$NOFILESGID" 192.0.2.10 25 \\',
    "    /var/qmail/bin/qmail-smtpd",
    "",
  ].join("\n");
  // The same service as an admin wrote it: backquotes, head -1, a start-up check, the port by name.
  const handRun = (concurrency: string, port = "smtp") =>
    [
      "#!/bin/sh",
      "QMAILDUID=`id -u qmaild`",
      "NOFILESGID=`id -g qmaild`",
      "LOCAL=`head -1 /var/qmail/control/me`",
      'if [ -z "$LOCAL" ]; then echo no control/me; exit 1; fi',
      "exec 2>&1",
      `exec tcpserver -v -R -l "$LOCAL" -c ${concurrency} -u "$QMAILDUID" -g "$NOFILESGID" 192.0.2.10 ${port} /var/qmail/bin/qmail-smtpd`,
      "",
    ].join("\n");
  const declaredLogRun = "#!/bin/sh\n# Log script of service 'smtpd'.\nexec setuidgid qmaill multilog t s1000000 n20 ./main\n";
  const handLogRun = (args: string) => `#!/bin/sh\nexec setuidgid qmaill \\\n  multilog ${args}\n`;

  /** Declared scripts with their texts; the host holds `onHost` texts (other bytes) with the same owner and mode. */
  function takeover(onHost: { run?: string; logRun?: string }, facts?: Observation["facts"], change: (o: Observation) => void = () => undefined) {
    const next = desired();
    next.files[RUN] = { ...file("d", [{ service: "smtpd", part: "service" }]), text: declaredRun };
    next.files[LOG_RUN] = { ...file("e", [{ service: "smtpd", part: "log" }]), text: declaredLogRun };
    const host = hostAs(next, (o) => {
      if (onHost.run !== undefined) Object.assign(o.files.get(RUN)!, { sha256: sha("7"), text: onHost.run });
      if (onHost.logRun !== undefined) Object.assign(o.files.get(LOG_RUN)!, { sha256: sha("8"), text: onHost.logRun });
      o.facts = facts;
      change(o);
    });
    return planChanges("mx1", { ...asState(next), files: {}, services: {} }, next, host);
  }

  it("same program, arguments and environment written another way: written, no restart, mtime kept", () => {
    const plan = takeover({ run: handRun("30"), logRun: handLogRun("t s1000000 n20 ./main") });
    expect(plan.writes).toEqual([LOG_RUN, RUN]);
    expect(plan.sameMeaning).toEqual([LOG_RUN, RUN]);
    expect(restarts(plan)).toEqual([]);
    expect(plan.services[0].checkHealth).toBe(false);
  });

  it("other arguments: the service restarts (run) and the log restarts (multilog arguments)", () => {
    const plan = takeover({ run: handRun("20"), logRun: handLogRun("t s99999 n5 ./main") });
    expect(plan.writes).toEqual([LOG_RUN, RUN]);
    expect(plan.sameMeaning).toEqual([]);
    expect(restarts(plan)).toEqual(["smtpd", "smtpd/log"]);
    expect(plan.services[0].checkHealth).toBe(true);
  });

  it("only the log's arguments differ: only the log restarts", () => {
    const plan = takeover({ run: handRun("30"), logRun: handLogRun("t n5 ./main") });
    expect(plan.sameMeaning).toEqual([RUN]);
    expect(restarts(plan)).toEqual(["smtpd/log"]);
  });

  it("a value the script reads on the host is compared as the host's facts give it", () => {
    const reads = handRun('"$MAXSMTPD"').replace("exec 2>&1", "MAXSMTPD=`cat /var/qmail/control/concurrencyincoming`\nexec 2>&1");
    expect(restarts(takeover({ run: reads }))).toEqual(["smtpd"]);
    expect(restarts(takeover({ run: reads }, { files: { "/var/qmail/control/concurrencyincoming": "30\n" } }))).toEqual([]);
    expect(restarts(takeover({ run: reads }, { files: { "/var/qmail/control/concurrencyincoming": "40\n" } }))).toEqual(["smtpd"]);
  });

  it("a script on the host that was not read, or cannot be read, counts as changed", () => {
    expect(restarts(takeover({}, undefined, (o) => (o.files.get(RUN)!.sha256 = sha("7"))))).toEqual(["smtpd"]);
    expect(restarts(takeover({ run: "#!/bin/sh\nexec tcpserver 'unterminated\n" }))).toEqual(["smtpd"]);
  });

  it("the same bytes with another owner or mode: written, no restart", () => {
    const plan = takeover({}, undefined, (o) => (o.files.get(RUN)!.mode = "0700"));
    expect(plan.writes).toEqual([RUN]);
    expect(plan.sameMeaning).toEqual([RUN]);
    expect(restarts(plan)).toEqual([]);
  });

  it("a service already running an older script restarts, even when the new one means the same", () => {
    const plan = takeover({ run: handRun("30") }, undefined, (o) => (o.services.get("smtpd")!.runMtime = 2000));
    expect(plan.sameMeaning).toEqual([RUN]);
    expect(restarts(plan)).toEqual(["smtpd"]);
  });

  it("a file the service reads at start keeps today's rule: a change restarts it", () => {
    const plan = takeover({ run: handRun("30") }, undefined, (o) => (o.files.get("/var/qmail/control/validrcptto.cdb")!.sha256 = sha("9")));
    expect(restarts(plan)).toEqual([]);
    const next = desired();
    next.files["/var/qmail/control/servercert.pem"] = { ...file("k", [{ service: "smtpd", part: "service" }]), kind: "secret", secret: true };
    const host = hostAs(desired(), (o) => o.files.set("/var/qmail/control/servercert.pem", { present: true, regular: true, owner: "root", group: "root", mode: "0755", sha256: sha("j"), size: 10, leftover: false }));
    expect(restarts(planChanges("mx1", asState(desired()), next, host))).toEqual(["smtpd"]);
  });
});

describe("factsNeeded", () => {
  it("names the users, files and envdirs both scripts look up, once each", () => {
    const scripts = [
      { text: "#!/bin/sh\nexec envdir ./env setuidgid qmaild tcpserver -u `id -u qmaild` -l \"$(head -1 control/me)\" 0 25 qmail-smtpd\n", runsIn: "/var/qmail/supervise/smtpd" },
      { text: "#!/bin/sh\ncd /var/qmail\nexec tcpserver -u $(id -u qmaild) -g $(id -g nofiles) -c `cat control/concurrencyincoming` 0 25 qmail-smtpd\n", runsIn: "/var/qmail/supervise/smtpd" },
    ];
    expect(factsNeeded(scripts)).toEqual({
      users: ["nofiles", "qmaild"],
      files: ["/var/qmail/control/concurrencyincoming", "/var/qmail/supervise/smtpd/control/me"],
      envdirs: ["/var/qmail/supervise/smtpd/env"],
    });
  });
});
