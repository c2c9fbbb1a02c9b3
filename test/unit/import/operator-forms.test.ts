// Forms found on a host written by someone else: an `sh -c` chain (runit and
// daemontools in Gerrit Pape's style), multilog's size read from a file,
// variables from envdir files, a variable set inside an if block, a user id
// from the script's own function, and a validrcptto.cdb written unsorted.
// Each warning names the file and line it is about.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { buildValidRcptTo } from "../../../lib/cdb/validrcptto";
import { importHost } from "../../../lib/import/host-import";
import { DirectorySource } from "../../../lib/import/host-source";
import { RunScriptError, runScriptMeaning } from "../../../lib/import/run-script-meaning";
import { importService, ImportError } from "../../../lib/import/service-import";

const DIR = "/etc/sv/qmail-smtpd";
const ENV = { CONCURRENCY: "25", IP: "203.0.113.5", LOCALNAME: "mx.example.org", PORT: "2525" };
const facts = { envdirs: { [`${DIR}/env`]: ENV }, users: { qmaild: { uid: "7791", gid: "2108" } } };
const lines = (warnings: Array<{ file: string; line: number; message: string }>) => warnings.map((w) => `${w.file}:${w.line}: ${w.message}`);

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "qmail-fleet-operator-forms-"));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

describe("an sh -c chain", () => {
  const single = `#!/bin/sh
exec 2>&1
exec envdir ./env sh -c '
  exec softlimit -m 3000000 \\
    tcpserver -v -R -u "$(id -u qmaild)" -g "$(id -g qmaild)" -l "$LOCALNAME" \\
      -c "$CONCURRENCY" -x /etc/tcp.smtp.cdb "\${IP-0}" "\${PORT-25}" \\
      /var/qmail/bin/qmail-smtpd
'
`;

  it("is read through: the server, its options from the envdir files, qmail-smtpd", () => {
    const imported = importService({ name: "qmail-smtpd", dir: DIR, run: single, facts });
    expect(imported.fields).toMatchObject({ ip: "203.0.113.5", port: 2525, maxConnections: 25, localHostName: "mx.example.org", accessRules: "/etc/tcp.smtp.cdb" });
    const warnings = lines(imported.warnings);
    // The softlimit line is the script's line 2, the file's line 4.
    expect(warnings).toContain(`${DIR}/run:4: softlimit -m 3000000 before the server: no option for it; the rendered script runs the server directly`);
    expect(warnings.find((w) => w.startsWith(`${DIR}/env/PORT:1: PORT=2525: the \`sh -c\` script reads it`))).toBeDefined();
    expect(warnings.join("\n")).not.toMatch(/not an SMTP service/);
  });

  it("is read in double quotes too, the outer script's variables put in", () => {
    const run = `#!/bin/sh
exec 2>&1
QMAIL=/var/qmail
exec envdir ./env sh -c "exec tcpserver -v -R -u 7791 -g 2108 -c \\"\\$CONCURRENCY\\" -x $QMAIL/control/tcp.smtp.cdb 0 25 $QMAIL/bin/qmail-smtpd"
`;
    const meaning = runScriptMeaning(run, { serviceDir: DIR, facts });
    expect(meaning.chain.map((stage) => stage.program.segments.join(""))).toEqual(["envdir", "tcpserver", "/var/qmail/bin/qmail-smtpd"]);
  });

  it("Pape's own: case blocks on envdir values run as the shell runs them, ${NAME+word} read", () => {
    const run = fs.readFileSync(path.join(__dirname, "pape-run"), "utf8");
    const env = { ...ENV, DATALIMIT: "7000000", REMOTENAME: "p", REMOTEINFO: "30" };
    const imported = importService({ name: "qmail-smtpd", dir: DIR, run, facts: { ...facts, envdirs: { [`${DIR}/env`]: env } } });
    const tcpserver = imported.meaning.chain.find((stage) => stage.operands)!;
    // REMOTENAME=p gives -p, REMOTEINFO=30 gives -t30; BACKLOG is not set, so no -b.
    expect([...tcpserver.options!.keys()]).toEqual(["D", "U", "c", "l", "p", "t", "v", "x"]);
    expect(imported.fields).toMatchObject({ ip: "203.0.113.5", port: 2525, maxConnections: 25, localHostName: "mx.example.org", accessRules: `${DIR}/tcp.cdb` });
    const warnings = lines(imported.warnings);
    expect(warnings.filter((w) => /case block|depend on the host/.test(w))).toEqual([]);
    expect(warnings).toContain(`${DIR}/run:6: softlimit -d 7000000 before the server: no option for it; the rendered script runs the server directly`);
    expect(warnings).toContain(`${DIR}/run:6: tcpserver -t 30: no option for it; the rendered script runs tcpserver without it (leave the service out of the config if it needs it)`);
  });

  it("a case block on a subject only the host knows stays unevaluated, and its variables unknown", () => {
    const run = fs.readFileSync(path.join(__dirname, "pape-run"), "utf8").replace('case "$REMOTENAME"', "case `hostname`");
    const imported = importService({ name: "qmail-smtpd", dir: DIR, run, facts });
    expect(lines(imported.warnings)).toContain(`${DIR}/run:4: a case block: not evaluated; not carried over: case \`hostname\` in h) H=;; p) H=p;; *) H=H;; esac`);
    expect(lines(imported.warnings).find((w) => w.includes("tcpserver flags $(H as set at line 4)"))).toBeDefined();
  });

  it("runit's svlogd log is named as the logger it is, once", () => {
    const imported = importService({ name: "qmail-smtpd", dir: DIR, run: single, logRun: "#!/bin/sh\nexec chpst -ulog svlogd -tt ./main\n", facts });
    expect(lines(imported.warnings).filter((w) => w.startsWith(`${DIR}/log/run:`))).toEqual([
      `${DIR}/log/run:2: the log runs chpst -ulog svlogd -tt ./main, not multilog: the rendered log script runs multilog as the log user into ./main, with the log options at their defaults; set log by hand`,
    ]);
  });

  it("where it cannot be read, says so by line, and never that the service is not SMTP", () => {
    const run = `#!/bin/sh
exec 2>&1
exec envdir ./env sh -c '
  exec tcpserver -v "\${IP#x}" 25 /var/qmail/bin/qmail-smtpd
'
`;
    const read = () => runScriptMeaning(run, { serviceDir: DIR, facts });
    expect(read).toThrow(RunScriptError);
    try {
      read();
    } catch (error) {
      expect((error as RunScriptError).line).toBe(4);
      expect((error as Error).message).toMatch(/^line 4: the `sh -c` script is not read \(.*line 4.*\): import this service by hand$/);
    }
  });

  it("a chain through a program this reading does not follow is not called something other than SMTP", () => {
    const run = "#!/bin/sh\nexec 2>&1\nexec chpst -u qmaild /usr/local/bin/smtp-wrapper /var/qmail/bin/qmail-smtpd\n";
    expect(() => importService({ name: "smtpd", dir: "/service/smtpd", run })).toThrow(ImportError);
    expect(() => importService({ name: "smtpd", dir: "/service/smtpd", run })).toThrow(/names qmail-smtpd: it starts the server in a way this import does not follow; import this service by hand/);
  });
});

