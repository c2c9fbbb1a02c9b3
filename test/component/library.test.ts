// The library as a Pulumi user composes it: a Mailhub and its parts, each
// checked in its constructor with the CLI's rules and messages, planned
// together into the host's one HostConfiguration; child names derived from
// the component's own; a Fleet gives the same inputs as lib's planFleet.
import * as pulumi from "@pulumi/pulumi";
import { afterEach, describe, expect, it } from "vitest";
import { AuthCdb } from "../../components/auth-cdb";
import { Fleet } from "../../components/fleet";
import { hostConfigurationArgs } from "../../components/host-configuration";
import { Mailhub, settleMailhubs, type MailhubArgs } from "../../components/mailhub";
import { SmtpService } from "../../components/smtp-service";
import { SslKeyFile } from "../../components/ssl-key-file";
import { TcpRulesCdb } from "../../components/tcp-rules-cdb";
import { ValidRcptToCdb } from "../../components/valid-rcpt-to-cdb";
import { formatIssues, parseFleetConfig } from "../../lib/config";
import { HOST_KEY, isSecret, plain, planOf, PRIVATE_KEY, registerFleet, registerProgram, sslPair, TYPES, type FleetOptionsInput } from "./mock-fleet";

const CONTROL = "/var/qmail/control";
const SALT = "a-salt-secret-of-enough-bytes";

/** mx1 composed from parts: an MX and a submission service, the key file, auth.cdb, validrcptto.cdb and a tcprules cdb. */
function composeMx1(record: pulumi.ResourceTransformation, pair = sslPair()) {
  const mailhub = new Mailhub("mx1", { connection: { host: "192.0.2.10", hostKey: HOST_KEY } }, { transformations: [record] });
  const mx = new SmtpService("mx1-smtpd", {
    mailhub,
    serviceName: "smtpd",
    preset: "mx",
    ip: "192.0.2.10",
    accessRules: `${CONTROL}/tcp.smtp.cdb`,
    validRcptTo: { cdbFile: `${CONTROL}/validrcptto.cdb` },
  });
  const submission = new SmtpService("mx1-submission", {
    mailhub,
    serviceName: "submission",
    preset: "submission",
    ip: "192.0.2.10",
    auth: { method: "cdb", cdbFile: `${CONTROL}/auth.cdb` },
  });
  const key = new SslKeyFile("mx1-ssl-key", { mailhub, ...pair });
  const auth = new AuthCdb("mx1-auth", { mailhub, users: [{ user: "alice@example.com", password: "alice-password" }], saltSecret: SALT });
  const rcpt = new ValidRcptToCdb("mx1-validrcptto", { mailhub, addresses: ["postmaster@example.com", "@lists.example.com"] });
  const rules = new TcpRulesCdb("mx1-tcp.smtp", { mailhub, path: `${CONTROL}/tcp.smtp.cdb`, rules: [{ address: "127.", action: "allow", env: { RELAYCLIENT: "" } }, { address: "", action: "allow" }] });
  return { mailhub, mx, submission, key, auth, rcpt, rules };
}

/** The same host as a stack file writes it. */
function mx1AsStackFile(pair: { key: string; certificate: string }): FleetOptionsInput {
  return {
    sslKey: pair.key,
    sslCertificate: pair.certificate,
    saltSecret: SALT,
    authUsers: [{ user: "alice@example.com", password: "alice-password" }],
    validRcptTo: { addresses: ["postmaster@example.com", "@lists.example.com"] },
    tcpRules: { [`${CONTROL}/tcp.smtp.cdb`]: { rules: [{ address: "127.", action: "allow", env: { RELAYCLIENT: "" } }, { address: "", action: "allow" }] } },
    hosts: [
      {
        name: "mx1",
        address: "192.0.2.10",
        ssh: { hostKey: HOST_KEY },
        services: [
          { name: "smtpd", preset: "mx", ip: "192.0.2.10", accessRules: `${CONTROL}/tcp.smtp.cdb`, validRcptTo: { cdbFile: `${CONTROL}/validrcptto.cdb` } },
          { name: "submission", preset: "submission", ip: "192.0.2.10", auth: { method: "cdb", cdbFile: `${CONTROL}/auth.cdb` } },
        ],
      },
    ],
  };
}

