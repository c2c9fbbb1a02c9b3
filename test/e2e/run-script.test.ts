// Issue 3 acceptance on the real engine: the run script of a maximal service,
// run by the real svscan, tcpserver, rblsmtpd and recordio of a sandbox
// mailhub, starts a service whose SMTP test double reports exactly the argv
// and environment the options ask for.
//
// Left out because they cannot run here:
//   - ssl (sslserver): ucspi-ssl is not packaged in Debian, so an SSL-wrapped
//     service (and its SSL, CERTFILE, KEYFILE, keyFile) cannot start.
//   - jgreylist: no package exists and a stand-in is not allowed.
//   - forceTls: recordio needs denyTls, and forceTls with denyTls is refused.
//   - qmailQueue and qmailScanner: both conflict with simscan (one QMAILQUEUE),
//     and simscan sets more variables.
//   - auth.cdbFile: the checkpassword method is used, which forbids it.
//   - rblsmtpd.override (RBLSMTPD): any value makes rblsmtpd skip the lists,
//     and the lists are what this test wants consulted.
//   - rblsmtpd.blockOnDnsFailure (-c): with it a failed block-list lookup
//     refuses the client with a 451, so the session would depend on the
//     network's resolver; it stays at its default (let the client in).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseFleetConfig, formatIssues, type HostConfig, type ServiceConfig } from "../../lib/config";
import { renderRunScript } from "../../lib/render/run-script";
import { programFlags, sectionExports } from "../../lib/render/option-values";
import { allOptions, OPTION_SECTIONS } from "../../lib/schema/catalog";
import { Mailhubs, readBanner, smtpConversation, type SandboxHost } from "./sandbox";
import { PulumiProject } from "./pulumi-project";

const ADDRESS = "127.0.0.41";
const PORT = 2525;
const SERVICE_DIR = "/var/qmail/supervise/smtpd";
const TCPRULES_CDB = "/var/qmail/control/tcp.smtp.cdb";
const VALIDRCPTTO_CDB = "/var/qmail/control/validrcptto.cdb";
const LOCAL = "mx.run-script.e2e.test";

/** Every option that can really run in the sandbox, set to a non-default value where it has one. */
function maximalService(): Record<string, unknown> {
  return {
    name: "smtpd",
    // basic
    path: "/var/qmail/bin:/usr/bin:/bin",
    user: "qmaild",
    group: "nofiles",
    localHostName: LOCAL,
    // tcpserver
    ip: ADDRESS,
    port: PORT,
    certificateFile: "/var/qmail/control/servercert.pem",
    verbose: true,
    lookupRemoteHost: false,
    // true is tcpserver's own default (-r), so no flag is written; the ident
    // lookup of the loopback client is refused at once.
    lookupRemoteInfo: true,
    accessRules: TCPRULES_CDB,
    maxConnections: 7,
    backlog: 13,
    // the tcpserver limits patch: stock tcpserver ignores these, the daemon still sees them
    limits: {
      maxLoad: 750,
      maxConnectionsPerIp: 5,
      maxConnectionsPerClassC: 15,
      dieMessage: "421 $LOCAL: it's busy, try later",
      dieMessageMaxLoad: "421 Server busy, try again later.",
      dieMessageMaxConnectionsPerIp: "421 Too many connections from your IP.",
      dieMessageMaxConnectionsPerClassC: "421 Too many connections from your network.",
    },
    // Real lookups of the client (127.0.0.1) in .invalid zones, which list
    // nobody (RFC 6761): the resolver answers NXDOMAIN and rblsmtpd runs the
    // rest of the chain; if it failed instead, rblsmtpd's default (-C) still
    // lets the client in. -t is how long rblsmtpd talks to a refused client,
    // not a DNS timeout (ucspi-tcp rblsmtpd.c).
    rblsmtpd: {
      program: "/usr/bin/rblsmtpd",
      permanentReject: true,
      timeout: 5,
      allowLists: ["allow.e2e.invalid"],
      blockLists: ["block-one.e2e.invalid", "block-two.e2e.invalid"],
    },
    recordio: { program: "/usr/bin/recordio" },
    // /bin/true as checkpassword (the test double checks nothing) and recordio
    // with AUTH are hazards: acknowledged here, as an operator would have to.
    acknowledge: ["any-password", "passwords-in-log"],
    // qmail-smtpd
    smtpGreeting: `${LOCAL} run-script`,
    greetDelay: 15,
    dropPreGreet: true,
    denyTls: true,
    tlsCiphers: "HIGH:!aNULL:!MD5",
    mfCheck: 3,
    relayReject: true,
    logMail: true,
    logRcpt: true,
    helpVersion: true,
    dataBytes: 20971520,
    maxRcpt: 100,
    auth: {
      method: "checkpassword",
      checkpasswordProgram: "/bin/true",
      trueProgram: "/usr/bin/true",
      require: true,
      allowInsecure: true,
      allowCram: true,
      set: { RELAYCLIENT: "", SPFBEHAVIOR: "1" },
      unset: ["VALIDRCPTTO_CDB", "GREETDELAY"],
    },
    validRcptTo: { cdbFile: VALIDRCPTTO_CDB, limit: 0, log: 2 },
    spf: { behavior: 3, log: true, blockPlusAll: true },
    domainKeys: { verify: "DEGIJKfh", sign: "/etc/domainkeys/%/default" },
    simscan: { noP0fCheck: true, debug: 2, debugFiles: 1 },
    log: { user: "qmaill", group: "nofiles", program: "/usr/bin/multilog", timestamps: true, maxFileSize: 500000, maxFiles: 5 },
  };
}

