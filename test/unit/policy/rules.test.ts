// Every house rule with a host (or fleet) that passes it and one that breaks
// it; the clean host passes them all, so each failure is the rule's own.
import { describe, expect, it } from "vitest";
import { checkAll, checkFleet, checkHost, enforcementOf, fleetOfPlan, hostKeyProblem, type PolicyFleet, type PolicyHost } from "../../../lib/policy/rules";
import { HOST_KEY } from "../schema/fixtures";

const CERT = "/var/qmail/control/servercert.pem";
const AUTH = "/var/qmail/control/auth.cdb";
const RCPT = "/var/qmail/control/validrcptto.cdb";
const RULES = "/etc/tcp.smtp.cdb";

const file = (kind: "secret" | "cdb" | "script", secret: boolean, mode = "0640", owner = "root", group = "nofiles") => ({
  owner,
  group,
  mode,
  sha256: "0".repeat(64),
  size: 1,
  kind,
  secret,
  restarts: [],
});

/** An MX and a submission service, as the program plans them for a careful fleet. */
function cleanHost(name = "mx1"): PolicyHost {
  return {
    host: name,
    connection: { address: "192.0.2.10", port: 22, user: "root", hostKey: HOST_KEY, sudo: false },
    files: {
      [CERT]: file("secret", true),
      [AUTH]: file("cdb", true),
      [RCPT]: file("cdb", false, "0644"),
      [RULES]: file("cdb", false, "0644", "root", "root"),
    },
    services: {
      smtpd: {
        dir: "/var/qmail/supervise/smtpd",
        link: "/service/smtpd",
        listen: { ip: "0", port: 25 },
        checkBanner: true,
        status: "up",
        traits: { requiresAuth: false, tls: "offered", certificateFile: CERT, validRcptToCdb: RCPT, accessRules: RULES, relaysEveryClient: false },
      },
      submission: {
        dir: "/var/qmail/supervise/submission",
        link: "/service/submission",
        listen: { ip: "0", port: 587 },
        checkBanner: true,
        status: "up",
        traits: { requiresAuth: true, tls: "required", certificateFile: CERT, authCdb: AUTH },
      },
    },
  };
}

/** A copy of the clean host changed by `change`. */
function hostWith(change: (host: PolicyHost) => void): PolicyHost {
  const host = structuredClone(cleanHost());
  change(host);
  return host;
}

const rulesOf = (host: PolicyHost) => checkHost(host).map((r) => r.rule);

describe("the clean host", () => {
  it("passes every rule", () => {
    expect(checkHost(cleanHost())).toEqual([]);
  });
});

describe("ssl-key-file-permissions", () => {
  it("passes root:nofiles 0640", () => {
    expect(rulesOf(cleanHost())).not.toContain("ssl-key-file-permissions");
  });

  it("fails a key file readable by others, owned by another user or of another group, naming each", () => {
    const [result] = checkHost(hostWith((h) => (h.files[CERT] = file("secret", true, "0644", "qmaild", "qmail"))));
    expect(result).toMatchObject({ rule: "ssl-key-file-permissions", enforcement: "mandatory", host: "mx1" });
    expect(result.message).toContain(`host mx1: the SSL key file ${CERT} has owner qmaild (must be root), group qmail (must be nofiles), mode 0644 (must be 0640)`);
  });

  it("takes the group from the policy config", () => {
    const host = hostWith((h) => (h.files[CERT].group = "smtpd"));
    expect(checkHost(host, { sslKeyGroup: "smtpd" })).toEqual([]);
    expect(checkHost(cleanHost(), { sslKeyGroup: "smtpd" }).map((r) => r.rule)).toEqual(["ssl-key-file-permissions"]);
  });
});

describe("auth-cdb-not-world-readable", () => {
  it("passes 0640", () => {
    expect(rulesOf(cleanHost())).not.toContain("auth-cdb-not-world-readable");
  });

  it("fails 0644, naming the file and mode", () => {
    const results = checkHost(hostWith((h) => (h.files[AUTH].mode = "0644")));
    expect(results.map((r) => r.rule)).toEqual(["auth-cdb-not-world-readable"]);
    expect(results[0].message).toContain(`host mx1: auth.cdb ${AUTH} has mode 0644`);
  });
});

describe("no-open-relay-on-mx", () => {
  it("passes rules that give RELAYCLIENT to no one by default, and a relaying service on loopback", () => {
    expect(rulesOf(cleanHost())).not.toContain("no-open-relay-on-mx");
    const local = hostWith((h) => {
      h.services.smtpd.listen.ip = "127.0.0.1";
      h.services.smtpd.traits!.relaysEveryClient = true;
    });
    expect(rulesOf(local)).not.toContain("no-open-relay-on-mx");
  });

  it("fails an MX whose default rule sets RELAYCLIENT, naming host, service and rules", () => {
    const results = checkHost(hostWith((h) => (h.services.smtpd.traits!.relaysEveryClient = true)));
    expect(results.map((r) => r.rule)).toEqual(["no-open-relay-on-mx"]);
    expect(results[0].message).toContain(`host mx1: service smtpd (port 25 on 0) is an open relay: a rule of the tcprules at ${RULES} that matches every client (address "", "=" while tcpserver looks up host names, or one for each first octet such as 0-255.) sets RELAYCLIENT`);
    expect(results[0].message).toContain("acknowledging the hazard in the config does not lift this house rule");
  });
});

