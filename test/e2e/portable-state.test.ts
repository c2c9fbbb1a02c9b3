// A stack deployed from one checkout and then refreshed, drift-checked,
// repaired and destroyed from another: a fresh clone at another path with only
// the production dependencies installed, sharing the state backend. Then a
// state that stays small with a 200,000-address validrcptto list.
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildWithTinycdb } from "../unit/cdb/debian-tools";
import { PulumiProject } from "./pulumi-project";
import { Mailhubs, readBanner, REPO } from "./sandbox";

const SUPERVISE = "/var/qmail/supervise";
const CONTROL = "/var/qmail/control";

/** A clone of this repository's committed HEAD at `dir`, installed as a user would. */
function cloneAt(dir: string, install: "npm ci" | "npm ci --omit=dev"): void {
  execFileSync("git", ["clone", "--quiet", "--no-hardlinks", REPO, dir]);
  execFileSync("sh", ["-c", `${install} --no-audit --no-fund --prefer-offline`], { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
}

function stackConfig(hubs: Mailhubs, greeting: (host: string) => string, validRcptTo: Record<string, unknown>) {
  return {
    ssh: { user: "root", privateKeyFile: hubs.clientKey },
    validRcptTo,
    services: [{ name: "smtpd", preset: "mx", validRcptTo: { cdbFile: `${CONTROL}/validrcptto.cdb` } }],
    hosts: hubs.hosts.map((host) => ({
      name: host.name,
      address: host.address,
      ssh: { knownHostsFile: hubs.knownHosts },
      services: [{ name: "smtpd", ip: host.address, smtpGreeting: greeting(host.name) }],
    })),
  };
}

describe("a stack kept from any checkout", () => {
  let hubs: Mailhubs;
  let work: string;
  let stateDir: string;

  beforeAll(() => {
    hubs = Mailhubs.start("e2e-portable", 2, "127.0.0.91");
    work = mkdtempSync(join(tmpdir(), "qmail-fleet-checkouts-"));
    stateDir = join(work, "backend");
  });

  afterAll(() => {
    hubs?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("deploys from checkout A, then A is deleted; a clone B (production dependencies only) refreshes, finds and repairs drift, and destroys", async () => {
    const a = join(work, "checkout-a");
    cloneAt(a, "npm ci");
    const fromA = new PulumiProject("portable-a", "portable", { dir: a, stateDir });
    await fromA.init();
    fromA.writeConfig(stackConfig(hubs, (h) => `${h}.portable.test`, { addresses: ["postmaster@portable.test"] }));
    await fromA.up();
    for (const host of hubs.hosts) expect(await readBanner(host.address)).toBe(`220 ${host.name}.portable.test ESMTP`);

    // Nothing in state names the checkout it was deployed from.
    const exported = await fromA.exportState();
    expect(exported).not.toContain(a);
    expect(exported).not.toContain(REPO);
    const stackFile = join(work, "Pulumi.portable.yaml");
    copyFileSync(fromA.stackFile, stackFile);
    rmSync(a, { recursive: true, force: true });

    const b = join(work, "elsewhere", "checkout-b");
    cloneAt(b, "npm ci --omit=dev");
    expect(() => execFileSync("node", ["-e", "require.resolve('vitest')"], { cwd: b, stdio: "ignore" })).toThrow();
    copyFileSync(stackFile, join(b, "Pulumi.portable.yaml"));
    const fromB = new PulumiProject("portable-b", "portable", { dir: b, stateDir });

    const clean = await fromB.run(["preview", "--refresh", "--expect-no-changes", "--non-interactive"]);
    expect(clean.code).toBe(0);
    expect(fromB.drift()).toMatchObject({ code: 0 });

    const one = hubs.host("mailhub1");
    await hubs.ssh(one, `sed -i 's/mailhub1.portable.test/hand.edit/' ${SUPERVISE}/smtpd/run && svc -t ${SUPERVISE}/smtpd`);
    const drifted = await fromB.run(["preview", "--refresh", "--expect-no-changes", "--non-interactive", "--diff"], { allowFailure: true });
    expect(drifted.code).not.toBe(0);
    expect(drifted.stdout).toMatch(/- export SMTPGREETING=hand\.edit/);
    const report = fromB.drift();
    expect(report.code).toBe(2);
    expect(report.stdout).toContain(`mailhub1: drift`);
    expect(report.stdout).toContain(`${SUPERVISE}/smtpd/run: content changed`);
    expect(report.stdout).toContain("mailhub2: no drift");

    await fromB.up(["--refresh"]);
    expect(await readBanner(one.address)).toBe("220 mailhub1.portable.test ESMTP");
    expect(fromB.drift()).toMatchObject({ code: 0 });

    await fromB.run(["destroy", "--yes", "--skip-preview", "--non-interactive"]);
    for (const host of hubs.hosts) {
      expect(await hubs.ssh(host, "ls -A /service")).toBe("");
      // Nothing left behind: no file, no staging file, no previous copy.
      expect(await hubs.ssh(host, `ls -A ${SUPERVISE}; ls -A ${CONTROL} | grep -v '^me$' || true`)).toBe("");
      expect(await hubs.processes(host, /supervise|tcpserver|multilog/)).toEqual([]);
    }
  });
});

describe("a state that stays small with 200,000 addresses on 3 hosts", () => {
  let hubs: Mailhubs;
  let project: PulumiProject;
  const addresses = Array.from({ length: 200_000 }, (_, i) => `user${String(i).padStart(6, "0")}@big${i % 97}.example`);

  /** The records `cdb -c` gets for the same list: lower-cased, unique, in byte order, empty values. */
  const reference = (list: string[]) =>
    buildWithTinycdb(
      [...new Set(list.map((a) => a.toLowerCase()))]
        .sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)))
        .map((key) => [Buffer.from(key), Buffer.alloc(0)] as const),
    );

  const sha256Of = (bytes: Buffer) => execFileSync("sha256sum", { input: bytes }).toString().split(" ")[0];

  beforeAll(async () => {
    hubs = Mailhubs.start("e2e-bigstate", 3, "127.0.0.94");
    project = new PulumiProject("bigstate", "big");
    await project.init();
  });

  afterAll(() => hubs?.stop());

  it("keeps the state under 512 KB, grows it under 4 KB for one more address, and installs what cdb -c builds", async () => {
    writeFileSync(join(project.dir, "addresses.txt"), addresses.join("\n") + "\n");
    project.writeConfig(stackConfig(hubs, (h) => `${h}.big.test`, { files: ["addresses.txt"] }));
    await project.up();
    const first = Buffer.byteLength(await project.exportState());
    expect(first).toBeLessThan(512 * 1024);

    const more = [...addresses, "newcomer@big1.example"];
    writeFileSync(join(project.dir, "addresses.txt"), more.join("\n") + "\n");
    await project.up();
    const second = Buffer.byteLength(await project.exportState());
    expect(second - first).toBeLessThan(4 * 1024);

    const expected = sha256Of(reference(more));
    for (const host of hubs.hosts) expect(await hubs.ssh(host, `sha256sum < ${CONTROL}/validrcptto.cdb`)).toBe(`${expected}  -\n`);
    // The state file on disk holds no cdb bytes either.
    const onDisk = readFileSync(join(project.stateDir, ".pulumi", "stacks", "qmail-fleet", "big.json"));
    expect(onDisk.length).toBeLessThan(512 * 1024);
  });

  it("holds the SSH private key in one resource only, encrypted", async () => {
    const sshKeyBody = readFileSync(hubs.clientKey, "utf8").split("\n")[1];
    expect(await project.exportState()).not.toContain(sshKeyBody);
    const shown = JSON.parse((await project.run(["stack", "export", "--show-secrets", "--stack", project.stack])).stdout);
    const holders = shown.deployment.resources.filter((r: { inputs?: unknown; outputs?: unknown }) => JSON.stringify(r).includes(sshKeyBody));
    expect(holders.map((r: { type: string }) => r.type)).toEqual(["pulumi:providers:qmail"]);
  });
});
