// Hosts made to match: three sandbox mailhubs with an MX and a submission
// service, the SSL key, auth.cdb, validrcptto.cdb and a tcprules cdb, driven
// through the real engine: fresh up, no-op up, cdb-only change, one restart,
// drift found and repaired, a service removed, a wrong host key, a host removed, secrets kept
// out of state.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseFleetConfig } from "../../lib/config";
import type { HostPlan } from "../../lib/host-plan";
import { planFleet } from "../../lib/plan";
import { PulumiProject } from "./pulumi-project";
import { Mailhubs, readBanner, smtpConversation, type SandboxHost } from "./sandbox";
import { extractPem } from "../pem";

const CONTROL = "/var/qmail/control";
const SUPERVISE = "/var/qmail/supervise";
const PASSWORD = "correct horse battery staple 7";
const SALT_SECRET = "e2e salt secret, at least sixteen bytes";

/** A throwaway TLS key and self-signed certificate, made for this run. */
function makeCertificate(): { key: string; certificate: string } {
  const pem = execFileSync("openssl", [
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
    "-subj", "/CN=mail.e2e.test", "-days", "2", "-keyout", "-", "-out", "-",
  ], { stdio: ["ignore", "pipe", "ignore"] }).toString();
  const key = extractPem(pem, "PRIVATE KEY");
  const certificate = extractPem(pem, "CERTIFICATE");
  return { key, certificate };
}

interface Options {
  addresses: string[];
  greetings: Record<string, string>;
  withSubmission: boolean;
  hostKeys?: Record<string, string>;
  /** Hosts left out of the config. */
  without?: string[];
}