/** What settling the pending mailhubs throws, "" when it does not. */
function settleError(): string {
  try {
    settleMailhubs();
    return "";
  } catch (error) {
    return (error as Error).message;
  }
}

const output = <T>(value: pulumi.Output<T>) => new Promise<T>((resolve) => value.apply(resolve));

/** The inputs a HostConfiguration got, secrets opened, for comparing with a plan. */
const opened = (inputs: Record<string, unknown>) => ({ ...inputs, secretContents: plain(inputs.secretContents) });

describe("a Mailhub composed from parts", () => {
  it("registers one HostConfiguration under the Mailhub, the parts beside it, and the same inputs a stack file gives", async () => {
    const pair = sslPair();
    let parts!: ReturnType<typeof composeMx1>;
    const run = await registerProgram((record) => (parts = composeMx1(record, pair)));
    const children = run.resources.filter((r) => r.parent === "Mailhub mx1").map((r) => r.key).sort();
    expect(children).toEqual([
      "AuthCdb mx1-auth",
      "HostConfiguration mx1",
      "SmtpService mx1-smtpd",
      "SmtpService mx1-submission",
      "SslKeyFile mx1-ssl-key",
      "TcpRulesCdb mx1-tcp.smtp",
      "ValidRcptToCdb mx1-validrcptto",
    ]);
    expect(run.ofType(TYPES.hostConfiguration)).toHaveLength(1);
    const expected = hostConfigurationArgs(planOf(mx1AsStackFile(pair)).hosts[0]);
    expect(opened(run.get("HostConfiguration mx1").inputs)).toEqual(expected);

    // Outputs: paths, sha256 and summaries as the HostConfiguration holds them.
    const files = run.get("HostConfiguration mx1").inputs.files as Record<string, { sha256: string; summary?: string }>;
    const run1 = await output(parts.mx.runScript);
    expect(run1).toMatchObject({ path: "/var/qmail/supervise/smtpd/run", sha256: files["/var/qmail/supervise/smtpd/run"].sha256, owner: "root", mode: "0755" });
    expect(await output(parts.mx.listen)).toBe("192.0.2.10:25");
    expect(await output(parts.submission.serviceDir)).toBe("/var/qmail/supervise/submission");
    expect((await output(parts.key.files)).map((f) => f.path)).toEqual([`${CONTROL}/servercert.pem`]);
    expect(await output(parts.auth.files)).toEqual([expect.objectContaining({ path: `${CONTROL}/auth.cdb`, summary: files[`${CONTROL}/auth.cdb`].summary })]);
    expect((await output(parts.rcpt.files))[0].summary).toBe("validrcptto.cdb: 2 addresses");
    expect((await output(parts.rules.file)).sha256).toBe(files[`${CONTROL}/tcp.smtp.cdb`].sha256);
    expect((await output(parts.mailhub.files)).map((f) => f.path).sort()).toEqual(Object.keys(files).sort());
  });

  it("takes the parts in its Args as parts of its own HostConfiguration, with no resource each", async () => {
    const run = await registerProgram((record) => {
      new Mailhub(
        "edge",
        {
          connection: { host: "192.0.2.30", hostKey: HOST_KEY, user: "deploy" },
          sudo: true,
          hostName: "edge1",
          services: [{ name: "smtpd", preset: "mx", ip: "0", validRcptTo: { cdbFile: `${CONTROL}/validrcptto.cdb` } }],
          validRcptToCdb: { addresses: ["@example.com"] },
        },
        { transformations: [record] },
      );
    });
    expect(run.resources.map((r) => r.key).sort()).toEqual(["HostConfiguration edge", "Mailhub edge"]);
    const inputs = run.get("HostConfiguration edge").inputs;
    expect(Object.keys(inputs.services as object)).toEqual(["smtpd"]);
    expect((inputs.files as Record<string, { summary: string }>)[`${CONTROL}/validrcptto.cdb`].summary).toBe("validrcptto.cdb: 1 address");
    expect(inputs.host).toBe("edge1");
    expect(inputs.connection).toEqual({ address: "192.0.2.30", port: 22, user: "deploy", hostKey: HOST_KEY, sudo: true });
  });

  it("with a private key in its connection holds it in a qmail provider of its own, as a secret", async () => {
    const run = await registerProgram((record) => {
      new Mailhub("mx9", { connection: { host: "192.0.2.90", hostKey: HOST_KEY, privateKey: PRIVATE_KEY }, services: [{ name: "smtpd", ip: "0" }] }, { transformations: [record] });
    });
    const provider = run.get("qmail mx9");
    expect(provider.parent).toBe("Mailhub mx9");
    expect(isSecret(provider.inputs.privateKey)).toBe(true);
    expect(JSON.stringify(run.get("HostConfiguration mx9").inputs)).not.toContain("mock-client-key");
  });

  it("plans once values from other resources are known; a secret key keeps the host's other inputs readable", async () => {
    const pair = sslPair();
    const run = await registerProgram((record) => {
      const mailhub = new Mailhub("late", { connection: { host: pulumi.output("192.0.2.40"), hostKey: HOST_KEY } }, { transformations: [record] });
      new SmtpService("late-smtpd", { mailhub, serviceName: "submission", ip: pulumi.output("192.0.2.40"), port: 587, forceTls: true });
      new SslKeyFile("late-key", { mailhub, key: pulumi.secret(pair.key), certificate: pulumi.output(pair.certificate) });
    });
    const inputs = run.get("HostConfiguration late").inputs;
    expect((inputs.connection as { address: string }).address).toBe("192.0.2.40");
    expect((inputs.services as Record<string, { listen: unknown }>).submission.listen).toEqual({ ip: "192.0.2.40", port: 587 });
    expect(isSecret(inputs.files)).toBe(false);
    expect(Object.keys(inputs.files as object)).toContain(`${CONTROL}/servercert.pem`);
    expect(isSecret(inputs.secretContents)).toBe(true);
    expect(Object.values(plain(inputs.secretContents) as Record<string, string>).map((b) => Buffer.from(b, "base64").toString())).toEqual([`${pair.key}${pair.certificate}`]);
  });
});

