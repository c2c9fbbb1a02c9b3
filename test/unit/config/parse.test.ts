import { describe, expect, it } from "vitest";
import { parseFleetConfig } from "../../../lib/config";
import { HOST_KEY, fleetWith, mustFail, mustParse } from "../schema/fixtures";
import { pemBlock } from "../../pem";

const host = (extra: Record<string, unknown> = {}) => ({ name: "mx1", address: "192.0.2.10", ssh: { hostKey: HOST_KEY }, ...extra });

describe("parseFleetConfig: shape and defaults", () => {
  it("fills fleet, host and service defaults", () => {
    const { config } = mustParse(fleetWith([{ name: "smtpd", ip: "0" }]));
    expect(config.ssh).toEqual({ user: "root", port: 22, sudo: false });
    const [h] = config.hosts;
    expect(h).toMatchObject({ qmailDir: "/var/qmail", serviceDir: "/service", superviseDir: "/var/qmail/supervise" });
    expect(h.ssh).toEqual({ address: "192.0.2.10", port: 22, user: "root", sudo: false, hostKey: HOST_KEY });
    const [s] = h.services;
    expect(s).toMatchObject({
      port: 25,
      user: "qmaild",
      maxConnections: 30,
      path: "/var/qmail/bin:/usr/local/bin:/usr/bin:/bin",
      smtpdProgram: "/var/qmail/bin/qmail-smtpd",
      auth: { method: "off", require: false, trueProgram: "/bin/true", set: {}, unset: [] },
      log: { user: "qmaill", maxFileSize: 1000000, maxFiles: 20, timestamps: true },
    });
    expect(s.rblsmtpd).toBeUndefined();
    expect(s.validRcptTo.limit).toBeUndefined(); // qmail-smtpd's own default (10) applies: nothing exported
  });

  it("derives program paths from the host's qmailDir", () => {
    const { config } = mustParse(fleetWith([{ name: "smtpd", ip: "0", simscan: {}, port: 25 }], { qmailDir: "/opt/qmail" }));
    const [s] = config.hosts[0].services;
    expect(s.smtpdProgram).toBe("/opt/qmail/bin/qmail-smtpd");
    expect(s.simscan?.program).toBe("/opt/qmail/bin/simscan");
    expect(config.hosts[0].superviseDir).toBe("/opt/qmail/supervise");
  });

  it("host ssh settings override the fleet's", () => {
    const { config } = mustParse({
      ssh: { user: "deploy", port: 2200, sudo: true },
      hosts: [host({ ssh: { hostKey: HOST_KEY, port: 22 } }), host({ name: "mx2", address: "192.0.2.11", ssh: { hostKey: HOST_KEY, user: "root", sudo: false } })],
    });
    expect(config.hosts.map((h) => h.ssh)).toEqual([
      { address: "192.0.2.10", port: 22, user: "deploy", sudo: true, hostKey: HOST_KEY },
      { address: "192.0.2.11", port: 2200, user: "root", sudo: false, hostKey: HOST_KEY },
    ]);
  });

  it("accepts the shared-file keys and rollout, and secrets as {secure}", () => {
    const raw = {
      ...fleetWith([{ name: "smtpd", ip: "0" }]),
      authUsers: [{ user: "a@example.com", password: { secure: "v1:pw" } }],
      validRcptTo: { addresses: ["@example.com"] },
      tcpRules: {},
      sslKey: { secure: "v1:abc" },
      sslCertificate: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
      rollout: { canary: 1 },
      saltSecret: { secure: "v1:salt" },
      sshPrivateKey: pemBlock("OPENSSH PRIVATE KEY", "x"),
    };
    const { config } = mustParse(raw);
    expect(config).toMatchObject({
      authUsers: raw.authUsers,
      validRcptTo: raw.validRcptTo,
      tcpRules: raw.tcpRules,
      sslKey: raw.sslKey,
      rollout: { canary: 1, batchSize: { percent: 100 }, maxFailures: 0, settleSeconds: 2, healthTimeoutSeconds: 60 },
      saltSecret: { secure: "v1:salt" },
      sshPrivateKey: raw.sshPrivateKey,
    });
  });

  it("pins the key without its comment", () => {
    const { config } = mustParse({ hosts: [host({ ssh: { hostKey: `  ${HOST_KEY}   root@mx1 ` } })] });
    expect(config.hosts[0].ssh.hostKey).toBe(HOST_KEY);
  });

  it("a host key can come from knownHostsFile instead", () => {
    const { config } = mustParse({ hosts: [host({ ssh: { knownHostsFile: "/etc/ssh/ssh_known_hosts" } })] });
    expect(config.hosts[0].ssh.knownHostsFile).toBe("/etc/ssh/ssh_known_hosts");
    expect(config.hosts[0].ssh.hostKey).toBeUndefined();
  });
});

