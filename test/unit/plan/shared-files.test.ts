// The shared files of a mailhub in the plan: SSL key + certificate, auth.cdb,
// validrcptto.cdb and tcprules cdbs. Keys and certificates are made with
// openssl for this run only.
import { spawnSync } from "node:child_process";
import { beforeAll, describe, expect, it } from "vitest";
import { buildAuthCdb } from "../../../lib/cdb/auth";
import { buildTcpRules } from "../../../lib/cdb/tcprules";
import { buildValidRcptTo } from "../../../lib/cdb/validrcptto";
import type { ManagedFile } from "../../../lib/host-plan";
import { parseFleetConfig } from "../../../lib/config";
import { planFleet, PlanError } from "../../../lib/plan";
import { fleetWith, mustFail, mustParse } from "../schema/fixtures";
import { extractPem, pemBlock } from "../../pem";

function keyAndCertificate(cn: string): { key: string; certificate: string } {
  const result = spawnSync("openssl", ["req", "-x509", "-newkey", "ed25519", "-nodes", "-subj", `/CN=${cn}`, "-days", "2", "-keyout", "-", "-out", "-"], {
    encoding: "utf8",
  });
  if (result.status !== 0) throw new Error(`openssl failed: ${result.stderr}`);
  const key = extractPem(result.stdout, "PRIVATE KEY");
  const certificate = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n/.exec(result.stdout)![0];
  return { key, certificate };
}

let pair: { key: string; certificate: string };
let other: { key: string; certificate: string };
beforeAll(() => {
  pair = keyAndCertificate("mx.example.com");
  other = keyAndCertificate("other.example.com");
});

const SALT = "0123456789abcdef0123";
const HASH = "$6$saltsalt$" + "a".repeat(86);

const smtps = { name: "smtps", ip: "192.0.2.10", port: 465, ssl: true };
const submission = { name: "submission", preset: "submission", ip: "192.0.2.10", certificateFile: "/etc/ssl/submission.pem", auth: { method: "cdb", cdbFile: "/var/qmail/control/auth.cdb" } };
const smtpd = { name: "smtpd", ip: "192.0.2.10", accessRules: "/etc/tcp/smtp.cdb", validRcptTo: { cdbFile: "/var/qmail/control/validrcptto.cdb" } };

function plan(raw: Record<string, unknown>, files: Record<string, string> = {}) {
  const { config } = mustParse(raw);
  return planFleet(config, {
    readFile: (path) => {
      if (!(path in files)) throw new Error(`ENOENT: no such file '${path}'`);
      return files[path];
    },
  });
}

const fileAt = (files: ManagedFile[], path: string) => {
  const file = files.find((f) => f.path === path);
  if (!file) throw new Error(`no file ${path} in ${files.map((f) => f.path).join(", ")}`);
  return file;
};

const attributes = (f: ManagedFile) => ({ owner: f.owner, group: f.group, mode: f.mode.toString(8), kind: f.kind, secret: f.secret, restarts: f.restarts });

