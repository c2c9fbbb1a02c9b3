// Entry point of the qmail resource provider plugin (pulumi-resource-qmail).
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { serveProvider } from "./server";

/** The version of the package the provider ships in (found upward from this file, compiled or not). */
function packageVersion(): string {
  for (let dir = __dirname; dirname(dir) !== dir; dir = dirname(dir)) {
    try {
      const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name?: string; version?: string };
      if (manifest.name === "qmail-fleet" && manifest.version) return manifest.version;
    } catch {
      // not here
    }
  }
  return "0.0.0";
}

// The engine passes its own address as the first argument that is not a flag.
const engineAddress = process.argv.slice(2).find((arg) => !arg.startsWith("-"));

serveProvider(packageVersion(), engineAddress).catch((error: Error) => {
  process.stderr.write(`pulumi-resource-qmail: ${error.message}\n`);
  process.exit(1);
});
