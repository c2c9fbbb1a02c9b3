// lib/cdb/validrcptto.wasm is committed, so that an install with production
// dependencies only needs no compiler. It must be what its source compiles
// to: `npm run build:kernel` after any change to assembly/validrcptto.ts.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect, it } from "vitest";

const ROOT = path.join(__dirname, "..", "..", "..");
const COMMITTED = "lib/cdb/validrcptto.wasm";

it("the committed validrcptto kernel is what assembly/validrcptto.ts compiles to", () => {
  const script: string = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).scripts["build:kernel"];
  const fresh = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "kernel-")), "validrcptto.wasm");
  const command = script.replace(`-o ${COMMITTED}`, `-o ${fresh}`);
  expect(command).not.toBe(script);
  execFileSync("sh", ["-c", command], { cwd: ROOT, env: { ...process.env, PATH: `${path.join(ROOT, "node_modules", ".bin")}:${process.env.PATH}` } });
  expect(fs.readFileSync(fresh).equals(fs.readFileSync(path.join(ROOT, COMMITTED))), `${COMMITTED} is stale: run npm run build:kernel`).toBe(true);
}, 120_000);