describe("SSL key and certificate", () => {
  it("writes key then chain into certificateFile, root:nofiles 0640, secret, restarting only SSL-wrapped services", () => {
    const fleet = plan({
      ...fleetWith([smtps, { name: "smtpd", ip: "192.0.2.10" }, { name: "plain", ip: "127.0.0.1", port: 2525, denyTls: true }]),
      sslKey: pair.key,
      sslCertificate: pair.certificate,
    });
    const [host] = fleet.hosts;
    const cert = fileAt(host.files, "/var/qmail/control/servercert.pem");
    expect(attributes(cert)).toEqual({ owner: "root", group: "nofiles", mode: "640", kind: "secret", secret: true, restarts: [{ service: "smtps", part: "service" }] });
    expect(cert.content.toString()).toBe(pair.key + pair.certificate);
    expect(cert.summary).toMatch(/^servercert\.pem: ed25519 key \+ 1 certificate \(CN=mx\.example\.com, valid until \d{4}-\d{2}-\d{2}\)$/);
    expect(cert.summary).not.toContain("PRIVATE");
    // The SSL service without certificateFile now names the default, so sslserver gets CERTFILE.
    expect(fileAt(host.files, "/var/qmail/supervise/smtps/run").content.toString()).toContain("CERTFILE=/var/qmail/control/servercert.pem");
    expect(host.files.filter((f) => f.kind === "secret")).toHaveLength(1);
  });

  it("a STARTTLS-only service reads the certificate per connection: no restart", () => {
    const [host] = plan({ ...fleetWith([{ name: "smtpd", ip: "192.0.2.10", certificateFile: "/etc/ssl/mx.pem" }]), sslKey: pair.key, sslCertificate: pair.certificate }).hosts;
    expect(fileAt(host.files, "/etc/ssl/mx.pem").restarts).toEqual([]);
  });

  it("writes one file per distinct certificateFile, and a host's own pair wins over the fleet's", () => {
    const raw: Record<string, unknown> = {
      ...fleetWith([smtps, { name: "smtpd", ip: "192.0.2.10", certificateFile: "/etc/ssl/starttls.pem" }]),
      sslKey: pair.key,
      sslCertificate: pair.certificate,
    };
    const [fleetPair] = plan(raw).hosts;
    expect(fleetPair.files.filter((f) => f.kind === "secret").map((f) => f.path)).toEqual(["/etc/ssl/starttls.pem", "/var/qmail/control/servercert.pem"]);
    (raw.hosts as Array<Record<string, unknown>>)[0].sslKey = other.key;
    (raw.hosts as Array<Record<string, unknown>>)[0].sslCertificate = other.certificate;
    const [own] = plan(raw).hosts;
    expect(fileAt(own.files, "/etc/ssl/starttls.pem").content.toString()).toBe(other.key + other.certificate);
  });

  it("without sslKey/sslCertificate an SSL service still needs certificateFile; with them it does not", () => {
    expect(mustFail(fleetWith([smtps]))).toEqual([
      "hosts[0].services[0].certificateFile: an SSL-wrapped service (ssl: true) needs certificateFile for sslserver: set it, or give sslKey and sslCertificate (then written to control/servercert.pem)",
    ]);
    expect(mustFail(fleetWith([{ name: "s", ip: "192.0.2.10", port: 587, forceTls: true }]))[0]).toContain("or give sslKey and sslCertificate");
    // A certificateFile alone: the operator manages the file; nothing planned.
    const [host] = plan(fleetWith([{ ...smtps, certificateFile: "/etc/ssl/mx.pem" }])).hosts;
    expect(host.files.filter((f) => f.kind === "secret")).toEqual([]);
    const forced = plan({ ...fleetWith([{ name: "s", ip: "192.0.2.10", port: 587, forceTls: true }]), sslKey: pair.key, sslCertificate: pair.certificate });
    expect(fileAt(forced.hosts[0].files, "/var/qmail/control/servercert.pem").restarts).toEqual([]);
  });

  it("checks the PEM shapes and the pair without ever quoting the key", () => {
    const errors = (raw: Record<string, unknown>) => mustFail({ ...fleetWith([smtps]), ...raw }).join("\n");
    const notPem = errors({ sslKey: "hunter2-not-a-key", sslCertificate: pair.certificate });
    expect(notPem).toContain("sslKey: sslKey must be a PEM private key, as openssl genpkey writes it; the value given is not one");
    expect(notPem).not.toContain("hunter2");
    expect(errors({ sslKey: pair.certificate, sslCertificate: pair.certificate })).toContain("sslKey: sslKey holds a certificate, not a private key");
    const leaked = errors({ sslKey: pair.key, sslCertificate: pair.key + pair.certificate });
    expect(leaked).toContain("sslCertificate: sslCertificate contains a private key, which must not sit in a plain config value");
    expect(leaked).not.toContain(pair.key.split("\n")[1]);
    expect(errors({ sslKey: pair.key, sslCertificate: "no pem here" })).toContain("sslCertificate must hold one or more PEM certificates");
    const mismatch = errors({ sslKey: other.key, sslCertificate: pair.certificate });
    expect(mismatch).toContain("sslKey: sslKey does not belong to the first certificate of sslCertificate");
    expect(mismatch).not.toContain(other.key.split("\n")[1]);
    const broken = pair.key.replace(/\n(.{10})/, "\n!!!!!!!!!!");
    expect(errors({ sslKey: broken, sslCertificate: pair.certificate })).toContain("sslKey has the shape of a PEM private key but cannot be read as one");
    expect(errors({ sslKey: pair.key })).toContain("sslCertificate: sslKey is set but no certificate");
    expect(errors({ sslCertificate: pair.certificate })).toContain("sslKey: sslCertificate is set but no private key");
    const encrypted = pemBlock("ENCRYPTED PRIVATE KEY", "MIIB");
    expect(errors({ sslKey: encrypted, sslCertificate: pair.certificate })).toContain("protected by a passphrase");
  });

  it("refuses a separate keyFile when the config provides the key", () => {
    expect(mustFail({ ...fleetWith([{ ...smtps, certificateFile: "/etc/ssl/c.pem", keyFile: "/etc/ssl/k.pem" }]), sslKey: pair.key, sslCertificate: pair.certificate })[0]).toMatch(
      /^hosts\[0\]\.services\[0\]\.keyFile: keyFile \/etc\/ssl\/k\.pem would not be written/,
    );
  });

  it("skips the file with a warning when the key is still encrypted (CLI on a stack file)", () => {
    const fleet = plan({ ...fleetWith([smtps]), sslKey: { secure: "v1:abc" }, sslCertificate: pair.certificate });
    expect(fleet.hosts[0].files.filter((f) => f.kind === "secret")).toEqual([]);
    expect(fleet.warnings).toContain("host mx1: /var/qmail/control/servercert.pem not rendered: the key (sslKey) is encrypted in the stack file (pulumi up decrypts it)");
  });
});