describe("Args are checked in the constructor with the CLI's rules and messages", () => {
  // Let each test's registrations reach its own mocks before the next test replaces them.
  afterEach(async () => {
    await new Promise((resolve) => setImmediate(resolve));
    await pulumi.runtime.disconnect();
  });

  /** The CLI's message for a service entry, without its stack-file path. */
  const cliMessage = (service: Record<string, unknown>) => {
    const parsed = parseFleetConfig({ hosts: [{ name: "h", address: "192.0.2.1", ssh: { hostKey: HOST_KEY }, services: [{ name: "smtpd", ...service }] }] });
    if (parsed.ok) throw new Error("expected errors");
    return formatIssues(parsed.errors.map((e) => ({ path: e.path.replace("hosts[0].services[0].", ""), message: e.message })));
  };
  const mailhub = () => new Mailhub(`m${Math.random().toString(36).slice(2, 8)}`, { connection: { host: "192.0.2.1", hostKey: HOST_KEY } });

  it("SmtpService: a bad option, named by the component", async () => {
    await pulumi.runtime.setMocks({ newResource: (a) => ({ id: a.name, state: a.inputs }), call: (a) => a.inputs });
    const hub = mailhub();
    expect(() => new SmtpService("mx", { mailhub: hub, serviceName: "smtpd", ip: "192.0.2.1", port: 70000 })).toThrow(
      `SmtpService mx has errors; nothing was changed:\nSmtpService mx: ${cliMessage({ ip: "192.0.2.1", port: 70000 })}`,
    );
    expect(() => new SmtpService("tls", { mailhub: hub, ip: "192.0.2.1", forceTls: true, denyTls: true })).toThrow(/SmtpService tls: /);
    // @ts-expect-error an unknown option is a compile error, and refused at run time with the nearest field
    expect(() => new SmtpService("typo", { mailhub: hub, ip: "192.0.2.1", forceTsl: true })).toThrow(/unknown field 'forceTsl': did you mean 'forceTls'\?/);
    settleMailhubs();
  });

  it("SslKeyFile, AuthCdb, ValidRcptToCdb, TcpRulesCdb: their own rules", async () => {
    await pulumi.runtime.setMocks({ newResource: (a) => ({ id: a.name, state: a.inputs }), call: (a) => a.inputs });
    const hub = mailhub();
    const pair = sslPair();
    expect(() => new SslKeyFile("k", { mailhub: hub, key: pair.certificate, certificate: pair.certificate })).toThrow(/SslKeyFile k: key: sslKey holds a certificate, not a private key/);
    expect(() => new AuthCdb("a", { mailhub: hub, users: [{ user: "bob@example.com", password: "pw" }] })).toThrow(/AuthCdb a: saltSecret: /);
    expect(() => new AuthCdb("b", { mailhub: hub, users: [{ user: "x@example.com", hash: "x" }, { user: "x@example.com", hash: "$6$abc$def" }] })).toThrow(/AuthCdb b: users\[1\]\.user: user 'x@example.com' is listed twice/);
    expect(() => new ValidRcptToCdb("v", { mailhub: hub, addresses: ["no at sign"] })).toThrow(/ValidRcptToCdb v: addresses\[0\]/);
    expect(() => new TcpRulesCdb("t", { mailhub: hub, path: `${CONTROL}/tcp.smtp.cdb`, rules: [] , file: "rules.txt" })).toThrow(/TcpRulesCdb t: a rule set needs either rules/);
    settleMailhubs();
  });

  it("Mailhub: what needs every part is checked when the mailhub plans, and stops every host", async () => {
    await pulumi.runtime.setMocks({ newResource: (a) => ({ id: a.name, state: a.inputs }), call: (a) => a.inputs });
    const noKey = new Mailhub("nokey", { connection: { host: "192.0.2.1" } });
    new SmtpService("nokey-smtpd", { mailhub: noKey, ip: "0" });
    const two = new Mailhub("two", { connection: { host: "192.0.2.2", hostKey: HOST_KEY } });
    new SmtpService("a", { mailhub: two, ip: "0" });
    new SmtpService("b", { mailhub: two, ip: "0" });
    const message = settleError();
    expect(message).toContain("the mailhubs have errors; nothing was changed:");
    expect(message).toContain(`Mailhub nokey: connection.hostKey: host 'nokey' has no pinned host key`);
    expect(message).toContain(`SmtpService b: port: services 'a' (0:25) and 'b' (0:25) collide`);
  });

  it("two Mailhubs on one machine (address and port) are refused, naming both; other ports are other machines", async () => {
    await pulumi.runtime.setMocks({ newResource: (a) => ({ id: a.name, state: a.inputs }), call: (a) => a.inputs });
    new Mailhub("first", { connection: { host: "192.0.2.7", hostKey: HOST_KEY }, services: [{ name: "smtpd", ip: "0" }] });
    new Mailhub("second", { connection: { host: "192.0.2.7", port: 22, hostKey: HOST_KEY }, services: [{ name: "submission", preset: "submission", ip: "0" }] });
    new Mailhub("jail", { connection: { host: "192.0.2.7", port: 2222, hostKey: HOST_KEY }, services: [{ name: "smtpd", ip: "0" }] });
    const message = settleError();
    expect(message).toContain("the mailhubs have errors; nothing was changed:");
    expect(message).toContain("Mailhub second connection.host: Mailhub first and Mailhub second are both 192.0.2.7 port 22: one machine configured twice");
    expect(message).not.toContain("Mailhub jail");
  });

  it("Mailhub: rollout is checked with the stack file's rules, so a negative maxFailures or a zero timeout never reaches the provider", async () => {
    await pulumi.runtime.setMocks({ newResource: (a) => ({ id: a.name, state: a.inputs }), call: (a) => a.inputs });
    const hub = (rollout: MailhubArgs["rollout"]) => () => new Mailhub("r", { connection: { host: "192.0.2.6", hostKey: HOST_KEY }, services: [{ name: "smtpd", ip: "0" }], rollout });
    expect(hub({ settleSeconds: 2, healthTimeoutSeconds: 60, maxFailures: -1 })).toThrow("Mailhub r has errors; nothing was changed:\nMailhub r: rollout.maxFailures must be 0 or more");
    expect(hub({ settleSeconds: 2, healthTimeoutSeconds: 0, maxFailures: 0 })).toThrow(/Mailhub r: rollout\.healthTimeoutSeconds must be 1 or more/);
    expect(hub({ settleSeconds: 90, healthTimeoutSeconds: 60, maxFailures: 0 })).toThrow(/Mailhub r: rollout\.settleSeconds \(90\) must be shorter than rollout\.healthTimeoutSeconds \(60\)/);
    hub({ settleSeconds: 5, healthTimeoutSeconds: 120, maxFailures: 1, laterHostsWait: true })();
    settleMailhubs();
  });

  it("parts in MailhubArgs: their errors are named by the mailhub's field, and stop every host", async () => {
    await pulumi.runtime.setMocks({ newResource: (a) => ({ id: a.name, state: a.inputs }), call: (a) => a.inputs });
    const pair = sslPair();
    const planned = (args: Partial<MailhubArgs>) => {
      new Mailhub("fine", { connection: { host: "192.0.2.5", hostKey: HOST_KEY }, services: [{ name: "smtpd", ip: "0" }] });
      new Mailhub("args", { connection: { host: "192.0.2.4", hostKey: HOST_KEY }, services: [{ name: "smtpd", ip: "192.0.2.4" }], ...args });
      return settleError();
    };
    expect(planned({ services: [{ name: "smtpd", ip: "192.0.2.4", port: 70000 }] })).toBe(
      `the mailhubs have errors; nothing was changed:\nMailhub args services.smtpd: ${cliMessage({ ip: "192.0.2.4", port: 70000 })}`,
    );
    expect(planned({ sslKeyFile: { key: pair.certificate, certificate: pair.certificate } })).toMatch(/^the mailhubs have errors; nothing was changed:\nMailhub args sslKeyFile: key: sslKey holds a certificate, not a private key/);
    expect(planned({ validRcptToCdb: { addresses: ["no at sign"] } })).toMatch(/\nMailhub args validRcptToCdb: addresses\[0\]/);
    expect(planned({ authCdb: { users: [{ user: "bob@example.com", password: "pw" }] } })).toMatch(/\nMailhub args authCdb: saltSecret: /);
    expect(planned({ tcpRulesCdbs: [{ path: `${CONTROL}/tcp.smtp.cdb`, rules: [], file: "rules.txt" }] })).toMatch(/\nMailhub args tcpRulesCdbs\[\/var\/qmail\/control\/tcp\.smtp\.cdb\]: a rule set needs either rules/);
  });

  it("a part that comes after its mailhub planned is refused, saying what to do", async () => {
    await pulumi.runtime.setMocks({ newResource: (a) => ({ id: a.name, state: a.inputs }), call: (a) => a.inputs });
    const hub = new Mailhub("early", { connection: { host: "192.0.2.3", hostKey: HOST_KEY }, services: [{ name: "smtpd", ip: "0" }] });
    settleMailhubs();
    expect(() => new SmtpService("late", { mailhub: hub, ip: "192.0.2.3", port: 587 })).toThrow(
      "SmtpService late cannot join Mailhub early: the mailhub has already registered its HostConfiguration. Create a mailhub's parts in the same synchronous turn as the mailhub (no await in between), or pass them in MailhubArgs",
    );
  });

  it("one key file, auth.cdb and validrcptto.cdb per mailhub", async () => {
    await pulumi.runtime.setMocks({ newResource: (a) => ({ id: a.name, state: a.inputs }), call: (a) => a.inputs });
    const hub = mailhub();
    new ValidRcptToCdb("first", { mailhub: hub, addresses: ["@example.com"] });
    expect(() => new ValidRcptToCdb("second", { mailhub: hub, addresses: ["@example.org"] })).toThrow(/already has one ValidRcptToCdb \(ValidRcptToCdb first\)/);
    settleMailhubs();
  });

  it("Fleet: the stack file's messages, with its paths", async () => {
    await pulumi.runtime.setMocks({ newResource: (a) => ({ id: a.name, state: a.inputs }), call: (a) => a.inputs });
    expect(() => new Fleet("f", { hosts: [{ name: "mx1", address: "192.0.2.1", services: [{ name: "smtpd", ip: "0", port: 0 }] }] })).toThrow(
      /Fleet f has errors; nothing was changed:\nhosts\[0\]\.ssh\.hostKey: host 'mx1' has no pinned host key[\s\S]*hosts\[0\]\.services\[0\]\.port: /,
    );
  });
});