describe("parseFleetConfig: presets and host overrides", () => {
  it("applies presets under the service's own fields", () => {
    const { config } = mustParse(
      fleetWith([
        { name: "mx", preset: "mx", ip: "0" },
        { name: "submission", preset: "submission", ip: "192.0.2.10", certificateFile: "/c.pem", auth: { method: "cdb", cdbFile: "/a.cdb" } },
        { name: "smtps", preset: "smtps", ip: "192.0.2.10", port: 10465, certificateFile: "/c.pem", auth: { method: "checkpassword", checkpasswordProgram: "/bin/ck" } },
      ]),
    );
    const [mx, submission, smtps] = config.hosts[0].services;
    expect(mx).toMatchObject({ port: 25, ssl: false, forceTls: false, auth: { require: false } });
    expect(submission).toMatchObject({ port: 587, forceTls: true, auth: { require: true, method: "cdb" } });
    expect(smtps).toMatchObject({ port: 10465, ssl: true, auth: { require: true, method: "checkpassword" } });
  });

  it("merges host entries over fleet services field by field; other names are added", () => {
    const { config } = mustParse({
      services: [{ name: "smtpd", ip: "0", maxConnections: 50, rblsmtpd: { blockLists: ["zen.spamhaus.org"], timeout: 10 } }],
      hosts: [
        host({ services: [{ name: "smtpd", maxConnections: 20, rblsmtpd: { timeout: 30 } }, { name: "local", ip: "127.0.0.1", port: 2525 }] }),
        host({ name: "mx2", address: "192.0.2.11" }),
      ],
    });
    const [mx1, mx2] = config.hosts;
    expect(mx1.services.map((s) => s.name)).toEqual(["smtpd", "local"]);
    expect(mx1.services[0]).toMatchObject({ ip: "0", maxConnections: 20, rblsmtpd: { blockLists: ["zen.spamhaus.org"], timeout: 30 } });
    expect(mx2.services[0]).toMatchObject({ maxConnections: 50, rblsmtpd: { timeout: 10 } });
  });

  it("null in a host entry removes an inherited field, enabled: false switches an add-on off", () => {
    const { config } = mustParse({
      services: [{ name: "smtpd", ip: "0", greetDelay: 5, jgreylist: { dir: "/var/qmail/jgreylist" } }],
      hosts: [host({ services: [{ name: "smtpd", greetDelay: null, jgreylist: { enabled: false } }] })],
    });
    const [s] = config.hosts[0].services;
    expect(s.greetDelay).toBeUndefined();
    expect(s.jgreylist?.enabled).toBe(false);
  });

  it("blames the entry that set the field", () => {
    const errors = mustFail({
      services: [{ name: "smtpd", ip: "0", port: 0 }],
      hosts: [host({ services: [{ name: "smtpd", greetDelay: 999 }] }), host({ name: "mx2", address: "192.0.2.11" })],
    });
    expect(errors).toContain("services[0].port: the port must be between 1 and 65535");
    expect(errors).toContain("hosts[0].services[0].greetDelay: greetDelay must be between 0 and 300");
    // the fleet service's error is reported once, not once per host
    expect(errors.filter((e) => e.startsWith("services[0].port"))).toHaveLength(1);
  });
});