describe("certificate validity", () => {
  it("warns of a server certificate that has expired or is not valid yet", () => {
    const raw = { ...fleetWith([{ name: "smtpd", ip: "192.0.2.10" }]), sslKey: pair.key, sslCertificate: pair.certificate };
    const parse = (now: string) => parseFleetConfig(raw, { now: new Date(now) });
    const later = parse("2099-01-01T00:00:00Z");
    expect(later.ok && later.warnings.map((w) => `${w.path}: ${w.message}`)).toEqual([
      expect.stringMatching(/^sslCertificate: the server certificate expired on \d{4}-\d{2}-\d{2}: clients refuse TLS with it, and a service that forces TLS gets no mail; renew it$/),
    ]);
    const earlier = parse("2000-01-01T00:00:00Z");
    expect(earlier.ok && earlier.warnings[0].message).toMatch(/^the server certificate is valid only from /);
    const today = parseFleetConfig(raw);
    expect(today.ok && today.warnings).toEqual([]);
  });
});

describe("auth.cdb", () => {
  const users = [
    { user: "bob@example.com", password: "correct horse battery", env: { QMAILQUEUE: "/var/qmail/bin/simscan" } },
    { user: "alice@example.com", hash: HASH, expires: "2030-01-01" },
  ];

  it("is built from authUsers at each cdb service's path: root:<group> 0640, secret, no restart, same bytes as lib/cdb/auth", () => {
    const [host] = plan({ ...fleetWith([submission]), authUsers: users, saltSecret: SALT }).hosts;
    const auth = fileAt(host.files, "/var/qmail/control/auth.cdb");
    expect(attributes(auth)).toEqual({ owner: "root", group: "nofiles", mode: "640", kind: "cdb", secret: true, restarts: [] });
    expect(auth.content.equals(buildAuthCdb(users, { saltSecret: SALT }))).toBe(true);
    expect(auth.summary).toBe("auth.cdb: 2 users (alice@example.com, bob@example.com)");
    expect(auth.summary).not.toContain("$6$");
  });

  it("gives the same bytes whatever the order of users, and writes every distinct cdbFile", () => {
    const services = [submission, { ...submission, name: "submission2", ip: "192.0.2.11", auth: { method: "cdb", cdbFile: "/etc/qmail/auth2.cdb" } }];
    const a = plan({ ...fleetWith(services), authUsers: users, saltSecret: SALT }).hosts[0];
    const b = plan({ ...fleetWith(services), authUsers: [...users].reverse(), saltSecret: SALT }).hosts[0];
    expect(fileAt(a.files, "/var/qmail/control/auth.cdb").content.equals(fileAt(b.files, "/var/qmail/control/auth.cdb").content)).toBe(true);
    expect(fileAt(a.files, "/etc/qmail/auth2.cdb").content.equals(fileAt(a.files, "/var/qmail/control/auth.cdb").content)).toBe(true);
  });

  it("is built once for the same users and saltSecret, however many plans ask (a program plans each host on its own); another saltSecret builds again", () => {
    const raw = { ...fleetWith([submission]), authUsers: users, saltSecret: SALT };
    const first = fileAt(plan(raw).hosts[0].files, "/var/qmail/control/auth.cdb").content;
    expect(fileAt(plan(raw).hosts[0].files, "/var/qmail/control/auth.cdb").content).toBe(first);
    const otherSalt = fileAt(plan({ ...raw, saltSecret: `${SALT}-other` }).hosts[0].files, "/var/qmail/control/auth.cdb").content;
    expect(otherSalt.equals(first)).toBe(false);
    expect(otherSalt.equals(buildAuthCdb(users, { saltSecret: `${SALT}-other` }))).toBe(true);
  });

  it("a host adds users and replaces fleet users of the same name", () => {
    const raw = { ...fleetWith([submission], { authUsers: [{ user: "bob@example.com", hash: HASH }, { user: "carol@example.com", hash: HASH }] }), authUsers: users, saltSecret: SALT };
    const auth = fileAt(plan(raw).hosts[0].files, "/var/qmail/control/auth.cdb");
    expect(auth.content.equals(buildAuthCdb([{ user: "bob@example.com", hash: HASH }, users[1], { user: "carol@example.com", hash: HASH }]))).toBe(true);
  });

  it("without authUsers the file is the operator's: nothing planned", () => {
    expect(plan(fleetWith([submission])).hosts[0].files.map((f) => f.kind)).toEqual(["script", "script"]);
  });

  it("needs saltSecret for plain passwords, named with the command to set it", () => {
    expect(mustFail({ ...fleetWith([submission]), authUsers: users })).toEqual([
      "saltSecret: authUsers[0].password is a plain password, hashed with a salt derived from saltSecret, which is not set: run `pulumi config set --secret saltSecret <random>` (at least 16 bytes, e.g. from `openssl rand -base64 24`)",
    ]);
    expect(mustFail({ ...fleetWith([submission]), authUsers: users, saltSecret: "short" })[0]).toMatch(/^saltSecret: saltSecret must be at least 16 bytes/);
    // Only ready hashes: no salt needed.
    expect(() => plan({ ...fleetWith([submission]), authUsers: [users[1]] })).not.toThrow();
  });

  it("refuses what lib/cdb/auth refuses, with the entry's path and never the secret", () => {
    const errors = mustFail({
      ...fleetWith([submission]),
      saltSecret: SALT,
      authUsers: [
        { user: "a@example.com", hash: "plaintext-oops" },
        { user: "b@example.com" },
        { user: "c@example.com", hash: HASH, env: { "BAD NAME": "x" } },
        { user: "d@example.com", hash: HASH, expires: "next week" },
        { user: "e@example.com", password: "line\nbreak" },
        { user: "a@example.com", hash: HASH },
      ],
    });
    expect(errors).toEqual([
      "authUsers[0].hash: hash is not a crypt hash of a supported kind ($1$, $5$, $6$ or $y$); if it is a plain password, give it as a plain password instead",
      "authUsers[1]: has neither a hash nor a plain password",
      'authUsers[2].env: variable name "BAD NAME" contains whitespace, which qmail-smtpd would misparse; use letters, digits and \'_\', not starting with a digit',
      'authUsers[3].expires: expiry "next week" is not unix seconds, YYYY-MM-DD or an ISO time with a zone (e.g. 2027-01-31T12:00:00Z)',
      "authUsers[4].password: the password contains a line break, NUL or another control character",
      "authUsers[5].user: user 'a@example.com' is listed twice (also authUsers[0]): keep one entry",
    ]);
    expect(errors.join("\n")).not.toContain("plaintext-oops");
  });

  it("skips auth.cdb with a warning when passwords, saltSecret or the list are encrypted", () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ authUsers: [{ user: "a@example.com", password: { secure: "v1:x" } }], saltSecret: SALT }, "its passwords are encrypted in the stack file"],
      [{ authUsers: [{ user: "a@example.com", password: "pw" }], saltSecret: { secure: "v1:s" } }, "saltSecret is encrypted in the stack file"],
      [{ authUsers: { secure: "v1:list" } }, "authUsers is encrypted in the stack file"],
    ];
    for (const [keys, why] of cases) {
      const fleet = plan({ ...fleetWith([submission]), ...keys });
      expect(fleet.hosts[0].files.some((f) => f.path === "/var/qmail/control/auth.cdb")).toBe(false);
      expect(fleet.warnings).toContain(`host mx1: /var/qmail/control/auth.cdb (auth.cdb) not rendered: ${why} (pulumi up decrypts them)`);
    }
  });
});

