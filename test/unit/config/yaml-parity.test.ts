// The YAML parity test: every snippet of test/yaml-parity is read by the
// Pulumi engine's own code (qmail-fleet-stackconfig, built from the engine's
// go.mod by sandbox/build-stackconfig: gopkg.in/yaml.v3 and the SDK's stack
// file loader at exactly the engine's versions) and by qmail-fleet's reader
// (lib/source). Both must refuse the same snippets, and for the others give
// the same config keys with the same values, compared as JSON after the
// decoding the program and the CLI share. A snippet marked `# ours: refused`
// is one qmail-fleet refuses on purpose where the engine reads on; the test
// holds both sides to that.
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { decodeConfig, type EngineEntry } from "../../../lib/source/engine-config";
import { ConfigFileError, engineEntriesOf } from "../../../lib/source/config-file";

const ROOT = resolve(__dirname, "..", "..", "..");
const CORPUS = join(ROOT, "test", "yaml-parity");
const snippets = readdirSync(CORPUS)
  .filter((name) => /\.(ya?ml|json)$/.test(name))
  .sort();

interface EngineResult {
  file: string;
  config?: Record<string, { value: string; secure: boolean; object: boolean }>;
  error?: string;
}

type Side = { error: string } | { entries: EngineEntry[] };

const engine = new Map<string, EngineResult>();
const dir = mkdtempSync(join(tmpdir(), "qmail-fleet-yaml-parity-"));
/** Each snippet as a stack file, named as Pulumi names them. */
const stackFile = (name: string) => join(dir, `Pulumi.${name.replace(/\.(ya?ml|json)$/, "")}.${name.endsWith(".json") ? "json" : "yaml"}`);

beforeAll(() => {
  const helper = execFileSync(join(ROOT, "sandbox", "build-stackconfig"), { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] })
    .trim()
    .split("\n")
    .pop()!;
  for (const name of snippets) copyFileSync(join(CORPUS, name), stackFile(name));
  // TZ=UTC: Go names a parsed time zone after the local one; lib/source/go-values.ts assumes UTC.
  const output = execFileSync(helper, snippets.map(stackFile), { encoding: "utf8", env: { ...process.env, TZ: "UTC" }, maxBuffer: 64 * 1024 * 1024 });
  for (const line of output.trim().split("\n")) {
    const result = JSON.parse(line) as EngineResult;
    engine.set(result.file, result);
  }
}, 20 * 60_000);

function engineSide(name: string): Side {
  const result = engine.get(stackFile(name))!;
  if (result.error !== undefined) return { error: result.error };
  return {
    entries: Object.entries(result.config ?? {}).map(([key, { value, secure, object }]) => ({
      key,
      text: value,
      ...(secure && !object ? { ciphertext: true } : {}),
    })),
  };
}

function ourSide(name: string): Side {
  try {
    const result = engineEntriesOf(readFileSync(join(CORPUS, name)), stackFile(name));
    if (result.errors.length > 0) return { error: result.errors.map((e) => `${e.path}: ${e.message}`).join("; ") };
    return { entries: result.entries };
  } catch (error) {
    if (error instanceof ConfigFileError) return { error: error.message };
    throw error;
  }
}

/** Keys sorted, values as the program decodes them, as JSON text: what must be equal. */
function asJson(side: Side): string {
  if ("error" in side) return "error";
  const entries = [...side.entries].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const decoded = decodeConfig(entries.map((e) => ({ ...e, key: `qmail-fleet:${e.key}` })));
  const texts = entries.map((e) => [e.key, e.ciphertext ? "secret" : "plain", e.text]);
  return JSON.stringify({ texts: texts.map(([key, kind, text]) => [key, kind, isJson(text) ? JSON.parse(text) : text]), decoded: decoded.raw }, null, 1);
}

const isJson = (text: string) => /^\s*[[{"]/.test(text) && (() => { try { JSON.parse(text); return true; } catch { return false; } })();

describe("YAML parity with the engine's reader", () => {
  it("has at least 40 snippets", () => {
    expect(snippets.length).toBeGreaterThanOrEqual(40);
  });

  it.each(snippets)("%s", (name) => {
    const ours = ourSide(name);
    const theirs = engineSide(name);
    if (/^# ours: refused$/m.test(readFileSync(join(CORPUS, name), "utf8"))) {
      expect("error" in theirs ? theirs.error : "", "the engine reads this snippet").toBe("");
      expect("error" in ours, "qmail-fleet refuses this snippet").toBe(true);
      return;
    }
    const status = (side: Side) => ("error" in side ? "refused" : "read");
    expect(status(ours), `engine: ${"error" in theirs ? theirs.error : "read"}; ours: ${"error" in ours ? ours.error : "read"}`).toBe(status(theirs));
    expect(asJson(ours)).toBe(asJson(theirs));
  });
});