describe("parseFleetConfig: collisions", () => {
  it("lets services share an address on different ports and a port on different addresses", () => {
    mustParse(
      fleetWith([
        { name: "a", ip: "192.0.2.10", port: 25 },
        { name: "b", ip: "192.0.2.10", port: 2525 },
        { name: "c", ip: "127.0.0.1", port: 25 },
      ]),
    );
  });

  it("refuses 0.0.0.0 like 0, and compares IPv6 addresses after normalizing them", () => {
    const errors = mustFail(fleetWith([{ name: "a", ip: "0.0.0.0" }, { name: "b", ip: "127.0.0.1" }]));
    expect(errors.join("\n")).toContain("collide (ip 0.0.0.0 takes the port on every address)");
    const v6 = mustFail(fleetWith([{ name: "a", ip: "2001:db8::1" }, { name: "b", ip: "2001:DB8:0:0:0:0:0:0001" }]));
    expect(v6.join("\n")).toContain("collide (2001:db8::1 and 2001:DB8:0:0:0:0:0:0001 are one address)");
    const mapped = mustFail(fleetWith([{ name: "a", ip: "192.0.2.10" }, { name: "b", ip: "::ffff:192.0.2.10" }]));
    expect(mapped.join("\n")).toContain("are one address");
    expect(mustFail(fleetWith([{ name: "a", ip: "::" }, { name: "b", ip: "192.0.2.10" }])).join("\n")).toContain("(ip :: takes the port on every address)");
  });

  it("refuses a service on the host's SSH port", () => {
    expect(mustFail(fleetWith([{ name: "a", ip: "192.0.2.10", port: 22 }]))).toEqual([
      "hosts[0].services[0].port: port 22 is the host's SSH port, which sshd holds: tcpserver could not listen and qmail-fleet would lose its way in; choose another port",
    ]);
  });
});

