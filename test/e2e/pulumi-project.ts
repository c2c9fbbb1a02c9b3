// A throwaway copy of the qmail-fleet project for one end-to-end test: the
// program and its sources linked in, its own stack file and its own local
// state backend, driven through sandbox/pulumi (the real engine).
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync, copyFileSync } from "node:fs";
import { join } from "node:path";
import * as yaml from "js-yaml";
import { REPO } from "./sandbox";

const LINKED = ["index.ts", "components", "provider", "lib", "cli", "dist", "node_modules", "package.json", "tsconfig.json"];

export interface PulumiResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class PulumiProject {
  readonly dir: string;

  constructor(readonly name: string, readonly stack = "e2e") {
    this.dir = join(REPO, ".state", "e2e", name);
    rmSync(this.dir, { recursive: true, force: true });
    mkdirSync(join(this.dir, "state"), { recursive: true });
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
          env: { ...process.env, PULUMI_BACKEND_URL: `file://${join(this.dir, "state")}` },
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

  /** The stack's state as `pulumi stack export` gives it. */
  async exportState(): Promise<string> {
    return (await this.run(["stack", "export", "--stack", this.stack])).stdout;
  }
}
