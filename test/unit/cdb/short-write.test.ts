// A write the kernel takes only in part (a file size limit, a disk filling
// up) must fail the build and leave the previous cdb in place, never rename a
// short file over it. `ulimit -f` makes the kernel do exactly that: a write
// crossing the limit takes the bytes below it, the next one fails with EFBIG
// (Node ignores SIGXFSZ). Runs bin/qmail-fleet; needs `npm run build`.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { tempDir } from "./debian-tools";

const BIN = path.join(__dirname, "..", "..", "..", "bin", "qmail-fleet");

/** bin/qmail-fleet cdb ARGS under `ulimit -f KIB` (1024-byte blocks in bash). */
function cdbUnderFileSizeLimit(kib: number, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const quoted = [process.execPath, BIN, "cdb", ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(" ");
  const { status, stdout, stderr } = spawnSync("bash", ["-c", `ulimit -f ${kib} && exec ${quoted}`], { encoding: "utf8" });
  return { status, stdout, stderr };
}

describe("qmail-fleet cdb under a file size limit", () => {
  let dir = "";
  afterEach(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("tcprules: a cdb cut short by the limit fails and the old file stays", () => {
    dir = tempDir("short-write");
    const input = path.join(dir, "tcp.smtp");
    const output = path.join(dir, "tcp.smtp.cdb");
    // About 60 KB of cdb, written in one piece; the limit is 16 KiB.
    fs.writeFileSync(input, Array.from({ length: 1000 }, (_, i) => `10.${i >> 8}.${i & 255}.:allow,RELAYCLIENT=""\n`).join("") + ":deny\n");
    fs.writeFileSync(output, "previous");
    const result = cdbUnderFileSizeLimit(16, ["tcprules", input, "-o", output]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("EFBIG");
    expect(fs.readFileSync(output, "utf8")).toBe("previous");
    expect(fs.readdirSync(dir).sort()).toEqual(["tcp.smtp", "tcp.smtp.cdb"]);
  });

  it("validrcptto: a limit inside the last hash tables fails and the old file stays", () => {
    dir = tempDir("short-write");
    const input = path.join(dir, "valid.txt");
    const output = path.join(dir, "validrcptto.cdb");
    fs.writeFileSync(input, Array.from({ length: 20000 }, (_, i) => `user${String(i).padStart(6, "0")}@example.com\n`).join(""));
    const full = spawnSync(process.execPath, [BIN, "cdb", "validrcptto", input, "-o", output], { encoding: "utf8" });
    expect(full.status).toBe(0);
    const size = fs.statSync(output).size;
    // The limit falls in the last KiB of the file: the final append is cut short.
    const kib = Math.floor((size - 1) / 1024);
    expect(size - kib * 1024).toBeLessThan(1024);
    fs.writeFileSync(output, "previous");
    const result = cdbUnderFileSizeLimit(kib, ["validrcptto", input, "-o", output]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("EFBIG");
    expect(fs.readFileSync(output, "utf8")).toBe("previous");
    expect(fs.readdirSync(dir).sort()).toEqual(["valid.txt", "validrcptto.cdb"]);
  });
});