describe("variables from envdir files", () => {
  it("are warned at their file, not at the envdir line", () => {
    const run = "#!/bin/sh\nexec 2>&1\nexec envdir ./env tcpserver -v -R -u 7791 -g 2108 0 25 /var/qmail/bin/qmail-smtpd\n";
    const imported = importService({ name: "smtpd", dir: "/var/qmail/supervise/smtpd", run, facts: { envdirs: { "/var/qmail/supervise/smtpd/env": { SMTPAUTH: "1" } } } });
    expect(lines(imported.warnings)).toContain("/var/qmail/supervise/smtpd/env/SMTPAUTH:1: SMTPAUTH=1: no option for it; the rendered script does not set it, so qmail-smtpd and what it starts no longer get it (leave the service out of the config if it needs it)");
  });
});

describe("multilog's size from a file", () => {
  const run = "#!/bin/sh\nexec 2>&1\nexec tcpserver -v -R -u 7791 -g 2108 0 25 /var/qmail/bin/qmail-smtpd\n";
  const logRun = "#!/bin/sh\nLOGSIZE=`cat /var/qmail/control/logsize 2>/dev/null || echo 3000000`\nexec setuidgid qmaill multilog t s$LOGSIZE n20 ./main\n";
  const log = (facts: object) => importService({ name: "smtpd", dir: "/var/qmail/supervise/smtpd", run, logRun, facts }).fields.log as Record<string, unknown>;

  it("is the file's number when the host has the file", () => {
    expect(log({ files: { "/var/qmail/control/logsize": "2000000\n" } }).maxFileSize).toBe(2000000);
  });

  it("is the script's fallback when the host has no such file", () => {
    expect(log({ absentFiles: ["/var/qmail/control/logsize"] }).maxFileSize).toBe(3000000);
  });

  it("is assumed, and said so by line with the value, when the file was not read", () => {
    const imported = importService({ name: "smtpd", dir: "/var/qmail/supervise/smtpd", run, logRun });
    expect((imported.fields.log as Record<string, unknown>).maxFileSize).toBe(3000000);
    expect(lines(imported.warnings)).toContain(
      "/var/qmail/supervise/smtpd/log/run:3: multilog s$(cat /var/qmail/control/logsize || echo 3000000): /var/qmail/control/logsize was not read; the import assumed log.maxFileSize 3000000 (the script's fallback): check the value on the host and set log.maxFileSize by hand if it differs",
    );
  });

  it("is read from the host copy, relative to the log directory", async () => {
    const root = path.join(scratch, "logsize");
    const dir = path.join(root, "var/qmail/supervise/smtpd");
    fs.mkdirSync(path.join(dir, "log"), { recursive: true });
    fs.mkdirSync(path.join(root, "service"), { recursive: true });
    fs.writeFileSync(path.join(dir, "run"), run);
    fs.writeFileSync(path.join(dir, "log/run"), "#!/bin/sh\nexec setuidgid qmaill multilog t s$(cat ./logsize 2>/dev/null) ./main\n");
    fs.writeFileSync(path.join(dir, "log/logsize"), "4000000\n");
    fs.symlinkSync("/var/qmail/supervise/smtpd", path.join(root, "service/smtpd"));
    const result = await importHost(new DirectorySource(root), { hostName: "mx1", address: "192.0.2.25", hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKREcv9w/RBTq8tGL0tCpFgM07bu1UoHQJLyD4sT+RgM" });
    const service = (result.raw.hosts as Array<{ services: Array<{ log: { maxFileSize: number } }> }>)[0].services[0];
    expect(service.log.maxFileSize).toBe(4000000);
    expect(lines(result.warnings).filter((w) => w.includes("multilog s"))).toEqual([]);
  });
});

describe("an if block that sets a variable", () => {
  it("is named a conditional variable assignment, with the line, the variable and the value assumed", () => {
    const run = `#!/bin/sh
exec 2>&1
if [ -f /var/qmail/control/validrcptto.cdb ]; then
  VALIDRCPTTO_CDB=/var/qmail/control/validrcptto.cdb; export VALIDRCPTTO_CDB
fi
exec tcpserver -v -R -u 7791 -g 2108 0 25 /var/qmail/bin/qmail-smtpd
`;
    const imported = importService({ name: "smtpd", dir: "/var/qmail/supervise/smtpd", run });
    const warning = lines(imported.warnings).find((w) => w.startsWith("/var/qmail/supervise/smtpd/run:3: "));
    expect(warning).toBe(
      "/var/qmail/supervise/smtpd/run:3: an if block that sets VALIDRCPTTO_CDB (a conditional variable assignment): its condition is not evaluated (if [ -f /var/qmail/control/validrcptto.cdb ]; then); the import assumed the condition holds, so VALIDRCPTTO_CDB=/var/qmail/control/validrcptto.cdb (exported); if it does not hold on the host, change the imported option by hand",
    );
    expect(imported.fields.validRcptTo).toEqual({ cdbFile: "/var/qmail/control/validrcptto.cdb" });
  });

  it("a block that only checks is still a start-up check", () => {
    const run = "#!/bin/sh\nexec 2>&1\nif [ ! -f /var/qmail/control/rcpthosts ]; then\n  exit 1\nfi\nexec tcpserver -v -R -u 7791 -g 2108 0 25 /var/qmail/bin/qmail-smtpd\n";
    const imported = importService({ name: "smtpd", dir: "/var/qmail/supervise/smtpd", run });
    expect(lines(imported.warnings)).toContain("/var/qmail/supervise/smtpd/run:3: an if block (start-up check): not evaluated; not carried over: if [ ! -f /var/qmail/control/rcpthosts ]; then");
  });
});

describe("the user id from a command", () => {
  const run = (uid: string) => `#!/bin/sh\nexec 2>&1\ngetuid() { id -u "$1"; }\nexec tcpserver -v -R ${uid} -g$(id -g qmaild) 0 25 /var/qmail/bin/qmail-smtpd\n`;
  const accounts = { qmaild: { uid: "7791", gid: "2108" } };

  it("-u`getuid qmaild`, glued: the command is not run, and the message says so", () => {
    const imported = importService({ name: "smtpd", dir: "/var/qmail/supervise/smtpd", run: run("-u`getuid qmaild`"), accounts });
    expect(imported.fields.user).toBeUndefined();
    expect(lines(imported.warnings)).toContain(
      "/var/qmail/supervise/smtpd/run:4: -u $(getuid qmaild): the user id comes from a command the import does not run (getuid is no id lookup it knows): set user by hand (qmaild, if that is whose id it gives)",
    );
  });

  it("-u$(id -u qmaild), glued or apart, is user qmaild", () => {
    for (const form of ["-u$(id -u qmaild)", "-u `id -u qmaild`"]) {
      const imported = importService({ name: "smtpd", dir: "/var/qmail/supervise/smtpd", run: run(form), accounts });
      expect(imported.fields.user ?? "qmaild", form).toBe("qmaild");
      expect(lines(imported.warnings).filter((w) => w.includes("run:4: -u")), form).toEqual([]);
    }
  });
});

describe("a validrcptto.cdb written unsorted", () => {
  it("is imported with a note that pulumi up replaces it with the sorted build of the same addresses", async () => {
    const root = path.join(scratch, "unsorted");
    const dir = path.join(root, "var/qmail/supervise/smtpd");
    fs.mkdirSync(dir, { recursive: true });
    fs.mkdirSync(path.join(root, "service"), { recursive: true });
    fs.mkdirSync(path.join(root, "var/qmail/control"), { recursive: true });
    fs.writeFileSync(path.join(dir, "run"), "#!/bin/sh\nexec 2>&1\nVALIDRCPTTO_CDB=/var/qmail/control/validrcptto.cdb\nexport VALIDRCPTTO_CDB\nexec tcpserver -v -R -u 7791 -g 2108 0 25 /var/qmail/bin/qmail-smtpd\n");
    fs.symlinkSync("/var/qmail/supervise/smtpd", path.join(root, "service/smtpd"));
    const cdbFile = path.join(root, "var/qmail/control/validrcptto.cdb");
    const hostKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKREcv9w/RBTq8tGL0tCpFgM07bu1UoHQJLyD4sT+RgM";
    const note = (result: Awaited<ReturnType<typeof importHost>>) => lines(result.warnings).filter((w) => w.startsWith("/var/qmail/control/validrcptto.cdb:"));

    // tinycdb's cdb -c, from a list in no order.
    const unsorted = ["zoe@example.com", "alice@example.com", "@example.net", "bob@example.com"];
    execFileSync("cdb", ["-c", cdbFile], { input: unsorted.map((a) => `+${Buffer.byteLength(a)},0:${a}->\n`).join("") + "\n" });
    const result = await importHost(new DirectorySource(root), { hostName: "mx1", address: "192.0.2.25", hostKey });
    expect(note(result)).toEqual([
      "/var/qmail/control/validrcptto.cdb:0: its keys are not in the order qmail-fleet writes them (a cdb built from an unsorted list, e.g. with cdb -c): the config rebuilds it from mx1-validrcptto.txt in sorted order; same 4 addresses, other bytes, so pulumi up replaces the file",
    ]);
    const list = result.sideFiles.find((f) => f.name === "mx1-validrcptto.txt")!.bytes.toString("utf8");
    expect(list.split("\n").filter(Boolean).sort()).toEqual([...unsorted].sort());

    // The same addresses as qmail-fleet builds them: nothing to say.
    fs.writeFileSync(cdbFile, buildValidRcptTo(unsorted));
    expect(note(await importHost(new DirectorySource(root), { hostName: "mx1", address: "192.0.2.25", hostKey }))).toEqual([]);
  });
});
