// `qmail-fleet import`: reads a running mailhub's services, over SSH with the
// host key pinned (read-only) or from a copy of its files, and writes a stack
// config that describes them. Every line the config cannot express is printed
// as a warning naming its file and line; the rest is written.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Command } from "../main";

const HELP = `usage: qmail-fleet import (--ssh [USER@]ADDRESS | --from-dir DIR) --name HOST -o Pulumi.STACK.yaml [options]

Reads each service link under /service (or --service-dir), its run and log/run
scripts and the files their options point at (the tcprules cdb and its source
beside it, validrcptto.cdb, auth.cdb), and writes a stack config describing
them, with presets where they fit. Nothing on the host is changed.

  --ssh [USER@]ADDRESS    read the host over SSH (user root unless given)
  --host-key LINE         the host's public key line ("ssh-ed25519 AAAA..."), pinned
  --known-hosts FILE      or a known_hosts file holding it (also written into the config)
  --port N                SSH port (22)
  --sudo                  read through sudo -n (a non-root USER)
  --private-key FILE      SSH private key; default: ssh-agent (SSH_AUTH_SOCK)
  --from-dir DIR          read a copy of the host's files instead: DIR/service/*,
                          DIR/var/qmail/..., DIR/etc/passwd (absolute links are
                          followed inside DIR)
  --name HOST             the host's name in the config
  --address ADDRESS       the address written into the config (default: the --ssh address)
  --service-dir DIR       svscan's directory (default: /service, /etc/service or /var/service)
  -o, --output FILE       the stack file to write; side files (the validrcptto list) go beside it
  -h, --help              this help

Exit status 0 when the config was written (warnings or not), 1 on an error.`;

interface Arguments {
  ssh?: string;
  hostKey?: string;
  knownHosts?: string;
  port: number;
  sudo: boolean;
  privateKey?: string;
  fromDir?: string;
  name?: string;
  address?: string;
  serviceDir?: string;
  output?: string;
  help: boolean;
}

function parseArguments(args: string[]): Arguments | string {
  const parsed: Arguments = { port: 22, sudo: false, help: false };
  const valued: Record<string, keyof Arguments> = {
    "--ssh": "ssh",
    "--host-key": "hostKey",
    "--known-hosts": "knownHosts",
    "--private-key": "privateKey",
    "--from-dir": "fromDir",
    "--name": "name",
    "--address": "address",
    "--service-dir": "serviceDir",
    "--output": "output",
    "-o": "output",
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "-h" || arg === "--help") parsed.help = true;
    else if (arg === "--sudo") parsed.sudo = true;
    else if (arg === "--port") {
      const port = Number(args[++i]);
      if (!Number.isInteger(port) || port < 1 || port > 65535) return "--port needs a port number (1-65535)";
      parsed.port = port;
    } else if (arg in valued) {
      if (i + 1 >= args.length) return `${arg} needs a value`;
      (parsed as unknown as Record<string, string>)[valued[arg]] = args[++i];
    } else return `unknown argument ${arg}`;
  }
  if (parsed.help) return parsed;
  if ((parsed.ssh === undefined) === (parsed.fromDir === undefined)) return "give either --ssh [USER@]ADDRESS or --from-dir DIR";
  if (!parsed.name) return "--name HOST is missing: the host's name in the config";
  if (!parsed.output) return "-o FILE is missing: the stack file to write";
  if (parsed.ssh !== undefined && !parsed.hostKey && !parsed.knownHosts)
    return "--host-key LINE or --known-hosts FILE is missing: the host's key is pinned, never taken on first use (read it on the host's console: cat /etc/ssh/ssh_host_ed25519_key.pub)";
  if (parsed.fromDir !== undefined && !parsed.address) return "--address ADDRESS is missing: where SSH will reach the host";
  return parsed;
}

function expandHome(file: string): string {
  return file.startsWith("~/") ? path.join(os.homedir(), file.slice(2)) : file;
}