describe("names", () => {
  it("two fleets in one program do not collide: mailhubs are named after their fleet", async () => {
    const hosts = (prefix: string): FleetOptionsInput => ({
      services: [{ name: "smtpd", preset: "mx", ip: "0" }],
      hosts: [1, 2].map((i) => ({ name: `mx${i}`, address: `192.0.2.${prefix === "eu" ? i : 100 + i}`, ssh: { hostKey: HOST_KEY } })),
    });
    const run = await registerProgram((record) => {
      new Fleet("eu", hosts("eu"), { transformations: [record] });
      new Fleet("us", hosts("us"), { transformations: [record] });
    });
    expect(run.ofType(TYPES.mailhub).map((r) => r.name).sort()).toEqual(["eu-mx1", "eu-mx2", "us-mx1", "us-mx2"]);
    expect(run.ofType(TYPES.hostConfiguration).map((r) => r.name).sort()).toEqual(["eu-mx1", "eu-mx2", "us-mx1", "us-mx2"]);
    expect(run.ofType(TYPES.provider).map((r) => r.name).sort()).toEqual(["eu", "us"]);
    expect(run.get("HostConfiguration us-mx2").inputs.host).toBe("mx2");
  });

  it("the stack-file program keeps the names it has always deployed (Fleet fleet, Mailhub and HostConfiguration by host)", async () => {
    const run = await registerFleet({ services: [{ name: "smtpd", ip: "0" }], hosts: [{ name: "mailhub1", address: "127.0.0.11", ssh: { hostKey: HOST_KEY } }] });
    expect(run.get("Mailhub mailhub1").parent).toBe("Fleet fleet");
    expect(run.get("HostConfiguration mailhub1").parent).toBe("Mailhub mailhub1");
  });

  it("a Fleet registers for each host exactly what planFleet plans for it", async () => {
    const pair = sslPair();
    const config = mx1AsStackFile(pair);
    config.hosts.push({ name: "mx2", address: "192.0.2.20", ssh: { hostKey: HOST_KEY }, services: [{ name: "smtpd", preset: "mx", ip: "192.0.2.20", accessRules: `${CONTROL}/tcp.smtp.cdb` }] });
    const run = await registerFleet(config);
    const plan = planOf(config);
    for (const host of plan.hosts) {
      const inputs = opened(run.get(`HostConfiguration ${host.name}`).inputs);
      const expected = { ...hostConfigurationArgs(host), rollout: { settleSeconds: 2, healthTimeoutSeconds: 60, maxFailures: 2 } };
      for (const key of Object.keys({ ...inputs, ...expected })) expect([key, (inputs as Record<string, unknown>)[key]]).toEqual([key, (expected as Record<string, unknown>)[key]]);
    }
  });
});
