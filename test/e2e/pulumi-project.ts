// A throwaway copy of the qmail-fleet project for one end-to-end test: the
// program and its sources linked in, its own stack file and its own local
// state backend, driven through sandbox/pulumi (the real engine).
import { execFile, execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync, copyFileSync } from "node:fs";
import { join } from "node:path";
import * as yaml from "js-yaml";
import { REPO } from "./sandbox";

const LINKED = ["program.js", "index.ts", "components", "provider", "lib", "cli", "dist", "node_modules", "package.json", "tsconfig.json", "policy"];

export interface PulumiResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class PulumiProject {
  readonly dir: string;
  /** The file state backend's directory. */
  readonly stateDir: string;

  /**
   * A fresh project under .state/e2e/<name> linked to this checkout's sources;
   * or, with `checkout`, the project in that directory (a clone) using the
   * state backend in `checkout.stateDir`.
   */
  constructor(readonly name: string, readonly stack = "e2e", checkout?: { dir: string; stateDir: string }) {
    if (checkout) {
      this.dir = checkout.dir;
      this.stateDir = checkout.stateDir;
      mkdirSync(this.stateDir, { recursive: true });
      return;
    }
    this.dir = join(REPO, ".state", "e2e", name);
    this.stateDir = join(this.dir, "state");
    rmSync(this.dir, { recursive: true, force: true });
    mkdirSync(this.stateDir, { recursive: true });
    for (const entry of LINKED) symlinkSync(join(REPO, entry), join(this.dir, entry));
    copyFileSync(join(REPO, "Pulumi.yaml"), join(this.dir, "Pulumi.yaml"));
  }

  get stackFile(): string {
    return join(this.dir, `Pulumi.${this.stack}.yaml`);
  }

  /** Writes the stack's config (keys without the `qmail-fleet:` prefix), keeping the stack's encryption salt. */
  writeConfig(config: Record<string, unknown>): void {
    const existing = existsSync(this.stackFile)
      ? ((yaml.load(readFileSync(this.stackFile, "utf8")) as Record<string, unknown>) ?? {})
      : {};
    const prefixed = Object.fromEntries(Object.entries(config).map(([k, v]) => [`qmail-fleet:${k}`, v]));
    const document: Record<string, unknown> = {};
    if (existing.encryptionsalt) document.encryptionsalt = existing.encryptionsalt;
    document.config = prefixed;
    writeFileSync(this.stackFile, yaml.dump(document, { lineWidth: -1 }));
  }

  /** Sets a secret config value, given on stdin so it is never in argv. */
  async setSecret(key: string, value: string): Promise<void> {
    await this.run(["config", "set", "--secret", `qmail-fleet:${key}`], { stdin: value });
  }

  async init(): Promise<void> {
    await this.run(["stack", "init", this.stack]);
  }

  run(args: string[], options: { allowFailure?: boolean; stdin?: string } = {}): Promise<PulumiResult> {
    return new Promise((resolve, reject) => {
      const child = execFile(
        join(REPO, "sandbox", "pulumi"),
        ["--cwd", this.dir, ...args, ...(args[0] === "stack" || args[0] === "config" ? [] : ["--stack", this.stack])],
        {
          env: { ...process.env, PULUMI_BACKEND_URL: `file://${this.stateDir}` },
          maxBuffer: 64 * 1024 * 1024,
          timeout: 600_000,
        },
        (error, stdout, stderr) => {
          const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
          const result = { code, stdout: stdout.toString(), stderr: stderr.toString() };
          if (code !== 0 && !options.allowFailure) {
            reject(new Error(`pulumi ${args.join(" ")} failed (${code}):\n${result.stdout}\n${result.stderr}`));
          } else resolve(result);
        },
      );
      child.stdin?.end(options.stdin ?? "");
    });
  }

  up(extra: string[] = []): Promise<PulumiResult> {
    return this.run(["up", "--yes", "--skip-preview", "--non-interactive", ...extra]);
  }

  /**
   * `qmail-fleet drift` on this stack, through the project's own CLI when the
   * project is a checkout (a clone has its own sandbox/ and dist/), else this one's.
   */
  drift(): { code: number; stdout: string; stderr: string } {
    const own = join(this.dir, "sandbox", "qmail-fleet");
    const cli = existsSync(own) ? own : join(REPO, "sandbox", "qmail-fleet");
    try {
      const stdout = execFileSync(cli, ["drift", "--stack", this.stack, "--cwd", this.dir], {
        env: { ...process.env, PULUMI_BACKEND_URL: `file://${this.stateDir}` },
        stdio: ["ignore", "pipe", "pipe"],
      }).toString();
      return { code: 0, stdout, stderr: "" };
    } catch (error) {
      const e = error as { status: number; stdout?: Buffer; stderr?: Buffer };
      return { code: e.status, stdout: e.stdout?.toString() ?? "", stderr: e.stderr?.toString() ?? "" };
    }
  }

  /** The stack's state as `pulumi stack export` gives it. */
  async exportState(): Promise<string> {
    return (await this.run(["stack", "export", "--stack", this.stack])).stdout;
  }
}
