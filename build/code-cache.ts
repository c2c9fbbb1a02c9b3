// The V8 code cache beside the CLI bundle (<bundle>.cache), which
// bin/qmail-fleet hands to V8 with the bundle's text so that a start-up
// compiles next to nothing. Node 20 has no module.enableCompileCache(), so it
// is made here, at build time, once: the bundle is compiled and run as the
// bin runs it, validates the examples (so the functions a validate runs are
// compiled too, not only the modules' top levels), and V8 writes out what it
// compiled. V8 refuses a cache made by another Node version, with other
// flags or for other text; the CLI then compiles as usual, only slower.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Script } from "node:vm";

/** Configs validated before the cache is written: the examples a clone has. */
const WARM_UP_CONFIGS = ["examples/mailhub-files/Pulumi.mailhub.yaml", "examples/Pulumi.mx-fleet.yaml", "examples/smtps.json"];

export const codeCacheFile = (bundleFile: string) => `${bundleFile}.cache`;

type Cli = { main(argv: string[]): Promise<number> };

/** Runs fn with the process's output thrown away: the warm-up's verdicts are not the build's. */
async function quietly(fn: () => Promise<unknown>): Promise<void> {
  const [stdout, stderr] = [process.stdout.write, process.stderr.write];
  process.stdout.write = process.stderr.write = (() => true) as typeof process.stdout.write;
  try {
    await fn();
  } finally {
    [process.stdout.write, process.stderr.write] = [stdout, stderr];
  }
}

export async function writeCodeCache(bundleFile: string, root: string): Promise<void> {
  // Compiled and called exactly as bin/qmail-fleet does.
  const script = new Script(readFileSync(bundleFile, "utf8"), { filename: bundleFile });
  const cli = (script.runInThisContext() as (nodeRequire: NodeJS.Require, root: string) => Cli)(require, root);
  for (const config of WARM_UP_CONFIGS.map((file) => join(root, file)).filter((file) => existsSync(file)))
    await quietly(() => cli.main(["validate", config]));
  writeFileSync(codeCacheFile(bundleFile), script.createCachedData());
}