function fleetConfig(hubs: Mailhubs): Record<string, unknown> {
  const [host] = hubs.hosts;
  return {
    ssh: { user: "root", privateKeyFile: hubs.clientKey },
    // A variable that only the tcprules cdb sets: proves tcpserver -x read it.
    tcpRules: { [TCPRULES_CDB]: { rules: [{ address: "127.", action: "allow", env: { E2E_TCPRULES: "matched" } }] } },
    validRcptTo: { addresses: ["postmaster@run-script.e2e.test"] },
    hosts: [{ name: host.name, address: host.address, ssh: { knownHostsFile: hubs.knownHosts }, services: [maximalService()] }],
  };
}

/** Names the option table (and the renderer's own additions) can export: exact names and NAME_* prefixes. */
function optionEnvUniverse(): { exact: Set<string>; prefixes: string[] } {
  const exact = new Set<string>();
  const prefixes: string[] = [];
  for (const { descriptor } of allOptions()) {
    const becomes = descriptor.becomes;
    if (!("env" in becomes)) continue;
    if (becomes.env.endsWith("*")) prefixes.push(becomes.env.slice(0, -1));
    else exact.add(becomes.env);
  }
  // Exported by lib/render/run-script.ts (sectionExtras) from script-shaped options.
  for (const name of ["SSL", "CERTFILE", "KEYFILE", "TLS_SERVER_CERT"]) exact.add(name);
  return { exact, prefixes };
}

/** What the options ask the daemon's environment to hold, from the option table. */
function expectedEnvironment(service: ServiceConfig): Map<string, string> {
  const expected = new Map<string, string>();
  const add = (name: string, value: string) => {
    if (expected.has(name) && expected.get(name) !== value)
      throw new Error(`${name} exported twice with different values: ${expected.get(name)} and ${value}`);
    expected.set(name, value);
  };
  for (const section of OPTION_SECTIONS) for (const [name, value] of sectionExports(section, service)) add(name, value);
  // The renderer's one extra of a plain TCP service: STARTTLS certificate for qmail-smtpd.
  if (!service.ssl && service.certificateFile) add("TLS_SERVER_CERT", service.certificateFile);
  return expected;
}