describe("validrcptto.cdb", () => {
  it("is built from addresses and files: root:nofiles 0644, not secret, no restart, the builder's bytes", () => {
    const raw = { ...fleetWith([smtpd]), validRcptTo: { addresses: ["Postmaster@example.com", "@example.org"], files: ["users.txt"] } };
    const [host] = plan(raw, { "users.txt": "# users\nalice@example.com\n!bob@example.com" }).hosts;
    const cdb = fileAt(host.files, "/var/qmail/control/validrcptto.cdb");
    expect(attributes(cdb)).toEqual({ owner: "root", group: "nofiles", mode: "644", kind: "cdb", secret: false, restarts: [] });
    expect(cdb.content.equals(buildValidRcptTo(["postmaster@example.com", "@example.org", "alice@example.com", "!bob@example.com"]))).toBe(true);
    expect(cdb.summary).toBe("validrcptto.cdb: 4 addresses");
  });

  it("gives the same bytes whatever the order of entries", () => {
    const a = plan({ ...fleetWith([smtpd]), validRcptTo: { addresses: ["a@x.org", "b@x.org", "c@x.org"] } }).hosts[0];
    const b = plan({ ...fleetWith([smtpd]), validRcptTo: { addresses: ["c@x.org", "a@x.org", "b@x.org"] } }).hosts[0];
    expect(fileAt(a.files, "/var/qmail/control/validrcptto.cdb").content.equals(fileAt(b.files, "/var/qmail/control/validrcptto.cdb").content)).toBe(true);
  });

  it("names the bad entry or file", () => {
    expect(mustFail({ ...fleetWith([smtpd]), validRcptTo: { addresses: ["ok@x.org", "bad address@x.org"] } })[0]).toMatch(/^validRcptTo\.addresses\[1\]: /);
    const { config } = mustParse({ ...fleetWith([smtpd]), validRcptTo: { files: ["missing.txt"] } });
    expect(() => planFleet(config, { readFile: () => { throw new Error("ENOENT"); } })).toThrow(new PlanError("validRcptTo.files[0]: cannot read missing.txt: ENOENT"));
    expect(() => planFleet(config, { readFile: () => "ok@x.org\nbad address@x.org\n" })).toThrow(/^validRcptTo\.files\[0\] \(missing\.txt\): validrcptto: 1 bad line:\n {2}line 2: /);
  });

  it("names where each side of a conflict between sources is: an address by its index, a file's line by the file", () => {
    const raw = { ...fleetWith([smtpd]), validRcptTo: { addresses: ["postmaster@x.org", "a@x.org"], files: ["one.txt", "two.txt"] } };
    const { config } = mustParse(raw);
    const files: Record<string, string> = { "one.txt": "# one\nb@x.org\n!a@x.org\n", "two.txt": "c@x.org\n!postmaster@x.org" };
    expect(() => planFleet(config, { readFile: (file) => files[file] })).toThrow(
      new PlanError(
        "validRcptTo: 2 problems between its sources (addresses, then files in order):\n" +
          '  validRcptTo.files[0] (one.txt) line 3: "a@x.org" is rejected here but accepted at validRcptTo.addresses[1]\n' +
          '  validRcptTo.files[1] (two.txt) line 2: "postmaster@x.org" is rejected here but accepted at validRcptTo.addresses[0]',
      ),
    );
    // Within the addresses, the other entry is named by its path too (from 0, as the path of the one at fault).
    expect(mustFail({ ...fleetWith([smtpd]), validRcptTo: { addresses: ["a@x.org", "b@x.org", "!a@x.org"] } })).toEqual([
      'validRcptTo.addresses[2]: "a@x.org" is rejected here but accepted at validRcptTo.addresses[0]',
    ]);
  });
});

