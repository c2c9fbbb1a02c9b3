// A hand-written service put on a sandbox mailhub as an admin would: what the
// take-over tests start from.
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Mailhubs, SandboxHost } from "./sandbox";

export const SUPERVISE = "/var/qmail/supervise";

export async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The host's view of a path: its sandbox root holds /var/qmail and /service. */
export const onHost = (host: SandboxHost, path: string) => join(host.root, "root", path);

/**
 * Installs a hand-written service as an admin would: the scripts and files in
 * place, tcprules sources compiled, log/main for the log user, then the link
 * svscan starts it from. Returns once the service and its log are up.
 */
export async function installService(hubs: Mailhubs, host: SandboxHost, service: string, scripts: { run: string; logRun: string }, extra: { files?: Record<string, string>; envdir?: Record<string, string> } = {}) {
  const dir = `${SUPERVISE}/${service}`;
  mkdirSync(onHost(host, `${dir}/log`), { recursive: true });
  writeFileSync(onHost(host, `${dir}/run`), scripts.run);
  writeFileSync(onHost(host, `${dir}/log/run`), scripts.logRun);
  chmodSync(onHost(host, `${dir}/run`), 0o755);
  chmodSync(onHost(host, `${dir}/log/run`), 0o755);
  for (const [path, text] of Object.entries(extra.files ?? {})) {
    mkdirSync(dirname(onHost(host, path)), { recursive: true });
    writeFileSync(onHost(host, path), text);
  }
  if (extra.envdir) {
    mkdirSync(onHost(host, `${dir}/env`), { recursive: true });
    for (const [name, text] of Object.entries(extra.envdir)) writeFileSync(onHost(host, `${dir}/env/${name}`), text);
  }
  const compile = Object.keys(extra.files ?? {})
    .filter((path) => /\/tcp\.[a-z]+$/.test(path))
    .map((source) => `tcprules ${source}.cdb ${source}.tmp < ${source}`);
  await hubs.ssh(host, [...compile, `mkdir -p ${dir}/log/main`, `chown qmaill ${dir}/log/main`, `ln -s ${dir} /service/${service}`].join(" && "));
  // Up for two seconds: a script that dies at start is restarted by supervise every second.
  await eventually(`${host.name} ${service} to stay up`, async () => ((await hubs.uptime(host, dir)) ?? 0) >= 2 && (await hubs.uptime(host, `${dir}/log`)) !== undefined ? true : undefined).catch(async (error: Error) => {
    const log = await hubs.ssh(host, `tail -n 3 ${dir}/log/main/current 2>/dev/null; exit 0`);
    throw new Error(`${error.message}; last lines of its log:\n${log}`);
  });
}