describe("parseFleetConfig: hazards", () => {
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ["REQUIRE_AUTH on public port 25", { auth: { method: "cdb", cdbFile: "/a.cdb", require: true } }, "auth.require: hazard mx-requires-auth"],
    ["insecure AUTH off localhost", { auth: { method: "cdb", cdbFile: "/a.cdb", allowInsecure: true } }, "auth.allowInsecure: hazard cleartext-auth"],
    ["FORCE_TLS on public port 25", { forceTls: true, certificateFile: "/c.pem" }, "forceTls: hazard mx-requires-tls"],
    ["running as root", { user: "root" }, "user: hazard runs-as-root"],
    ["logging as root", { log: { user: "root" } }, "log.user: hazard runs-as-root"],
    ["an AUTH program that accepts anything", { auth: { method: "checkpassword", checkpasswordProgram: "/bin/true" } }, "auth.checkpasswordProgram: hazard any-password"],
    ["recordio with AUTH", { denyTls: true, recordio: {}, auth: { method: "cdb", cdbFile: "/a.cdb", allowInsecure: true } }, "recordio: hazard passwords-in-log"],
  ];

  it.each(cases)("%s is refused unless acknowledged, then a warning", (_what, fields, expected) => {
    const service = { name: "smtpd", ip: "192.0.2.10", ...fields };
    expect(mustFail(fleetWith([service])).join("\n")).toContain(`hosts[0].services[0].${expected}`);
    const id = /hazard ([a-z-]+)/.exec(expected)![1];
    const acknowledged = { ...service, acknowledge: ["cleartext-auth", "passwords-in-log"].includes(id) ? ["cleartext-auth", "passwords-in-log"] : [id] };
    expect(mustParse(fleetWith([acknowledged])).warnings.join("\n")).toContain(`hosts[0].services[0].${expected} (acknowledged)`);
  });

  it("an open relay: the default tcprules rule sets RELAYCLIENT", () => {
    const raw = {
      ...fleetWith([{ name: "smtpd", ip: "0", accessRules: "/etc/tcp.smtp.cdb" }]),
      tcpRules: { "/etc/tcp.smtp.cdb": { rules: [{ address: "", action: "allow", env: { RELAYCLIENT: "" } }] } },
    };
    expect(mustFail(raw)).toEqual([
      'hosts[0].services[0].accessRules: hazard open-relay: the default rule (address "") of the rules at /etc/tcp.smtp.cdb sets RELAYCLIENT, so every client may relay mail anywhere; change it, or accept the risk with acknowledge: [open-relay] on this service',
    ]);
  });

  it('an open relay: the rule "=" (every client with a host name) sets RELAYCLIENT, unless tcpserver looks up no names', () => {
    const rules = [
      { address: "127.", action: "allow", env: { RELAYCLIENT: "" } },
      { address: "=", action: "allow", env: { RELAYCLIENT: "" } },
      { address: "", action: "allow" },
    ];
    const raw = (service: Record<string, unknown>) => ({
      ...fleetWith([{ name: "smtpd", ip: "0", accessRules: "/etc/tcp.smtp.cdb", ...service }]),
      tcpRules: { "/etc/tcp.smtp.cdb": { rules } },
    });
    expect(mustFail(raw({}))).toEqual([
      'hosts[0].services[0].accessRules: hazard open-relay: the rule for every client with a host name (address "=") of the rules at /etc/tcp.smtp.cdb sets RELAYCLIENT, so every client may relay mail anywhere; change it, or accept the risk with acknowledge: [open-relay] on this service',
    ]);
    // tcpserver -H looks no name up: "=" never matches.
    expect(mustParse(raw({ lookupRemoteHost: false })).warnings).toEqual([]);
    // A "=" rule before it that denies or leaves RELAYCLIENT out wins.
    const first = { ...raw({}), tcpRules: { "/etc/tcp.smtp.cdb": { rules: [{ address: "=", action: "allow" }, ...rules] } } };
    expect(mustParse(first).warnings).toEqual([]);
  });

  it("an open relay: a rule for each first octet (0-255.) sets RELAYCLIENT, which every IPv4 client meets before the default", () => {
    const raw = (rules: unknown[]) => ({
      ...fleetWith([{ name: "smtpd", ip: "0", accessRules: "/etc/tcp.smtp.cdb" }]),
      tcpRules: { "/etc/tcp.smtp.cdb": { rules } },
    });
    const relayAll = { address: "0-255.", action: "allow", env: { RELAYCLIENT: "" } };
    expect(mustFail(raw([{ address: "127.", action: "allow", env: { RELAYCLIENT: "" } }, relayAll, { address: "", action: "allow" }]))).toEqual([
      'hosts[0].services[0].accessRules: hazard open-relay: a rule for each first octet (addresses "0." to "255.", e.g. 0-255.) of the rules at /etc/tcp.smtp.cdb sets RELAYCLIENT, so every client may relay mail anywhere; change it, or accept the risk with acknowledge: [open-relay] on this service',
    ]);
    // One first octet left out (or denied first): its clients fall through to the default, which does not relay.
    expect(mustParse(raw([{ ...relayAll, address: "0-254." }, { address: "", action: "allow" }])).warnings).toEqual([]);
    expect(mustParse(raw([{ address: "10.", action: "deny" }, relayAll, { address: "", action: "allow" }])).warnings).toEqual([]);
  });

  it("names an unknown hazard with the nearest one, and warns of an acknowledgement that matches nothing", () => {
    expect(mustFail(fleetWith([{ name: "smtpd", ip: "0", acknowledge: ["root"] }]))[0]).toMatch(/^hosts\[0\]\.services\[0\]\.acknowledge\[0\]: unknown hazard 'root': did you mean 'runs-as-root'\?/);
    expect(mustParse(fleetWith([{ name: "smtpd", ip: "0", acknowledge: ["open-relay"] }])).warnings).toEqual([
      "hosts[0].services[0].acknowledge: acknowledges open-relay, which this service does not have: remove it from acknowledge",
    ]);
  });

  it("none on localhost", () => {
    const local = { name: "local", ip: "127.0.0.1", auth: { method: "cdb", cdbFile: "/a.cdb", require: true, allowInsecure: true } };
    expect(mustParse(fleetWith([local])).warnings).toEqual([]);
  });
});