/** `export NAME=value` lines of a rendered run script, values unquoted. */
function scriptExports(script: string): Map<string, string> {
  const exports = new Map<string, string>();
  for (const line of script.split("\n")) {
    const match = /^export ([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!match) continue;
    const word = match[2];
    const value = word.startsWith("'") ? word.slice(1, -1).replace(/'\\''/g, "'") : word;
    exports.set(match[1], value);
  }
  return exports;
}

/** The XENV report of the test double: argv in order and the environment. */
function parseXenv(lines: string[]): { argv: string[]; env: Map<string, string> } {
  const argv: string[] = [];
  const env = new Map<string, string>();
  for (const line of lines) {
    const arg = /^250-argv\[(\d+)\]=(.*)$/.exec(line);
    if (arg) argv[Number(arg[1])] = arg[2];
    const pair = /^250-env:([^=]+)=(.*)$/.exec(line);
    if (pair) env.set(pair[1], pair[2]);
  }
  return { argv, env };
}

async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe("run script of a maximal service on the real engine, svscan, tcpserver and rblsmtpd", () => {
  let hubs: Mailhubs;
  let project: PulumiProject;
  let sandboxHost: SandboxHost;
  let host: HostConfig;
  let service: ServiceConfig;
  let destroyed = false;

  beforeAll(async () => {
    hubs = Mailhubs.start("e2e-run-script", 1, ADDRESS);
    sandboxHost = hubs.hosts[0];
    project = new PulumiProject("run-script");
    await project.init();
    project.writeConfig(fleetConfig(hubs));

    // The same parse the Pulumi program does, for the expected values.
    const parsed = parseFleetConfig(fleetConfig(hubs));
    if (!parsed.ok) throw new Error(`the maximal config does not parse:\n${formatIssues(parsed.errors)}`);
    host = parsed.config.hosts[0];
    service = host.services[0];
  });

  afterAll(async () => {
    try {
      if (project && !destroyed) await project.run(["destroy", "--yes", "--skip-preview", "--non-interactive"], { allowFailure: true });
    } finally {
      hubs?.stop();
    }
  });

  it("up: the service runs and answers with its greeting", async () => {
    const result = await project.up();
    expect(result.stdout).toMatch(/created/);
    await eventually("the service to be up", async () => ((await hubs.uptime(sandboxHost, `/service/${service.name}`)) !== undefined ? true : undefined));
    expect(await readBanner(ADDRESS, PORT)).toBe(`220 ${LOCAL} run-script ESMTP`);
  });

  it("the run script on the host is the renderer's, and exports exactly what the option table asks for", async () => {
    const onHost = await hubs.ssh(sandboxHost, `cat ${SERVICE_DIR}/run`);
    const rendered = renderRunScript(service, host);
    expect(onHost).toBe(rendered);
    expect(scriptExports(rendered)).toEqual(expectedEnvironment(service));
    // The exec chain: tcpserver, rblsmtpd, recordio, qmail-smtpd LOCAL CHECKPW TRUE.
    expect(rendered).toContain(
      [
        "exec tcpserver -v -H -x /var/qmail/control/tcp.smtp.cdb -c 7 -b 13 -l \"$LOCAL\" -u \"$QMAILDUID\" -g \"$NOFILESGID\" 127.0.0.41 2525 \\",
        "    /usr/bin/rblsmtpd -b -t 5 -a allow.e2e.invalid -r block-one.e2e.invalid -r block-two.e2e.invalid \\",
        "    /usr/bin/recordio \\",
        "    /var/qmail/bin/qmail-smtpd \"$LOCAL\" /bin/true /usr/bin/true",
      ].join("\n"),
    );
  });

  it("XENV: the double's argv is qmail-smtpd and the checkpassword arguments, nothing else", async () => {
    const lines = await smtpConversation(ADDRESS, PORT, ["EHLO client.e2e.test", "XENV"]);
    expect(lines[0]).toBe(`220 ${LOCAL} run-script ESMTP`);
    expect(lines).toContain("250 end of XENV");
    const { argv } = parseXenv(lines);
    expect(argv).toEqual([service.smtpdProgram, service.localHostName, service.auth.checkpasswordProgram, service.auth.trueProgram]);
    // Spot check, independent of the schema's defaults.
    expect(argv).toEqual(["/var/qmail/bin/qmail-smtpd", LOCAL, "/bin/true", "/usr/bin/true"]);
  });

  it("XENV: the environment holds every option variable with its exact value, and no other option variable", async () => {
    const lines = await smtpConversation(ADDRESS, PORT, ["EHLO client.e2e.test", "XENV"]);
    const { env } = parseXenv(lines);
    const expected = expectedEnvironment(service);

    // A broken table must not make this vacuous.
    expect(expected.size).toBeGreaterThanOrEqual(40);
    const spotChecks: Record<string, string> = {
      PATH: "/var/qmail/bin:/usr/bin:/bin",
      MAXCONNIP: "5",
      DIEMSG: "421 $LOCAL: it's busy, try later",
      SMTPGREETING: `${LOCAL} run-script`,
      DENY_TLS: "1",
      TLS_SERVER_CERT: "/var/qmail/control/servercert.pem",
      AUTH_SET_RELAYCLIENT: "",
      AUTH_UNSET_VALIDRCPTTO_CDB: "1",
      VALIDRCPTTO_CDB: VALIDRCPTTO_CDB,
      VALIDRCPTTO_LIMIT: "0",
      SPFBEHAVIOR: "3",
      DOMAINKEYS: "1",
      DKSIGN: "/etc/domainkeys/%/default",
      QMAILQUEUE: "/var/qmail/bin/simscan",
      NOP0FCHECK: "1",
      SIMSCAN_DEBUG_FILES: "1",
    };
    for (const [name, value] of Object.entries(spotChecks)) {
      expect(expected.get(name), `expected ${name}`).toBe(value);
      expect(env.get(name), `daemon's ${name}`).toBe(value);
    }

    // Every variable the options set, exactly.
    const reported = Object.fromEntries([...expected.keys()].map((name) => [name, env.get(name)]));
    expect(reported).toEqual(Object.fromEntries(expected));

    // No variable the option table can produce unless the config set it.
    const universe = optionEnvUniverse();
    expect(universe.exact).toContain("JGREYLIST_DIR");
    expect(universe.exact).toContain("RBLSMTPD");
    expect(universe.prefixes).toContain("AUTH_SET_");
    for (const name of expected.keys())
      expect(universe.exact.has(name) || universe.prefixes.some((p) => name.startsWith(p)), `${name} is an option variable`).toBe(true);
    const unasked = [...env.keys()].filter(
      (name) => (universe.exact.has(name) || universe.prefixes.some((p) => name.startsWith(p))) && !expected.has(name),
    );
    expect(unasked).toEqual([]);
    for (const name of ["RBLSMTPD", "JGREYLIST", "JGREYLIST_DIR", "FORCE_TLS", "SSL", "CERTFILE", "KEYFILE", "AUTH_CDB"])
      expect(env.has(name), `${name} must not be set`).toBe(false);

    // What the real tcpserver added: -l, the port, and the tcprules cdb (-x).
    expect(env.get("TCPLOCALHOST")).toBe(LOCAL);
    expect(env.get("TCPLOCALIP")).toBe(ADDRESS);
    expect(env.get("TCPLOCALPORT")).toBe(String(PORT));
    expect(env.get("E2E_TCPRULES")).toBe("matched");
    // -H: no remote host name lookup.
    expect(env.has("TCPREMOTEHOST")).toBe(false);
  });

  it("the real tcpserver runs with the flags, listen backlog and limits the options ask for", async () => {
    const uid = (await hubs.ssh(sandboxHost, `id -u ${service.user}`)).trim();
    const gid = (await hubs.ssh(sandboxHost, `id -g ${service.user}`)).trim();
    const servers = await hubs.processes(sandboxHost, /^\d+ tcpserver /);
    expect(servers).toHaveLength(1);
    const argv = servers[0].split(/\s+/).slice(1);
    // tcpserver's command line is the whole chain it runs for each connection.
    expect(argv).toEqual([
      "tcpserver", ...programFlags("tcpserver", service), "-l", LOCAL, "-u", uid, "-g", gid, ADDRESS, String(PORT),
      service.rblsmtpd!.program, ...programFlags("rblsmtpd", service),
      service.recordio!.program,
      service.smtpdProgram, LOCAL, service.auth.checkpasswordProgram, service.auth.trueProgram,
    ]);
    expect(servers[0]).toContain(" -c 7 -b 13 ");
    expect(servers[0]).toContain(` -x ${TCPRULES_CDB} `);

    // The kernel's view of -b: a listening socket's Send-Q is its backlog.
    const listening = await hubs.ssh(sandboxHost, `ss -Hltn src ${ADDRESS}:${PORT}`);
    expect(listening.trim().split(/\s+/)[2]).toBe("13");

    // tcpserver -v logs "status: N/7": the -c limit it runs with. recordio logs the client's XENV.
    await smtpConversation(ADDRESS, PORT, ["EHLO client.e2e.test", "XENV"]);
    const log = await eventually("recordio and tcpserver lines in the log", async () => {
      const text = await hubs.ssh(sandboxHost, `cat ${SERVICE_DIR}/log/main/current`);
      return / \d+ < XENV/.test(text) && /tcpserver: status: \d+\/7/.test(text) ? text : undefined;
    });
    expect(log).toMatch(/tcpserver: status: \d+\/7/);
    expect(log).toMatch(/ \d+ > 250 end of XENV/);
  });

  it("multilog runs with the log options, and log/main belongs to the log user", async () => {
    const loggers = await hubs.processes(sandboxHost, /^\d+ \/usr\/bin\/multilog /);
    expect(loggers).toHaveLength(1);
    expect(loggers[0].split(/\s+/).slice(1)).toEqual(["/usr/bin/multilog", ...programFlags("multilog", service), "./main"]);
    expect(loggers[0]).toMatch(/ t s500000 n5 \.\/main$/);
    expect((await hubs.ssh(sandboxHost, `stat -c '%U:%G %a' ${SERVICE_DIR}/log/main`)).trim()).toBe("qmaill:nofiles 750");
    expect(await hubs.ssh(sandboxHost, `test -s ${VALIDRCPTTO_CDB} && test -s ${TCPRULES_CDB} && echo present`)).toBe("present\n");
  });

  it("destroy: the service is unlinked and stopped", async () => {
    await project.run(["destroy", "--yes", "--skip-preview", "--non-interactive"]);
    destroyed = true;
    expect(await hubs.ssh(sandboxHost, "ls -A /service")).toBe("");
    expect(await hubs.processes(sandboxHost, /supervise|tcpserver|multilog/)).toEqual([]);
  });
});
