// Secrets written as plain text into a stack file. pulumi up takes them (and
// keeps them secret in state), but the file itself, usually committed, hands
// them to whoever reads it or its history: validate warns and names the
// command that stores each one encrypted.
import { formatPath, type PathKey } from "../schema/issue-path";
import type { SourceIssue } from "./engine-config";

/** Top-level keys that hold a secret, with how to set each one encrypted. */
const SECRET_KEYS: Record<string, string> = {
  sshPrivateKey: "pulumi config set --secret sshPrivateKey < ~/.ssh/qmail-fleet",
  sslKey: "pulumi config set --secret sslKey < key.pem",
  saltSecret: 'pulumi config set --secret saltSecret "$(openssl rand -base64 24)"',
};

const isPlain = (value: unknown) => typeof value === "string" && value !== "";

function warning(path: PathKey[], command: string): SourceIssue {
  const field = String(path[path.length - 1]);
  return {
    path: formatPath(path),
    message: `${field} is written in the stack file as plain text, where anyone who reads the file or its history reads it: store it encrypted with \`${command}\``,
  };
}

/** One warning per secret the raw stack config holds as plain text. */
export function plainSecretWarnings(raw: Record<string, unknown>): SourceIssue[] {
  const warnings: SourceIssue[] = [];
  const users = (list: unknown, at: PathKey[]) => {
    if (!Array.isArray(list)) return;
    list.forEach((user, i) => {
      if (typeof user === "object" && user !== null && isPlain((user as Record<string, unknown>).password)) {
        const path = [...at, i, "password"];
        warnings.push(warning(path, `pulumi config set --secret --path '${formatPath(path)}' <password>`));
      }
    });
  };
  for (const [key, command] of Object.entries(SECRET_KEYS)) if (isPlain(raw[key])) warnings.push(warning([key], command));
  users(raw.authUsers, ["authUsers"]);
  if (Array.isArray(raw.hosts))
    raw.hosts.forEach((host, i) => {
      if (typeof host !== "object" || host === null) return;
      const fields = host as Record<string, unknown>;
      if (isPlain(fields.sslKey)) warnings.push(warning(["hosts", i, "sslKey"], `pulumi config set --secret --path 'hosts[${i}].sslKey' < key.pem`));
      users(fields.authUsers, ["hosts", i, "authUsers"]);
    });
  return warnings;
}