describe("submission-requires-auth-and-tls", () => {
  it("passes AUTH required with forced STARTTLS, and with SSL wrapping on 465", () => {
    expect(rulesOf(cleanHost())).not.toContain("submission-requires-auth-and-tls");
    const smtps = hostWith((h) => {
      h.services.submission.listen.port = 465;
      h.services.submission.traits!.tls = "wrapped";
    });
    expect(checkHost(smtps)).toEqual([]);
  });

  it("fails a submission service without AUTH required and with TLS only offered, saying what to set", () => {
    const results = checkHost(hostWith((h) => Object.assign(h.services.submission.traits!, { requiresAuth: false, tls: "offered" })));
    expect(results.map((r) => r.rule)).toEqual(["submission-requires-auth-and-tls"]);
    expect(results[0].message).toContain("host mx1: submission service submission (port 587 on 0) must require AUTH (set auth.require: true) and TLS (set forceTls: true");
  });
});

describe("host-key-pinned", () => {
  it("passes a well-formed ed25519 key line", () => {
    expect(hostKeyProblem(HOST_KEY)).toBeUndefined();
  });

  it("fails an empty key, a key without type, and a blob of another type", () => {
    expect(checkHost(hostWith((h) => (h.connection.hostKey = "")))).toMatchObject([
      { rule: "host-key-pinned", message: expect.stringContaining("host mx1: no host key is pinned") },
    ]);
    expect(hostKeyProblem("AAAAC3NzaC1lZDI1NTE5")).toMatch(/does not start with a key type/);
    expect(hostKeyProblem(`ssh-rsa ${HOST_KEY.split(" ")[1]}`)).toBe("connection.hostKey's key is not a ssh-rsa key");
  });
});

describe("validrcptto-on-mx", () => {
  it("passes an MX that reads validrcptto.cdb, and a submission service without one", () => {
    expect(rulesOf(cleanHost())).not.toContain("validrcptto-on-mx");
  });

  it("fails an MX without it, as advisory by default", () => {
    const results = checkHost(hostWith((h) => delete h.services.smtpd.traits!.validRcptToCdb));
    expect(results).toMatchObject([{ rule: "validrcptto-on-mx", enforcement: "advisory", host: "mx1" }]);
    expect(results[0].message).toContain("host mx1: MX service smtpd (port 25 on 0) accepts mail for any recipient");
  });
});

describe("rollout-in-batches", () => {
  const hosts = (count: number) => Array.from({ length: count }, (_, i) => cleanHost(`mx${i + 1}`));

  it("passes a small fleet all at once, and a large one in batches no larger than maxBatchHosts", () => {
    expect(checkFleet(fleetOfPlan(hosts(3), { canary: 0, batchSize: { percent: 100 } }), { maxBatchHosts: 3 })).toEqual([]);
    expect(checkFleet(fleetOfPlan(hosts(4), { canary: 1, batchSize: 2 }), { maxBatchHosts: 3 })).toEqual([]);
  });

  it("fails a fleet over maxBatchHosts rolled out at once, or with a batch too large", () => {
    const [atOnce] = checkFleet(fleetOfPlan(hosts(4), { canary: 0, batchSize: { percent: 100 } }, "prod"), { maxBatchHosts: 3 });
    expect(atOnce).toMatchObject({ rule: "rollout-in-batches", enforcement: "mandatory" });
    expect(atOnce.host).toBeUndefined();
    expect(atOnce.message).toContain("fleet prod: its 4 hosts would change all at once, more than 3 at once");
    const [large] = checkFleet(fleetOfPlan(hosts(12), { canary: 1, batchSize: { percent: 100 } }));
    expect(large.message).toContain("the fleet: its 12 hosts would change in a batch of 11 (mx2, mx3, mx4, ...), more than 10 at once");
  });
});

describe("enforcement levels", () => {
  const broken = hostWith((h) => (h.services.smtpd.traits!.relaysEveryClient = true));

  it("a rule set advisory reports as advisory, one disabled reports nothing", () => {
    expect(checkHost(broken, { enforcement: { "no-open-relay-on-mx": "advisory" } })).toMatchObject([{ enforcement: "advisory" }]);
    expect(checkHost(broken, { enforcement: { "no-open-relay-on-mx": "disabled" } })).toEqual([]);
    expect(enforcementOf("validrcptto-on-mx")).toBe("advisory");
  });

  it("checkAll reports each host's results, then the fleet's", () => {
    const fleet: PolicyFleet = { hosts: [cleanHost("a"), broken, cleanHost("c"), cleanHost("d")], batches: [["a", "mx1", "c", "d"]] };
    expect(checkAll(fleet, { maxBatchHosts: 3 }).map((r) => `${r.host ?? "fleet"} ${r.rule}`)).toEqual(["mx1 no-open-relay-on-mx", "fleet rollout-in-batches"]);
  });
});
