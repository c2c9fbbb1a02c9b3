// Unit tests make their scratch files under os.tmpdir(). For each test file
// that is a directory of its own (TMPDIR, which the tools a test runs
// inherit too), removed when the file's tests end: a test that leaves its
// files behind leaves nothing in the machine's /tmp.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll } from "vitest";

const previous = process.env.TMPDIR;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "qmail-fleet-unit-"));
process.env.TMPDIR = dir;

afterAll(() => {
  if (previous === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = previous;
  fs.rmSync(dir, { recursive: true, force: true });
});