export const importCommand: Command = {
  summary: "read a running mailhub's services (SSH or a copied directory) into a stack config",
  async run(args: string[]): Promise<number> {
    const parsed = parseArguments(args);
    if (typeof parsed === "string") {
      process.stderr.write(`qmail-fleet import: ${parsed}\n\n${HELP}\n`);
      return 1;
    }
    if (parsed.help) {
      process.stdout.write(HELP + "\n");
      return 0;
    }
    const { DirectorySource, SshSource, ImportSourceError } = await import("../../lib/import/host-source");
    const { importHost } = await import("../../lib/import/host-import");
    const { ImportError } = await import("../../lib/import/service-import");
    let source;
    try {
      if (parsed.fromDir !== undefined) source = new DirectorySource(parsed.fromDir);
      else {
        const [user, address] = parsed.ssh!.includes("@") ? parsed.ssh!.split("@", 2) : ["root", parsed.ssh!];
        let hostKey = parsed.hostKey;
        if (!hostKey) {
          const { hostKeyFromKnownHosts } = await import("../../lib/plan");
          hostKey = hostKeyFromKnownHosts(fs.readFileSync(expandHome(parsed.knownHosts!), "utf8"), address, parsed.port);
          if (!hostKey) throw new ImportSourceError(`${parsed.knownHosts} has no key for ${address}: add it after checking it on the host's console`);
        }
        const privateKey = parsed.privateKey ? fs.readFileSync(expandHome(parsed.privateKey), "utf8") : undefined;
        source = new SshSource({ host: parsed.name!, address, port: parsed.port, user, hostKey, sudo: parsed.sudo }, privateKey);
      }
    } catch (error) {
      process.stderr.write(`qmail-fleet import: ${(error as Error).message}\n`);
      return 1;
    }
    try {
      const address = parsed.address ?? parsed.ssh!.replace(/^.*@/, "");
      const result = await importHost(source, {
        hostName: parsed.name!,
        address,
        ...(parsed.hostKey ? { hostKey: parsed.hostKey } : {}),
        ...(parsed.knownHosts ? { knownHostsFile: knownHostsForStackFile(parsed.knownHosts, parsed.output!) } : {}),
        ...(parsed.serviceDir ? { serviceDir: parsed.serviceDir } : {}),
        sideFilePrefix: path.basename(parsed.output!).replace(/^Pulumi\.|\.ya?ml$/g, ""),
      });
      const dir = path.dirname(parsed.output!);
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(parsed.output!, result.yaml);
      for (const side of result.sideFiles) fs.writeFileSync(path.join(dir, side.name), side.bytes, { mode: side.mode });
      for (const warning of result.warnings) process.stderr.write(`warning: ${warning.file}${warning.line > 0 ? `:${warning.line}` : ""}: ${warning.message}\n`);
      const services = (result.raw.hosts as Array<{ services: unknown[] }>)[0].services.length;
      process.stdout.write(`${parsed.output}: ${services} service${services === 1 ? "" : "s"} imported from ${source.name}, ${result.warnings.length} warning${result.warnings.length === 1 ? "" : "s"}\n`);
      return 0;
    } catch (error) {
      const known = error instanceof ImportError || error instanceof ImportSourceError || (error instanceof Error && /SSH|host key|connection/i.test(error.message)) || (error as NodeJS.ErrnoException).code !== undefined;
      process.stderr.write(`qmail-fleet import: ${known ? (error as Error).message : `internal error: ${(error as Error).message}`}\n`);
      return 1;
    } finally {
      source.close();
    }
  },
};

/**
 * The known_hosts path as the stack file must name it: the config reads a
 * relative path from the stack file's directory, the command line from the
 * current one. `~/...` and absolute paths stay as given.
 */
export function knownHostsForStackFile(knownHosts: string, stackFile: string): string {
  if (knownHosts.startsWith("~/") || path.isAbsolute(knownHosts)) return knownHosts;
  const relative = path.relative(path.dirname(path.resolve(stackFile)), path.resolve(knownHosts));
  return relative.startsWith("..") || relative === "" ? path.resolve(knownHosts) : relative;
}

