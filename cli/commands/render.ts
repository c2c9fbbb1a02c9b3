// `qmail-fleet render <config> [--host H] [--include-secrets] --out DIR`:
// writes each host's files at their host paths under DIR/<host>/, plus
// DIR/<host>/manifest.json (path, owner, group, mode, sha256 of every file).
// Secret files (SSL key, auth.cdb) are listed in the manifest with their
// sha256 only, unless --include-secrets asks for them (written mode 0600).
// Deterministic.
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { HostPlan } from "../../lib/host-plan";
import type { Command } from "../main";
import { loadFleet } from "./validate";

export const USAGE = "usage: qmail-fleet render <config> [--host NAME]... [--include-secrets] --out DIR";

export const MANIFEST = "manifest.json";

export const renderCommand: Command = {
  summary: "write the files each host would get, with a manifest, under an output directory",
  async run(args) {
    if (args.includes("--help") || args.includes("-h")) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    const parsed = parseArgs(args);
    if (typeof parsed === "string") {
      process.stderr.write(`qmail-fleet render: ${parsed}\n${USAGE}\n`);
      return 1;
    }
    if (existsSync(parsed.out) && !statSync(parsed.out).isDirectory()) {
      process.stderr.write(`qmail-fleet render: --out ${parsed.out} is a file; give a directory (it is created if missing)\n`);
      return 1;
    }
    const loaded = loadFleet(parsed.config);
    if (!loaded.ok) return 1;
    const known = loaded.plan.hosts.map((host) => host.name);
    const unknown = parsed.hosts.filter((name) => !known.includes(name));
    if (unknown.length > 0) {
      process.stderr.write(`qmail-fleet render: no host named ${unknown.join(", ")} (hosts: ${known.join(", ")})\n`);
      return 1;
    }
    for (const host of loaded.plan.hosts) {
      if (parsed.hosts.length > 0 && !parsed.hosts.includes(host.name)) continue;
      const root = join(parsed.out, host.name);
      writeHost(host, root, parsed.includeSecrets);
      const secrets = host.files.filter((file) => file.secret).length;
      const held = secrets === 0 ? "" : parsed.includeSecrets ? `, ${secrets} secret(s) written` : `, ${secrets} secret(s) in the manifest only (--include-secrets writes them)`;
      process.stdout.write(`${root}: ${host.files.length} file(s), ${host.directories.length} director${host.directories.length === 1 ? "y" : "ies"}${held}\n`);
    }
    return 0;
  },
};

function parseArgs(args: string[]): { config: string; out: string; hosts: string[]; includeSecrets: boolean } | string {
  const positional: string[] = [];
  const hosts: string[] = [];
  let out: string | undefined;
  let includeSecrets = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--include-secrets") {
      includeSecrets = true;
      continue;
    }
    const [flag, inline] = arg.startsWith("--") && arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
    if (flag === "--out" || flag === "--host") {
      const value = inline ?? args[++i];
      if (!value) return `${flag} needs a value`;
      if (flag === "--out") out = value;
      else hosts.push(value);
    } else if (arg.startsWith("-")) return `unknown option ${arg}`;
    else positional.push(arg);
  }
  if (positional.length !== 1) return "give exactly one config file";
  if (!out) return "--out DIR is required";
  return { config: positional[0], out, hosts, includeSecrets };
}

/** Replaces DIR/<host> (only one we wrote before: it holds our manifest) with the host's files. */
function writeHost(host: HostPlan, root: string, includeSecrets: boolean): void {
  if (existsSync(root)) {
    if (!existsSync(join(root, MANIFEST))) throw new Error(`${root} exists and was not written by qmail-fleet render; choose another --out`);
    rmSync(root, { recursive: true });
  }
  mkdirSync(root, { recursive: true });
  for (const directory of host.directories) mkdirSync(join(root, directory.path), { recursive: true });
  for (const file of host.files) {
    if (file.secret && !includeSecrets) continue; // secrets stay out of plain files; the manifest still lists their hash
    const target = join(root, file.path);
    mkdirSync(join(target, ".."), { recursive: true });
    // A secret asked for is readable by the user who rendered it only; the manifest keeps its host mode.
    const mode = file.secret ? 0o600 : file.mode;
    writeFileSync(target, file.content, { mode });
    chmodSync(target, mode);
  }
  writeFileSync(join(root, MANIFEST), JSON.stringify(manifest(host), null, 2) + "\n");
}

const octal = (mode: number) => mode.toString(8).padStart(4, "0");

export function manifest(host: HostPlan) {
  return {
    host: host.name,
    ssh: host.ssh,
    directories: host.directories.map((d) => ({ path: d.path, owner: d.owner, group: d.group, mode: octal(d.mode) })),
    files: host.files.map((f) => ({
      path: f.path,
      owner: f.owner,
      group: f.group,
      mode: octal(f.mode),
      sha256: createHash("sha256").update(f.content).digest("hex"),
      kind: f.kind,
      secret: f.secret,
      restarts: f.restarts,
      ...(f.summary !== undefined ? { summary: f.summary } : {}),
    })),
    services: host.services,
  };
}
