// mailhubs stop, status and pids go by what start recorded of each host, and
// a record that no longer names the process it was written for must lead them
// nowhere: its pid may be another sandbox's process by now.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

const MAILHUBS = resolve(__dirname, "..", "..", "..", "sandbox", "mailhubs");

function mailhubs(...args: string[]): string {
  return execFileSync(MAILHUBS, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/** State letter and start time (field 22) from /proc/PID/stat. */
function procStat(pid: number): { state: string; startTime: string } {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { state: fields[0], startTime: fields[19] };
}

describe("mailhubs with records that name someone else's process", () => {
  let dir: string;
  let hostDir: string;
  let bystander: ChildProcess; // stands for a process of another sandbox
  let pid: number;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "mailhubs-records-"));
    hostDir = join(dir, "hosts", "mailhub1");
    mkdirSync(hostDir, { recursive: true });
    bystander = spawn("sleep", ["60"], { stdio: "ignore" });
    if (bystander.pid === undefined) throw new Error("sleep did not start");
    pid = bystander.pid;
  });

  afterEach(() => {
    bystander.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });

  function expectBystanderUntouched(): void {
    expect(procStat(pid).state).not.toBe("Z");
    expect(bystander.signalCode).toBeNull();
  }

  it("a pid whose start time is not the recorded one is not the host", () => {
    writeFileSync(join(hostDir, "init.pid"), `${pid}\n`);
    writeFileSync(join(hostDir, "init.start"), `${Number(procStat(pid).startTime) - 1}\n`);

    expect(mailhubs("status", "--dir", dir)).toBe("mailhub1: stopped\n");
    expect(mailhubs("pids", "--dir", dir, "--host", "mailhub1")).toBe("");
    mailhubs("stop", "--dir", dir);
    expectBystanderUntouched();
  });

  it("an init.pid alone (an earlier mailhubs) is the host only when its command line is this host's host-init", () => {
    writeFileSync(join(hostDir, "init.pid"), `${pid}\n`);

    expect(mailhubs("status", "--dir", dir)).toBe("mailhub1: stopped\n");
    mailhubs("stop", "--dir", dir);
    expectBystanderUntouched();
  });

  it("a cgroup record that is not one of the sandbox's own is not followed", () => {
    const elsewhere = join(dir, "elsewhere");
    mkdirSync(elsewhere);
    writeFileSync(join(elsewhere, "cgroup.procs"), `${pid}\n`);
    writeFileSync(join(hostDir, "cgroup"), `${elsewhere}\n`);

    expect(mailhubs("pids", "--dir", dir, "--host", "mailhub1")).toBe("");
    mailhubs("stop", "--dir", dir);
    expectBystanderUntouched();
  });

  it("stop forgets the stale records", () => {
    writeFileSync(join(hostDir, "init.pid"), `${pid}\n`);
    writeFileSync(join(hostDir, "init.start"), "1\n");
    mailhubs("stop", "--dir", dir);
    expect(() => readFileSync(join(hostDir, "init.pid"))).toThrow(/ENOENT/);
    expect(() => readFileSync(join(hostDir, "init.start"))).toThrow(/ENOENT/);
  });

  it("pids of a host that was never started prints nothing", () => {
    expect(mailhubs("pids", "--dir", dir, "--host", "mailhub9")).toBe("");
  });
});