describe("tcprules cdb", () => {
  const rules = [
    { address: "127.", action: "allow", env: { RELAYCLIENT: "" } },
    { address: "192.0.2.40-42", action: "deny" },
    { address: "", action: "allow" },
  ] as const;

  it("is built for the service whose accessRules names the set: root:root 0644, no restart, the builder's bytes", () => {
    const [host] = plan({ ...fleetWith([smtpd]), tcpRules: { "/etc/tcp/smtp.cdb": { rules } } }).hosts;
    const cdb = fileAt(host.files, "/etc/tcp/smtp.cdb");
    expect(attributes(cdb)).toEqual({ owner: "root", group: "root", mode: "644", kind: "cdb", secret: false, restarts: [] });
    expect(cdb.content.equals(buildTcpRules([...rules]))).toBe(true);
    expect(cdb.summary).toBe("smtp.cdb: 5 rule entries");
  });

  it("reads a tcprules source file", () => {
    const [host] = plan({ ...fleetWith([smtpd]), tcpRules: { "/etc/tcp/smtp.cdb": { file: "smtp.rules" } } }, { "smtp.rules": '127.:allow,RELAYCLIENT=""\n:allow\n' }).hosts;
    expect(fileAt(host.files, "/etc/tcp/smtp.cdb").content.equals(buildTcpRules('127.:allow,RELAYCLIENT=""\n:allow\n'))).toBe(true);
  });

  it("refuses a rule set no service uses and bad rules, by path", () => {
    expect(mustFail({ ...fleetWith([smtpd]), tcpRules: { "/etc/tcp/smpt.cdb": { rules } } })).toEqual([
      "tcpRules./etc/tcp/smpt.cdb: no service uses the rule set /etc/tcp/smpt.cdb: its key must be the cdb path a service gives as accessRules; fix the key or the service's accessRules, or remove the set",
    ]);
    expect(mustFail({ ...fleetWith([smtpd]), tcpRules: { "/etc/tcp/smtp.cdb": { rules: [{ address: "1.2.3.4:5", action: "allow" }] } } })[0]).toMatch(
      /^tcpRules\.\/etc\/tcp\/smtp\.cdb\.rules\[0\]: rule 1 \("1\.2\.3\.4:5"\): address must not contain ':'/,
    );
    expect(mustFail({ ...fleetWith([smtpd]), tcpRules: { "/etc/tcp/smtp.cdb": { rules, file: "x" } } })[0]).toContain("either rules");
  });

  it("an accessRules path without a set is the operator's file", () => {
    expect(plan(fleetWith([smtpd])).hosts[0].files.map((f) => f.kind)).toEqual(["script", "script"]);
  });
});

