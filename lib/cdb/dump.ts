// The cdbs qmail reads, back to the config form they are built from:
// validrcptto entries, tcprules rules, auth.cdb users (with their hashes).
// Records are read in file order, so building the dump again with the
// project's builders gives the same bytes for a cdb they built.
import { CdbReader } from "./reader";
import type { AuthUser } from "./auth";
import type { TcpRule } from "./tcprules";

export class CdbDumpError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CdbDumpError";
  }
}

/** validrcptto entries: `address` (accept) or `!address` (reject), in file order. */
export function dumpValidRcptTo(bytes: Buffer): string[] {
  const entries: string[] = [];
  for (const { key, value } of new CdbReader(bytes).records()) {
    const address = key.toString("utf8");
    if (value.length === 0) entries.push(address);
    else if (value.toString("latin1") === "-") entries.push(`!${address}`);
    else throw new CdbDumpError(`validrcptto: the value of ${JSON.stringify(address)} is neither empty (accept) nor "-" (reject): is this a validrcptto.cdb?`);
  }
  return entries;
}

/** tcprules rules, one per record (a range compiled into many keys comes back as one rule per address). */
export function dumpTcpRules(bytes: Buffer): TcpRule[] {
  const rules: TcpRule[] = [];
  for (const { key, value } of new CdbReader(bytes).records()) {
    const address = key.toString("latin1");
    let text = value.toString("latin1");
    let action: TcpRule["action"] = "allow";
    if (text.startsWith("D\0")) {
      action = "deny";
      text = text.slice(2);
    }
    const env: Record<string, string> = {};
    for (const item of text.split("\0").slice(0, -1)) {
      const equals = item.indexOf("=");
      if (!item.startsWith("+") || equals < 0) throw new CdbDumpError(`tcprules: the rule for ${JSON.stringify(address)} holds ${JSON.stringify(item)}, not +NAME=value: is this a tcprules cdb?`);
      env[Buffer.from(item.slice(1, equals), "latin1").toString("utf8")] = Buffer.from(item.slice(equals + 1), "latin1").toString("utf8");
    }
    if (text !== "" && !text.endsWith("\0")) throw new CdbDumpError(`tcprules: the rule for ${JSON.stringify(address)} does not end in NUL: is this a tcprules cdb?`);
    rules.push({ address: Buffer.from(address, "latin1").toString("utf8"), action, ...(Object.keys(env).length > 0 ? { env } : {}) });
  }
  return rules;
}

/** auth.cdb users: the hash as it is, variables, and PASSWORD_EXPIRES as the expiry (unix seconds). */
export function dumpAuth(bytes: Buffer): AuthUser[] {
  const users: AuthUser[] = [];
  for (const { key, value } of new CdbReader(bytes).records()) {
    const user = key.toString("utf8");
    const text = value.toString("utf8");
    const comma = text.indexOf(",");
    const hash = comma < 0 ? text : text.slice(0, comma);
    const env: Record<string, string> = {};
    let rest = comma < 0 ? "" : text.slice(comma);
    while (rest !== "") {
      const pair = /^,([A-Za-z_][A-Za-z0-9_]*)="([^"]*)"/.exec(rest);
      // Never quote the value: it may hold a password someone put there.
      if (!pair) throw new CdbDumpError(`auth: the record of ${JSON.stringify(user)} has text after the hash that is not ,NAME="value"`);
      env[pair[1]] = pair[2];
      rest = rest.slice(pair[0].length);
    }
    const entry: AuthUser = { user, hash };
    if (/^[0-9]+$/.test(env.PASSWORD_EXPIRES ?? "")) {
      entry.expires = Number(env.PASSWORD_EXPIRES);
      delete env.PASSWORD_EXPIRES;
    }
    if (Object.keys(env).length > 0) entry.env = env;
    users.push(entry);
  }
  return users;
}
