// bin/qmail-fleet runs the CLI from its bundle (build/bundle-cli.ts), and
// `cdb` straight from dist/cli/commands; the same commands run from
// dist/cli/main.js, as tsc wrote it, must give the same exit code and the
// same bytes on stdout and stderr. Needs `npm run build`.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = join(__dirname, "..", "..", "..");
const BIN = join(ROOT, "bin", "qmail-fleet");
const BUNDLE = join(ROOT, "dist", "bundle", "qmail-fleet.js");
const UNBUNDLED_MAIN = join(ROOT, "dist", "cli", "main.js");
const INVALID = join(ROOT, "test", "invalid-configs");

/** What bin/qmail-fleet did before the bundle: require the compiled main and report its exit code. */
const UNBUNDLED_BIN = join(mkdtempSync(join(tmpdir(), "qf-unbundled-")), "qmail-fleet.js");
writeFileSync(
  UNBUNDLED_BIN,
  `require(${JSON.stringify(UNBUNDLED_MAIN)}).main(process.argv.slice(2)).then((code) => process.exit(code), (err) => { process.stderr.write("qmail-fleet: " + err.message + "\\n"); process.exit(1); });\n`,
);

interface Outcome {
  status: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], bundled: boolean): Outcome {
  const argv = [bundled ? BIN : UNBUNDLED_BIN, ...args];
  const { status, stdout, stderr } = spawnSync(process.execPath, argv, { cwd: ROOT, encoding: "utf8" });
  return { status, stdout, stderr };
}

const invalidConfigs = readdirSync(INVALID)
  .filter((name) => /\.(ya?ml|json)$/.test(name))
  .sort()
  .filter((_, i) => i % 30 === 0)
  .map((name) => join("test", "invalid-configs", name));

const invocations: string[][] = [
  [],
  ["--help"],
  ["no-such-command"],
  ["validate"],
  ["validate", "--help"],
  ["validate", "examples/Pulumi.mx-fleet.yaml"],
  ["validate", "examples/mailhub-files/Pulumi.mailhub.yaml"],
  ["validate", "examples/smtps.json"],
  ["validate", "no/such/file.yaml"],
  ...invalidConfigs.map((file) => ["validate", file]),
  ["render", "--help"],
  ["cdb", "--help"],
  ["cdb", "tcprules", "no/such/rules", "-o", "/nonexistent/x.cdb"],
  ["cdb", "validrcptto", "no/such/list", "-o", "/nonexistent/x.cdb"],
  ["cdb", "validrcptto"],
  ["cdb", "no-such-kind"],
  ["drift", "--help"],
  ["drift"],
  ["diff", "--help"],
  ["diff"],
];

describe("bin/qmail-fleet (the bundled CLI)", () => {
  it("is built", () => {
    expect(existsSync(BUNDLE), "dist/bundle/qmail-fleet.js is missing: run npm run build").toBe(true);
    expect(existsSync(`${BUNDLE}.cache`), "the bundle's code cache is missing: run npm run build").toBe(true);
  });

  it.each(invocations.map((args) => [args.join(" ") || "(no arguments)", args] as const))("qmail-fleet %s: as the unbundled CLI", (_, args) => {
    const bundled = run(args, true);
    expect(bundled).toEqual(run(args, false));
    expect(bundled.stderr).not.toMatch(/\n\s+at /);
  });

  it("renders the same files as the unbundled CLI", () => {
    const [a, b] = [mkdtempSync(join(tmpdir(), "qf-bin-")), mkdtempSync(join(tmpdir(), "qf-main-"))];
    const example = "examples/mailhub-files/Pulumi.mailhub.yaml";
    expect(run(["render", example, "--out", a], true).status).toBe(0);
    expect(run(["render", example, "--out", b], false).status).toBe(0);
    const manifest = (dir: string) => readFileSync(join(dir, "hub1", "manifest.json"), "utf8");
    expect(manifest(a)).toEqual(manifest(b));
    expect(manifest(a)).toContain('"sha256"');
  });
});
