// The facts the rules judge by come from planning: a config planned and made
// into HostConfiguration inputs, as `pulumi preview` and `qmail-fleet diff`
// see them. An acknowledged hazard passes the config and is still stopped here.
import { describe, expect, it } from "vitest";
import { hostConfigurationArgs } from "../../../components/host-configuration";
import { sha256Hex } from "../../../provider/build-files";
import { planFleet } from "../../../lib/plan";
import { checkHost } from "../../../lib/policy/rules";
import { fleetWith, mustParse } from "../schema/fixtures";

const RULES = "/var/qmail/control/tcp.smtp.cdb";
const RELAY_TO_ALL = [{ address: "", action: "allow", env: { RELAYCLIENT: "" } }];
const RELAY_LOCAL = [{ address: "127.", action: "allow", env: { RELAYCLIENT: "" } }, { address: "", action: "allow" }];

/** The inputs of the one host of `raw`, planned with `files` as the local files. */
function inputsOf(raw: Record<string, unknown>, files: Record<string, string> = {}) {
  const { config } = mustParse(raw);
  const plan = planFleet(config, { readFile: (path) => files[path] });
  return hostConfigurationArgs(plan.hosts[0], sha256Hex);
}

const mx = (extra: Record<string, unknown> = {}) => ({ name: "smtpd", preset: "mx", ip: "0", accessRules: RULES, validRcptTo: { cdbFile: "/var/qmail/control/validrcptto.cdb" }, ...extra });

describe("traits planned for the rules", () => {
  it("a careful MX passes every rule", () => {
    const inputs = inputsOf({ ...fleetWith([mx()]), tcpRules: { [RULES]: { rules: RELAY_LOCAL } }, validRcptTo: { addresses: ["postmaster@example.com"] } });
    expect(inputs.services.smtpd.traits).toMatchObject({ accessRules: RULES, relaysEveryClient: false, validRcptToCdb: "/var/qmail/control/validrcptto.cdb" });
    expect(checkHost(inputs)).toEqual([]);
  });

  it("an open relay the config acknowledges is still stopped by the house rule", () => {
    const inputs = inputsOf({ ...fleetWith([mx({ acknowledge: ["open-relay"] })]), tcpRules: { [RULES]: { rules: RELAY_TO_ALL } } });
    expect(inputs.services.smtpd.traits?.relaysEveryClient).toBe(true);
    expect(checkHost(inputs).map((r) => r.rule)).toEqual(["no-open-relay-on-mx"]);
  });

  it("reads the default rule of a tcprules file the config names", () => {
    const raw = { ...fleetWith([mx({ acknowledge: ["open-relay"] })]), tcpRules: { [RULES]: { file: "tcp.smtp" } } };
    expect(inputsOf(raw, { "tcp.smtp": ":allow,RELAYCLIENT=\"\"\n" }).services.smtpd.traits?.relaysEveryClient).toBe(true);
    expect(inputsOf({ ...fleetWith([mx()]), tcpRules: { [RULES]: { file: "tcp.smtp" } } }, { "tcp.smtp": "127.:allow,RELAYCLIENT=\"\"\n:allow\n" }).services.smtpd.traits?.relaysEveryClient).toBe(false);
  });

  it('counts the rule "=" (every client with a host name) while tcpserver looks names up', () => {
    const source = { "tcp.smtp": '127.:allow,RELAYCLIENT=""\n=:allow,RELAYCLIENT=""\n:allow\n' };
    const raw = (extra: Record<string, unknown>) => ({ ...fleetWith([mx({ acknowledge: ["open-relay"], ...extra })]), tcpRules: { [RULES]: { file: "tcp.smtp" } } });
    expect(inputsOf(raw({}), source).services.smtpd.traits?.relaysEveryClient).toBe(true);
    expect(inputsOf({ ...fleetWith([mx({ lookupRemoteHost: false })]), tcpRules: { [RULES]: { file: "tcp.smtp" } } }, source).services.smtpd.traits?.relaysEveryClient).toBe(false);
  });

  it("counts a rule for each first octet (0-255.) in a rules file", () => {
    const raw = { ...fleetWith([mx({ acknowledge: ["open-relay"] })]), tcpRules: { [RULES]: { file: "tcp.smtp" } } };
    expect(inputsOf(raw, { "tcp.smtp": '0-255.:allow,RELAYCLIENT=""\n:allow\n' }).services.smtpd.traits?.relaysEveryClient).toBe(true);
    expect(inputsOf(raw, { "tcp.smtp": '1-255.:allow,RELAYCLIENT=""\n:allow\n' }).services.smtpd.traits?.relaysEveryClient).toBe(false);
  });

  it("leaves relaysEveryClient out when the rules are the operator's, and flags an MX without validrcptto", () => {
    const inputs = inputsOf(fleetWith([{ name: "smtpd", preset: "mx", ip: "0", accessRules: RULES }]));
    expect(inputs.services.smtpd.traits).not.toHaveProperty("relaysEveryClient");
    expect(checkHost(inputs).map((r) => r.rule)).toEqual(["validrcptto-on-mx"]);
  });

  it("a submission service that does not force TLS breaks the submission rule", () => {
    const inputs = inputsOf(
      fleetWith([{ name: "submission", preset: "submission", ip: "0", forceTls: false, certificateFile: "/var/qmail/control/servercert.pem", auth: { method: "checkpassword", checkpasswordProgram: "/bin/checkpassword" } }]),
    );
    expect(inputs.services.submission.traits).toMatchObject({ requiresAuth: true, tls: "offered" });
    expect(checkHost(inputs).map((r) => r.rule)).toEqual(["submission-requires-auth-and-tls"]);
  });
});
