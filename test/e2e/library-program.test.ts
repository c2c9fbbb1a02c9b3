// The component library from another project: examples/program, installed
// with npm (qmail-fleet by path), deployed with the real engine against two
// sandbox mailhubs, then previewed with no changes expected.
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as yaml from "js-yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PulumiProject } from "./pulumi-project";
import { Mailhubs, readBanner, REPO } from "./sandbox";

const EXAMPLE = join(REPO, "examples", "program");
const STACK = "e2e";

describe("examples/program: two mailhubs declared in code, through the library", () => {
  let hubs: Mailhubs;
  let project: PulumiProject;
  const dir = join(REPO, ".state", "e2e", "library-program");

  beforeAll(async () => {
    hubs = Mailhubs.start("e2e-library", 2, "127.0.0.131");
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    for (const file of ["Pulumi.yaml", "package.json", "tsconfig.json", "index.ts"]) copyFileSync(join(EXAMPLE, file), join(dir, file));
    // The copy lives elsewhere: point it at this checkout by absolute path, as the example does by relative path.
    writeFileSync(join(dir, "Pulumi.yaml"), readFileSync(join(dir, "Pulumi.yaml"), "utf8").replace("path: ../../provider", `path: ${join(REPO, "provider")}`));
    const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
    manifest.dependencies["qmail-fleet"] = `file:${REPO}`;
    writeFileSync(join(dir, "package.json"), JSON.stringify(manifest, null, 2));
    project = new PulumiProject("library-program", STACK, { dir, stateDir: join(dir, "state") });
  });

  afterAll(() => hubs?.stop());

  it("installs with npm and type-checks against the package's published types", () => {
    execFileSync("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline"], { cwd: dir, stdio: "pipe" });
    expect(existsSync(join(dir, "node_modules", "qmail-fleet", "dist", "components", "index.d.ts"))).toBe(true);
    execFileSync(join(dir, "node_modules", ".bin", "tsc"), ["--noEmit", "-p", dir], { stdio: "pipe" });
  });

  it("up: both mailhubs run both services, answering with the greeting the code gives", async () => {
    await project.init();
    const stackFile = join(dir, `Pulumi.${STACK}.yaml`);
    const existing = existsSync(stackFile) ? ((yaml.load(readFileSync(stackFile, "utf8")) as Record<string, unknown>) ?? {}) : {};
    const [one, two] = hubs.hosts;
    writeFileSync(
      stackFile,
      yaml.dump({
        ...(existing.encryptionsalt ? { encryptionsalt: existing.encryptionsalt } : {}),
        config: {
          "qmail-example:hosts": { mx1: one.address, mx2: two.address },
          "qmail-example:knownHostsFile": hubs.knownHosts,
          "qmail-example:privateKeyFile": hubs.clientKey,
        },
      }),
    );
    const result = await project.up();
    expect(result.stdout).toMatch(/HostConfiguration mx1 created/);
    expect(result.stdout).toMatch(/HostConfiguration mx2 created/);
    for (const [name, host] of [["mx1", one], ["mx2", two]] as const) {
      expect(await readBanner(host.address, 25)).toBe(`220 ${name}.example.test ESMTP`);
      expect(await readBanner(host.address, 587)).toBe(`220 ${name}.example.test ESMTP`);
      expect(await hubs.ssh(host, "ls /service")).toBe("smtpd\nsubmission\n");
    }
    const outputs = JSON.parse((await project.run(["stack", "output", "--json", "--stack", STACK])).stdout);
    expect(outputs.mailhubs.map((m: { name: string; mx: { banner: string } }) => [m.name, m.mx.banner])).toEqual([
      ["mx1", "220 mx1.example.test ESMTP"],
      ["mx2", "220 mx2.example.test ESMTP"],
    ]);
    expect(outputs.mailhubs[0].files).toContainEqual(expect.stringMatching(/^\/var\/qmail\/control\/validrcptto\.cdb [0-9a-f]{12} \(validrcptto\.cdb: 3 addresses\)$/));
  });

  it("preview --expect-no-changes: the program gives the same configuration again", async () => {
    const result = await project.run(["preview", "--expect-no-changes", "--non-interactive"]);
    expect(result.code).toBe(0);
  });

  it("destroy: nothing of qmail-fleet's is left on the hosts", async () => {
    await project.run(["destroy", "--yes", "--skip-preview", "--non-interactive"]);
    for (const host of hubs.hosts) expect(await hubs.ssh(host, "ls -A /service")).toBe("");
  });
});
