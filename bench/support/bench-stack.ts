// A throwaway Pulumi project for a benchmark: the repository's program linked
// in, its own file state backend, one stack whose config describes the sandbox
// hosts (MX on :25 and submission on :587 each, one auth user, a validrcptto
// list in a file), driven through sandbox/pulumi.
import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { run, tail, type RunOptions, type RunResult } from "./measured-run";
import type { SandboxHost, TlsPair } from "./sandbox-hosts";

const ROOT = path.resolve(__dirname, "..", "..");
const PULUMI = path.join(ROOT, "sandbox", "pulumi");
/** What a throwaway project links from the repository (as test/e2e/pulumi-project.ts does). */
const LINKED = ["program.js", "index.ts", "components", "provider", "lib", "cli", "dist", "node_modules", "package.json", "tsconfig.json"];

export const CONTROL = "/var/qmail/control";
export const ADDRESS_FILE = "validrcptto.txt";
const SALT_SECRET = "bench salt secret, at least sixteen bytes";
const PASSWORD = "bench password 4711";
const AUTH_USER = "bench@bench.example.org";

export class BenchStack {
  constructor(
    /** The project directory; replaced by `create`. */
    readonly dir: string,
    /** The sandbox whose client_key and known_hosts the stack logs in with. */
    readonly sandboxDir: string,
    readonly stack = "bench",
  ) {}

  get stackFile(): string {
    return path.join(this.dir, `Pulumi.${this.stack}.yaml`);
  }

  get addressFile(): string {
    return path.join(this.dir, ADDRESS_FILE);
  }

  /** Runs `sandbox/pulumi` in the project, on the stack. */
  pulumi(args: string[], options: RunOptions = {}): Promise<RunResult> {
    const stackArgs = args[0] === "stack" || args[0] === "config" ? [] : ["--stack", this.stack];
    const env = { PULUMI_BACKEND_URL: `file://${path.join(this.dir, "state")}`, ...options.env };
    return run([PULUMI, "--cwd", this.dir, ...args, ...stackArgs], { ...options, env });
  }

  async pulumiOk(args: string[], options: RunOptions = {}): Promise<RunResult> {
    const result = await this.pulumi(args, options);
    if (result.code !== 0) throw new Error(`pulumi ${args.join(" ")} failed (exit ${result.code}):\n${tail(result.stdout)}\n${tail(result.stderr)}`);
    return result;
  }

  /** The stack's config, secrets left out (set through `pulumi config set --secret`). */
  config(hosts: SandboxHost[], certificate: string): Record<string, unknown> {
    const config = {
      ssh: { user: "root", privateKeyFile: path.join(this.sandboxDir, "client_key") },
      sslCertificate: certificate,
      authUsers: [{ user: AUTH_USER, password: "(set as a secret)" }],
      validRcptTo: { files: [ADDRESS_FILE] },
      services: [
        { name: "smtpd", preset: "mx", validRcptTo: { cdbFile: `${CONTROL}/validrcptto.cdb` } },
        { name: "submission", preset: "submission", auth: { method: "cdb", cdbFile: `${CONTROL}/auth.cdb` } },
      ],
      hosts: hosts.map((host) => ({
        name: host.name,
        address: host.address,
        ssh: { knownHostsFile: path.join(this.sandboxDir, "known_hosts") },
        services: [
          { name: "smtpd", ip: host.address },
          { name: "submission", ip: host.address },
        ],
      })),
    };
    return Object.fromEntries(Object.entries(config).map(([k, v]) => [`qmail-fleet:${k}`, v]));
  }

  /** A new project dir (sources linked in, own state backend), its stack initialised and configured. */
  async create(hosts: SandboxHost[], tls: TlsPair, addresses: string): Promise<void> {
    fs.rmSync(this.dir, { recursive: true, force: true });
    fs.mkdirSync(path.join(this.dir, "state"), { recursive: true });
    for (const entry of LINKED) fs.symlinkSync(path.join(ROOT, entry), path.join(this.dir, entry));
    fs.copyFileSync(path.join(ROOT, "Pulumi.yaml"), path.join(this.dir, "Pulumi.yaml"));
    fs.writeFileSync(this.addressFile, addresses);
    await this.pulumiOk(["stack", "init", this.stack]);

    const existing = (yaml.load(fs.readFileSync(this.stackFile, "utf8")) as Record<string, unknown> | undefined) ?? {};
    const document: Record<string, unknown> = {};
    if (existing.encryptionsalt) document.encryptionsalt = existing.encryptionsalt;
    document.config = this.config(hosts, tls.certificate);
    fs.writeFileSync(this.stackFile, yaml.dump(document, { lineWidth: -1 }));
    // Secrets on stdin, never in argv.
    await this.pulumiOk(["config", "set", "--secret", "qmail-fleet:sslKey"], { stdin: tls.key });
    await this.pulumiOk(["config", "set", "--secret", "qmail-fleet:saltSecret"], { stdin: SALT_SECRET });
    await this.pulumiOk(["config", "set", "--secret", "--path", "qmail-fleet:authUsers[0].password"], { stdin: PASSWORD });
  }
}

/**
 * The same fleet as a plain config file for `qmail-fleet render` (the secrets
 * in clear, so render writes the bytes pulumi up installs): mode 0600, in the
 * project directory. Written after `create`; the address file is the stack's.
 */
export function writePlainConfig(stack: BenchStack, hosts: SandboxHost[], tls: TlsPair, file: string): void {
  const config = stack.config(hosts, tls.certificate);
  config["qmail-fleet:sslKey"] = tls.key;
  config["qmail-fleet:saltSecret"] = SALT_SECRET;
  config["qmail-fleet:authUsers"] = [{ user: AUTH_USER, password: PASSWORD }];
  config["qmail-fleet:validRcptTo"] = { files: [stack.addressFile] };
  fs.writeFileSync(file, yaml.dump({ config }, { lineWidth: -1 }), { mode: 0o600 });
}

/** `Resources:` counts of an up's output, e.g. { created: 19 } or { updated: 8, unchanged: 11 }. */
export function resourceCounts(stdout: string): Record<string, number> {
  const counts: Record<string, number> = {};
  const section = stdout.slice(stdout.lastIndexOf("Resources:"));
  for (const match of section.matchAll(/^\s*[+~\-±]?\s*(\d+) (created|updated|deleted|replaced|unchanged)\b/gm)) counts[match[2]] = Number(match[1]);
  return counts;
}