describe("a fleet of three mailhubs kept as declared", () => {
  let hubs: Mailhubs;
  let project: PulumiProject;
  let tls: { key: string; certificate: string };
  let options: Options;

  const plainConfig = (o: Options) => ({
    ssh: { user: "root", privateKeyFile: hubs.clientKey },
    sslCertificate: tls.certificate,
    validRcptTo: { addresses: o.addresses },
    tcpRules: {
      [`${CONTROL}/tcp.smtp.cdb`]: {
        rules: [
          { address: "127.0.0.1", action: "allow", env: { RELAYCLIENT: "" } },
          { address: "127.", action: "allow", env: { RBLSMTPD: "" } },
          { address: "", action: "deny" },
        ],
      },
    },
    authUsers: [
      { user: "alice@e2e.test", password: "(set as a secret)" },
      { user: "bob@e2e.test", hash: "$6$e2esalt$N0X.1pb64mawwCaJIzxJz8yIsTbuqJpcQwCkxMZ3ddk03C1kUrfKjlHkiNFQlgNs3ZUfPeMcTMfe99YpV7Z8v0" },
    ],
    services: [
      {
        name: "smtpd",
        preset: "mx",
        maxConnections: 10,
        accessRules: `${CONTROL}/tcp.smtp.cdb`,
        validRcptTo: { cdbFile: `${CONTROL}/validrcptto.cdb` },
      },
      ...(o.withSubmission
        ? [{ name: "submission", preset: "submission", auth: { method: "cdb", cdbFile: `${CONTROL}/auth.cdb` } }]
        : []),
    ],
    hosts: hubs.hosts.filter((host) => !o.without?.includes(host.name)).map((host) => ({
      name: host.name,
      address: host.address,
      ssh: o.hostKeys?.[host.name] ? { hostKey: o.hostKeys[host.name] } : { knownHostsFile: hubs.knownHosts },
      services: [
        { name: "smtpd", ip: host.address, smtpGreeting: o.greetings[host.name] ?? `${host.name}.e2e.test` },
        ...(o.withSubmission ? [{ name: "submission", ip: host.address }] : []),
      ],
    })),
  });

  async function configure(o: Options): Promise<void> {
    options = o;
    project.writeConfig(plainConfig(o));
    await project.setSecret("sslKey", tls.key);
    await project.setSecret("saltSecret", SALT_SECRET);
    await project.run(["config", "set", "--secret", "--path", "qmail-fleet:authUsers[0].password"], { stdin: PASSWORD });
  }

  /** The plan for the current options, with the secrets in plain: what the hosts must hold. */
  function expectedPlan(): HostPlan[] {
    const raw: Record<string, unknown> = { ...plainConfig(options), sslKey: tls.key, saltSecret: SALT_SECRET };
    (raw.authUsers as Array<Record<string, unknown>>)[0].password = PASSWORD;
    const parsed = parseFleetConfig(raw);
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
    return planFleet(parsed.config).hosts;
  }

  async function hostFiles(host: SandboxHost, paths: string[]): Promise<Map<string, string>> {
    const out = await hubs.ssh(
      host,
      paths.map((p) => `printf '%s %s\\n' "$(stat -c '%U:%G:%a' ${p} 2>/dev/null || echo missing)" "$(sha256sum < ${p} 2>/dev/null | cut -d' ' -f1)"`).join("; "),
    );
    const lines = out.trim().split("\n");
    return new Map(paths.map((p, i) => [p, lines[i]]));
  }

  const declared = (file: HostPlan["files"][number]) =>
    `${file.owner}:${file.group}:${file.mode.toString(8)} ${createHash("sha256").update(file.content).digest("hex")}`;

  const acceptedLogins = (host: SandboxHost) =>
    (readFileSync(join(host.root, "sshd.log"), "utf8").match(/Accepted publickey/g) ?? []).length;
  /** Commands run on the host over SSH so far: sshd logs one session per command. */
  const commandsRun = (host: SandboxHost) =>
    (readFileSync(join(host.root, "sshd.log"), "utf8").match(/Starting session: command /g) ?? []).length;

  /** `<host> <path>` or `<host> service <name>` for each file, directory or service a preview would change. */
  const changedItems = (previewJson: string): string[] => {
    const items = new Set<string>();
    for (const step of JSON.parse(previewJson).steps ?? []) {
      if (["same", "read", "refresh"].includes(step.op)) continue;
      const host = step.urn.split("::").pop();
      for (const key of Object.keys(step.detailedDiff ?? { "(no detail)": {} })) {
        const match = /^(files|directories|services)\["([^"]+)"\]/.exec(key);
        items.add(`${host} ${match ? `${match[1] === "services" ? "service " : ""}${match[2]}` : key}`);
      }
    }
    return [...items].sort();
  };

  beforeAll(async () => {
    tls = makeCertificate();
    hubs = Mailhubs.start("e2e-fleet", 3, "127.0.0.31");
    project = new PulumiProject("fleet");
    await project.init();
    await configure({ addresses: ["postmaster@e2e.test", "@lists.e2e.test"], greetings: {}, withSubmission: true });
  });

  afterAll(() => hubs?.stop());

  it("1. fresh up: every file as declared, services up, the daemon sees what the options asked", async () => {
    await project.up();
    for (const plan of expectedPlan()) {
      const host = hubs.host(plan.name);
      const actual = await hostFiles(host, plan.files.map((f) => f.path));
      for (const file of plan.files) expect(`${file.path} ${actual.get(file.path)}`).toBe(`${file.path} ${declared(file)}`);
      for (const dir of plan.directories) {
        expect(await hubs.ssh(host, `stat -c '%U:%G:%a' ${dir.path}`)).toBe(`${dir.owner}:${dir.group}:${dir.mode.toString(8)}\n`);
      }
      expect(await readBanner(host.address, 25)).toBe(`220 ${host.name}.e2e.test ESMTP`);
      expect((await readBanner(host.address, 587)).startsWith("220 ")).toBe(true);

      const mx = await smtpConversation(host.address, 25, ["EHLO e2e", "XENV"]);
      expect(mx).toContain("250-argv[0]=/var/qmail/bin/qmail-smtpd");
      expect(mx).toContain(`250-env:SMTPGREETING=${host.name}.e2e.test`);
      expect(mx).toContain(`250-env:VALIDRCPTTO_CDB=${CONTROL}/validrcptto.cdb`);
      // Set by the tcprules cdb, read by the real tcpserver: the first rule matching the client wins.
      const client = mx.find((l) => l.startsWith("250-env:TCPREMOTEIP="))!.split("=")[1];
      expect(mx).toContain(client === "127.0.0.1" ? "250-env:RELAYCLIENT=" : "250-env:RBLSMTPD=");
      expect(mx.some((l) => l.startsWith(client === "127.0.0.1" ? "250-env:RBLSMTPD=" : "250-env:RELAYCLIENT="))).toBe(false);
      const submission = await smtpConversation(host.address, 587, ["EHLO e2e", "XENV"]);
      expect(submission).toContain(`250-env:AUTH_CDB=${CONTROL}/auth.cdb`);
      expect(submission).toContain("250-env:REQUIRE_AUTH=1");
      expect(submission).toContain("250-env:FORCE_TLS=1");
    }
  });

  it("2. second up: no changes and no SSH login at all", async () => {
    const before = hubs.hosts.map(acceptedLogins);
    const result = await project.up(["--expect-no-changes"]);
    expect(result.stdout).not.toMatch(/\b(created|updated|replaced|deleted)\b/);
    expect(hubs.hosts.map(acceptedLogins)).toEqual(before);
  });

  it("3. one address added: only validrcptto.cdb changes, nothing restarts, no health check: two commands per host", async () => {
    const uptimes = await Promise.all(hubs.hosts.map((h) => hubs.uptime(h, `${SUPERVISE}/smtpd`)));
    await configure({ ...options, addresses: [...options.addresses, "abuse@e2e.test"] });
    const preview = await project.run(["preview", "--json"]);
    expect(changedItems(preview.stdout)).toEqual(hubs.hosts.map((h) => `${h.name} ${CONTROL}/validrcptto.cdb`).sort());
    const commandsBefore = hubs.hosts.map(commandsRun);
    await project.up();
    // qmail-smtpd reads validrcptto.cdb per RCPT: the host is read, then the file staged and put in place in one
    // command. No restart, no health check (svstat, banner), no previous copy kept for a rollback.
    expect(hubs.hosts.map((h, i) => `${h.name} ${commandsRun(h) - commandsBefore[i]}`)).toEqual(hubs.hosts.map((h) => `${h.name} 2`));
    for (const host of hubs.hosts) expect(await hubs.ssh(host, `ls -A ${CONTROL}`)).not.toMatch(/qmail-fleet-(new|previous)/);
    const after = await Promise.all(hubs.hosts.map((h) => hubs.uptime(h, `${SUPERVISE}/smtpd`)));
    after.forEach((uptime, i) => expect(uptime).toBeGreaterThanOrEqual(uptimes[i]!));
    const sums = await hostFiles(hubs.hosts[0], [`${CONTROL}/validrcptto.cdb`]);
    const planned = expectedPlan()[0].files.find((f) => f.path === `${CONTROL}/validrcptto.cdb`)!;
    expect(sums.get(planned.path)).toBe(declared(planned));
  });

  it("4. one host's greeting changed: only that service restarts", async () => {
    await new Promise((r) => setTimeout(r, 2000));
    const services = hubs.hosts.flatMap((h) => [`${SUPERVISE}/smtpd`, `${SUPERVISE}/submission`].map((d) => [h, d] as const));
    const before = await Promise.all(services.map(([h, d]) => hubs.uptime(h, d)));
    await configure({ ...options, greetings: { mailhub2: "hello.e2e.test" } });
    await project.up();
    const after = await Promise.all(services.map(([h, d]) => hubs.uptime(h, d)));
    services.forEach(([h, d], i) => {
      if (h.name === "mailhub2" && d.endsWith("/smtpd")) expect(after[i]).toBeLessThan(before[i]!);
      else expect(after[i]).toBeGreaterThanOrEqual(before[i]!);
    });
    expect(await readBanner(hubs.host("mailhub2").address)).toBe("220 hello.e2e.test ESMTP");
  });

  it("5. drift: four hand edits found by preview --refresh and by qmail-fleet drift, repaired by up --refresh", async () => {
    const one = hubs.host("mailhub1");
    await hubs.ssh(one, [
      `echo '# hand edit' >> ${SUPERVISE}/smtpd/run`,
      `chmod 0644 ${CONTROL}/servercert.pem`,
      `rm ${CONTROL}/validrcptto.cdb`,
      `chown qmaild ${SUPERVISE}/submission/log/run`,
    ].join(" && "));
    const drifted = [
      `mailhub1 ${SUPERVISE}/smtpd/run`,
      `mailhub1 ${CONTROL}/servercert.pem`,
      `mailhub1 ${CONTROL}/validrcptto.cdb`,
      `mailhub1 ${SUPERVISE}/submission/log/run`,
      // The run script on disk is newer than the running smtpd: it runs something other than the file.
      "mailhub1 service smtpd",
    ].sort();

    const loginsBefore = hubs.hosts.map(acceptedLogins);
    const preview = await project.run(["preview", "--refresh", "--json"]);
    expect(changedItems(preview.stdout)).toEqual(drifted);
    // Every file of a host was read back over one shared SSH connection.
    expect(hubs.hosts.map(acceptedLogins)).toEqual(loginsBefore.map((n) => n + 1));

    const drift = project.drift();
    expect(drift.code).toBe(2);
    for (const path of [`${SUPERVISE}/smtpd/run`, `${CONTROL}/servercert.pem`, `${CONTROL}/validrcptto.cdb`, `${SUPERVISE}/submission/log/run`]) {
      expect(drift.stdout).toContain(path);
    }
    expect(drift.stdout).not.toContain(tls.key.split("\n")[1]);

    await project.up(["--refresh"]);
    const plan = expectedPlan().find((p) => p.name === "mailhub1")!;
    const actual = await hostFiles(one, plan.files.map((f) => f.path));
    for (const file of plan.files) expect(`${file.path} ${actual.get(file.path)}`).toBe(`${file.path} ${declared(file)}`);
    expect(project.drift().code).toBe(0);
  });

  it("6. a service removed: unlinked, stopped, directory gone, no supervise left", async () => {
    await configure({ ...options, withSubmission: false });
    await project.up();
    for (const host of hubs.hosts) {
      expect(await hubs.ssh(host, "ls /service")).toBe("smtpd\n");
      expect(await hubs.ssh(host, `test -e ${SUPERVISE}/submission && echo present || echo gone`)).toBe("gone\n");
      expect(await hubs.processes(host, /supervise submission|tcpserver.* 587 /)).toEqual([]);
      expect(await hubs.uptime(host, `${SUPERVISE}/smtpd`)).toBeGreaterThanOrEqual(1);
    }
  });

  it("7. a wrong host key: that host fails with a clear message and gets nothing", async () => {
    const three = hubs.host("mailhub3");
    const runBefore = await hubs.ssh(three, `sha256sum ${SUPERVISE}/smtpd/run`);
    const loginsBefore = acceptedLogins(three);
    await configure({
      ...options,
      greetings: { ...options.greetings, mailhub3: "never.e2e.test" },
      hostKeys: { mailhub3: hubs.host("mailhub1").hostKey },
    });
    const result = await project.run(["up", "--yes", "--skip-preview", "--non-interactive"], { allowFailure: true });
    expect(result.code).not.toBe(0);
    expect(result.stdout + result.stderr).toMatch(/host mailhub3 \(root@127\.0\.0\.33\) presented host key SHA256:\S+, but the key pinned for it is SHA256:/);
    expect(acceptedLogins(three)).toBe(loginsBefore);
    expect(await hubs.ssh(three, `sha256sum ${SUPERVISE}/smtpd/run`)).toBe(runBefore);
    // Back to the right key: the host catches up.
    await configure({ ...options, greetings: { ...options.greetings, mailhub3: "never.e2e.test" }, hostKeys: {} });
    await project.up();
    expect(await readBanner(three.address)).toBe("220 never.e2e.test ESMTP");
  });

  it("8. a host removed from config: what qmail-fleet put there is gone, nothing else", async () => {
    const three = hubs.host("mailhub3");
    const planned = expectedPlan().find((p) => p.name === "mailhub3")!;
    await configure({ ...options, without: ["mailhub3"] });
    await project.up();
    for (const file of planned.files) {
      expect(await hubs.ssh(three, `test -e ${file.path} && echo present || echo gone`)).toBe("gone\n");
    }
    expect(await hubs.ssh(three, "ls -A /service")).toBe("");
    expect(await hubs.processes(three, /supervise|tcpserver|multilog/)).toEqual([]);
    // No staging file or previous copy (an SSL key's, say) is left either.
    expect(await hubs.ssh(three, `find /var/qmail -name '*qmail-fleet*'`)).toBe("");
    // What the host had before qmail-fleet came stays.
    expect(await hubs.ssh(three, `cat ${CONTROL}/me; test -x /var/qmail/bin/qmail-smtpd && echo kept`)).toBe(
      "mailhub3.sandbox.test\nkept\n",
    );
    // The other hosts are untouched.
    expect(await readBanner(hubs.host("mailhub1").address)).toBe("220 mailhub1.e2e.test ESMTP");
  });

  it("9. state holds no plain SSL key, password or SSH private key", async () => {
    const exported = await project.exportState();
    const onDisk = execFileSync("sh", ["-c", `cat ${project.stateDir}/.pulumi/stacks/*/*.json*`]).toString();
    const sshKey = readFileSync(hubs.clientKey, "utf8");
    const keyBody = tls.key.split("\n")[1];
    const sshKeyBody = sshKey.split("\n")[1];
    for (const text of [exported, onDisk, readFileSync(project.stackFile, "utf8")]) {
      expect(text).not.toContain(keyBody);
      expect(text).not.toContain(PASSWORD);
      expect(text).not.toContain(SALT_SECRET);
      expect(text).not.toContain(sshKeyBody);
    }
  });
});