describe("parseFleetConfig: warnings for what the seed advises against", () => {
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ["more than 100 connections", { maxConnections: 101 }, "maxConnections: more than 100 connections"],
    ["SPFBEHAVIOR over 3", { spf: { behavior: 4 } }, "spf.behavior: SPFBEHAVIOR above 3"],
    ["SIMSCAN_DEBUG_FILES=2", { simscan: { debugFiles: 2 } }, "simscan.debugFiles: SIMSCAN_DEBUG_FILES=2"],
    ["RELAYREJ", { relayReject: true }, "relayReject: RELAYREJ"],
    ["the p0f check left on", { simscan: { noP0fCheck: false } }, "simscan.noP0fCheck: the p0f check is on"],
    ["running as vpopmail", { user: "vpopmail" }, "user: running the SMTP service as vpopmail"],
    ["HELP_VERSION on", { helpVersion: true }, "helpVersion: QMAILSMTPD_HELP_VERSION"],
    ["an IPv6 address", { ip: "2001:db8::25" }, "ip: ip 2001:db8::25 is an IPv6 address: it needs a tcpserver built with IPv6 support"],
    ["AUTH that TLS-refusing services never offer", { denyTls: true, auth: { method: "cdb", cdbFile: "/a.cdb" } }, "auth.method: AUTH is never offered"],
    ["an SSL-wrapped service on port 25", { ssl: true, port: 25, certificateFile: "/c.pem" }, "port: an SSL-wrapped service on port 25"],
  ];

  it.each(cases)("%s", (_what, fields, expected) => {
    const { warnings } = mustParse(fleetWith([{ name: "smtpd", ip: "192.0.2.10", ...fields }]));
    expect(warnings.join("\n")).toContain(`hosts[0].services[0].${expected}`);
  });

  it("gives none for a plain MX", () => {
    expect(mustParse(fleetWith([{ name: "smtpd", preset: "mx", ip: "0" }])).warnings).toEqual([]);
  });

  it("warns of an auth user already expired", () => {
    const raw = {
      ...fleetWith([{ name: "sub", ip: "192.0.2.10", port: 587, auth: { method: "cdb", cdbFile: "/a.cdb" } }]),
      authUsers: [{ user: "old@example.com", hash: "$1$abcdefgh$abcdefghijklmnopqrstuv", expires: "2020-01-01" }],
    };
    expect(mustParse(raw).warnings).toContain("authUsers[0].expires: user 'old@example.com' expired on 2020-01-01: qmail-smtpd refuses the login; remove the entry, or move the date");
  });

  it("warnings never make the result fail", () => {
    const result = parseFleetConfig(fleetWith([{ name: "smtpd", ip: "0", user: "vpopmail", relayReject: true }]));
    expect(result.ok).toBe(true);
  });
});

describe("parseFleetConfig: one message per wrong number", () => {
  it.each([
    [1e20, "maxConnections must be a whole number from 1 to 10000"],
    [7.5, "maxConnections must be a whole number from 1 to 10000"],
    [0, "maxConnections must be between 1 and 10000"],
    [10001, "maxConnections must be between 1 and 10000"],
  ])("maxConnections %s: %s, once", (value, message) => {
    const result = parseFleetConfig(fleetWith([{ name: "smtpd", ip: "0", maxConnections: value }]));
    expect(result.ok).toBe(false);
    const lines = result.ok ? [] : result.errors.filter((e) => e.path.endsWith(".maxConnections")).map((e) => e.message);
    expect(lines).toEqual([expect.stringContaining(message)]);
  });
});
