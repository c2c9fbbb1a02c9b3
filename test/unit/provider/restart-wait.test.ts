// A restart (`svc -t`) returns only once supervise runs another process: right
// after svc -t, svstat still shows the old one with all its uptime, which the
// health gate would take for the new process having settled. The script runs
// here against svc and svstat stand-ins that act as daemontools does when a
// process takes a few status reads to go.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { RESTART_SCRIPT } from "../../../provider/host-operations";

/**
 * Runs the restart script for /service/smtpd. The service runs pid 100 (or is
 * down); once svc -t is sent, svstat shows pid 100 for `readsUntilGone` more
 * reads (forever when undefined), then pid 200.
 */
function restartWith(options: { down?: boolean; readsUntilGone?: number; tries: number }) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "restart-wait-"));
  const log = path.join(dir, "calls");
  fs.writeFileSync(path.join(dir, "svc"), `#!/bin/sh\necho "svc $*" >> ${log}\ntouch ${dir}/signalled\n`, { mode: 0o755 });
  const state = options.down
    ? `echo "$1: down 12 seconds, normally up"`
    : `if [ -e ${dir}/signalled ] && [ "$(grep -c '^svstat' ${log})" -gt ${1 + (options.readsUntilGone ?? 1e6)} ]; then echo "$1: up (pid 200) 0 seconds"; else echo "$1: up (pid 100) 4000 seconds"; fi`;
  fs.writeFileSync(path.join(dir, "svstat"), `#!/bin/sh\necho "svstat $*" >> ${log}\n${state}\n`, { mode: 0o755 });
  const result = spawnSync("sh", ["-c", RESTART_SCRIPT, "qmail-fleet", "/service/smtpd", String(options.tries)], {
    encoding: "utf8",
    env: { ...process.env, PATH: `${dir}:${process.env.PATH}` },
  });
  const calls = fs.readFileSync(log, "utf8").trim().split("\n");
  fs.rmSync(dir, { recursive: true, force: true });
  return { status: result.status, stderr: result.stderr, calls };
}

describe("restarting a service", () => {
  it("waits until svstat shows another pid than the one before svc -t", () => {
    const { status, calls } = restartWith({ readsUntilGone: 3, tries: 40 });
    expect(status).toBe(0);
    expect(calls[0]).toBe("svstat /service/smtpd");
    expect(calls[1]).toBe("svc -t /service/smtpd");
    // Three reads still show the old process; the fourth shows pid 200.
    expect(calls.slice(2)).toEqual(Array(4).fill("svstat /service/smtpd"));
  });

  it("does not wait for a service that was down", () => {
    const { status, calls } = restartWith({ down: true, tries: 40 });
    expect(status).toBe(0);
    expect(calls).toEqual(["svstat /service/smtpd", "svc -t /service/smtpd"]);
  });

  it("fails, naming the pid, when the old process does not go", () => {
    const { status, stderr, calls } = restartWith({ tries: 3 });
    expect(status).toBe(1);
    expect(stderr).toContain("/service/smtpd still runs pid 100 after svc -t");
    expect(calls.filter((c) => c.startsWith("svstat")).length).toBe(4);
  });
});
