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
      hosts: [host({ ssh: { hostKey: HOST_KEY, port: 22 } }), host({ name: "mx2", ssh: { hostKey: HOST_KEY, user: "root", sudo: false } })],
    });
    expect(config.hosts.map((h) => h.ssh)).toEqual([
      { address: "192.0.2.10", port: 22, user: "deploy", sudo: true, hostKey: HOST_KEY },
      { address: "192.0.2.10", port: 2200, user: "root", sudo: false, hostKey: HOST_KEY },
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
        host({ name: "mx2" }),
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
      hosts: [host({ services: [{ name: "smtpd", greetDelay: 999 }] }), host({ name: "mx2" })],
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

  it("refuses 0.0.0.0 like 0", () => {
    const errors = mustFail(fleetWith([{ name: "a", ip: "0.0.0.0" }, { name: "b", ip: "127.0.0.1" }]));
    expect(errors.join("\n")).toContain("collide (ip 0 takes the port on every address)");
  });
});

describe("parseFleetConfig: warnings for what the seed advises against", () => {
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ["REQUIRE_AUTH on public port 25", { auth: { method: "cdb", cdbFile: "/a.cdb", require: true } }, "auth.require: REQUIRE_AUTH on a port-25 service"],
    ["ALLOW_INSECURE_AUTH off localhost", { auth: { method: "cdb", cdbFile: "/a.cdb", allowInsecure: true } }, "auth.allowInsecure: ALLOW_INSECURE_AUTH off localhost"],
    ["more than 100 connections", { maxConnections: 101 }, "maxConnections: more than 100 connections"],
    ["SPFBEHAVIOR over 3", { spf: { behavior: 4 } }, "spf.behavior: SPFBEHAVIOR above 3"],
    ["SIMSCAN_DEBUG_FILES=2", { simscan: { debugFiles: 2 } }, "simscan.debugFiles: SIMSCAN_DEBUG_FILES=2"],
    ["RELAYREJ", { relayReject: true }, "relayReject: RELAYREJ"],
    ["the p0f check left on", { simscan: { noP0fCheck: false } }, "simscan.noP0fCheck: the p0f check is on"],
    ["running as vpopmail", { user: "vpopmail" }, "user: running the SMTP service as vpopmail"],
    ["HELP_VERSION on", { helpVersion: true }, "helpVersion: QMAILSMTPD_HELP_VERSION"],
    ["FORCE_TLS on public port 25", { forceTls: true, certificateFile: "/c.pem" }, "forceTls: FORCE_TLS on a public port-25 service"],
  ];

  it.each(cases)("%s", (_what, fields, expected) => {
    const { warnings } = mustParse(fleetWith([{ name: "smtpd", ip: "192.0.2.10", ...fields }]));
    expect(warnings.join("\n")).toContain(`hosts[0].services[0].${expected}`);
  });

  it("gives none for a plain MX, and none for REQUIRE_AUTH or insecure AUTH on localhost", () => {
    expect(mustParse(fleetWith([{ name: "smtpd", preset: "mx", ip: "0" }])).warnings).toEqual([]);
    const local = { name: "local", ip: "127.0.0.1", auth: { method: "cdb", cdbFile: "/a.cdb", require: true, allowInsecure: true } };
    expect(mustParse(fleetWith([local])).warnings).toEqual([]);
  });

  it("warnings never make the result fail", () => {
    const result = parseFleetConfig(fleetWith([{ name: "smtpd", ip: "0", user: "vpopmail", relayReject: true }]));
    expect(result.ok).toBe(true);
  });
});