describe("the whole set", () => {
  const raw = (): Record<string, unknown> => ({
    ...fleetWith([smtpd, submission, smtps]),
    sslKey: pair.key,
    sslCertificate: pair.certificate,
    saltSecret: SALT,
    authUsers: [{ user: "alice@example.com", password: "pw-alice" }],
    validRcptTo: { addresses: ["alice@example.com"] },
    tcpRules: { "/etc/tcp/smtp.cdb": { rules: [{ address: "", action: "allow" }] } },
  });

  it("comes after the scripts in a fixed order, with the same bytes every time", () => {
    const first = plan(raw()).hosts[0];
    expect(first.files.slice(6).map((f) => f.path)).toEqual([
      "/etc/ssl/submission.pem",
      "/var/qmail/control/servercert.pem",
      "/var/qmail/control/auth.cdb",
      "/var/qmail/control/validrcptto.cdb",
      "/etc/tcp/smtp.cdb",
    ]);
    const second = plan(raw()).hosts[0];
    expect(second.files.map((f) => [f.path, f.content.toString("hex")])).toEqual(first.files.map((f) => [f.path, f.content.toString("hex")]));
  });

  it("refuses two kinds of file on one path", () => {
    const clash = { ...raw(), hosts: [{ ...(raw().hosts as Array<Record<string, unknown>>)[0], services: [{ ...smtpd, validRcptTo: { cdbFile: "/var/qmail/control/auth.cdb" } }, submission] }] };
    // Refused when the config is read, whatever the files would hold.
    expect(mustFail(clash)).toContain(
      "hosts[0].services[1].auth.cdbFile: /var/qmail/control/auth.cdb is the auth.cdb (auth.cdbFile of service 'submission') and also the validrcptto.cdb (validRcptTo.cdbFile of service 'smtpd'): qmail-smtpd would look users and recipients up in one file; give each its own path",
    );
  });

  it("warns when the config describes files no service reads", () => {
    const { warnings } = mustParse({ ...fleetWith([{ name: "smtpd", ip: "192.0.2.10", denyTls: true }]), validRcptTo: { addresses: ["a@x.org"] }, authUsers: [{ user: "a", hash: HASH }], sslKey: pair.key, sslCertificate: pair.certificate });
    expect(warnings).toEqual([
      "validRcptTo: no service sets validRcptTo.cdbFile, so validrcptto.cdb is not written anywhere",
      "authUsers: no service uses auth.method cdb, so auth.cdb is not written anywhere",
      "sslKey: host 'mx1' has no service using TLS (all deny STARTTLS), so its certificate file is not written",
    ]);
  });
});
