// auth.cdb for qmail-smtpd's AUTH_CDB method.
//
// key   = the user name exactly as the client sends it
// value = crypt(3) hash, then `,NAME="value"` per variable (set after a
//         successful AUTH); PASSWORD_EXPIRES="<unix time>" refuses the login
//         from that time on.
// Plain passwords are hashed with SHA-512 crypt and a salt derived from a
// stack secret and the user name, so rebuilding gives the same bytes and a
// changed password changes only that user's record. Plain passwords never
// appear in errors or summaries; neither do hashes (someone may have put a
// password in the hash field).
import { createHmac } from "node:crypto";
import { CRYPT_ALPHABET, sha512Crypt } from "./sha512-crypt";
import { CdbBufferWriter } from "./writer";

export interface AuthUser {
  /** The user name as the client sends it, usually the full address. */
  user: string;
  /** A ready crypt hash ($1$, $5$, $6$ or $y$). */
  hash?: string;
  /** A plain password, hashed here with $6$; give hash or password, not both. */
  password?: string;
  /** Variables set after a successful AUTH. */
  env?: Record<string, string>;
  /** From this moment on the login is refused: unix seconds, a Date, `YYYY-MM-DD` (UTC) or an ISO time with zone. */
  expires?: number | string | Date;
}

export interface AuthBuildOptions {
  /** Secret the salts of plain passwords are derived from; required when any user has one. */
  saltSecret?: string | Buffer;
  /** SHA-512 crypt rounds for plain passwords (default 5000, written without `rounds=`). */
  rounds?: number;
}

export interface AuthProblem {
  /** Line number when the users came from text. */
  line?: number;
  user?: string;
  reason: string;
}

export class AuthSourceError extends Error {
  constructor(readonly problems: AuthProblem[]) {
    const lines = problems.slice(0, 20).map((p) => `  ${p.line !== undefined ? `line ${p.line}: ` : ""}${p.user !== undefined ? `user ${JSON.stringify(p.user)}: ` : ""}${p.reason}`);
    super(`auth.cdb: ${problems.length} problem${problems.length === 1 ? "" : "s"}:\n${lines.join("\n")}`);
    this.name = "AuthSourceError";
  }
}

export const MIN_SALT_SECRET_BYTES = 16;

/** 16 salt characters from HMAC-SHA512(secret, user): 256 is a multiple of 64, so `byte & 63` is unbiased. */
export function deriveSalt(secret: string | Buffer, user: string): string {
  const mac = createHmac("sha512", secret).update(user, "utf8").digest();
  let salt = "";
  for (let i = 0; i < 16; i++) salt += CRYPT_ALPHABET[mac[i] & 63];
  return salt;
}

const B64 = "[./0-9A-Za-z]";
const HASH_SHAPES: Array<{ name: string; pattern: RegExp }> = [
  { name: "$1$ MD5", pattern: new RegExp(`^\\$1\\$${B64}{0,8}\\$${B64}{22}$`) },
  { name: "$5$ SHA-256", pattern: new RegExp(`^\\$5\\$(rounds=[1-9][0-9]{0,8}\\$)?${B64}{0,16}\\$${B64}{43}$`) },
  { name: "$6$ SHA-512", pattern: new RegExp(`^\\$6\\$(rounds=[1-9][0-9]{0,8}\\$)?${B64}{0,16}\\$${B64}{86}$`) },
  { name: "$y$ yescrypt", pattern: new RegExp(`^\\$y\\$${B64}+\\$${B64}*\\$${B64}{43}$`) },
];

/** Why a hash is not usable, or undefined. Never quotes the hash. */
export function hashShapeProblem(hash: string): string | undefined {
  if (HASH_SHAPES.some((shape) => shape.pattern.test(hash))) return undefined;
  const scheme = /^\$(1|5|6|y)\$/.exec(hash);
  if (scheme) {
    const shape = HASH_SHAPES.find((s) => s.name.startsWith(`$${scheme[1]}$`))!;
    return `hash starts like ${shape.name} but is not shaped like one (salt or digest length, characters); copy it again from the hash generator`;
  }
  return "hash is not a crypt hash of a supported kind ($1$, $5$, $6$ or $y$); if it is a plain password, give it as a plain password instead";
}

function controlCharacter(text: string): string | undefined {
  const m = /[\x00-\x1f\x7f]/.exec(text);
  if (!m) return undefined;
  const code = m[0].charCodeAt(0);
  return code === 0 ? "NUL" : code === 10 ? "a line break" : code === 13 ? "a carriage return" : code === 9 ? "a tab" : `control character 0x${code.toString(16).padStart(2, "0")}`;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function envNameProblem(name: string): string | undefined {
  if (ENV_NAME.test(name)) return undefined;
  if (name === "") return "a variable has an empty name";
  const bad = /[,="'\s]/.exec(name);
  const what = bad ? (bad[0] === "," ? "a comma" : bad[0] === "=" ? "'='" : bad[0] === '"' || bad[0] === "'" ? "a quote" : "whitespace") : undefined;
  return `variable name ${JSON.stringify(name)} ${what ? `contains ${what}, which qmail-smtpd would misparse` : "is not a plain name"}; use letters, digits and '_', not starting with a digit`;
}

/** Unix seconds for an expiry given as seconds, Date, `YYYY-MM-DD` (UTC midnight) or ISO time with zone. */
export function parseExpiry(expires: number | string | Date): number | string {
  if (expires instanceof Date) {
    const ms = expires.getTime();
    return Number.isNaN(ms) ? "expiry is an invalid Date" : Math.floor(ms / 1000);
  }
  if (typeof expires === "number") {
    return Number.isSafeInteger(expires) && expires >= 0 ? expires : `expiry ${expires} is not a whole number of seconds since 1970`;
  }
  const text = expires.trim();
  if (/^[0-9]+$/.test(text)) return Number(text);
  if (/^\d{4}-\d{2}-\d{2}$/.test(text)) {
    const ms = Date.parse(`${text}T00:00:00Z`);
    if (!Number.isNaN(ms) && new Date(ms).toISOString().startsWith(text)) return ms / 1000;
  } else if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(text)) {
    const ms = Date.parse(text);
    if (!Number.isNaN(ms)) return Math.floor(ms / 1000);
  } else {
    // An unquoted YAML date reaches the program as Go prints a time: "2030-01-01 00:00:00 +0000 UTC".
    const go = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(\.\d+)? ([+-]\d{2})(\d{2}) \S+$/.exec(text);
    if (go) {
      const ms = Date.parse(`${go[1]}T${go[2]}${go[3] ?? ""}${go[4]}:${go[5]}`);
      if (!Number.isNaN(ms)) return Math.floor(ms / 1000);
    }
  }
  const shown = text.length <= 40 && !/[\x00-\x1f\x7f]/.test(text) ? ` ${JSON.stringify(text)}` : "";
  return `expiry${shown} is not unix seconds, YYYY-MM-DD or an ISO time with a zone (e.g. 2027-01-31T12:00:00Z)`;
}

/** What of a user a problem is about: its password (hash or plain), its expiry, or one variable; none: the user as a whole. */
export type AuthField = "hash" | "password" | "expires" | { env: string };

/** The line of the users file a user (or one of its fields) is written on. */
export type AuthLineOf = (user: AuthUser, field?: AuthField) => number | undefined;

/** One auth.cdb record per user, sorted by user name (bytewise), values ready. */
export function authRecords(users: readonly AuthUser[], options: AuthBuildOptions = {}, lineOf?: AuthLineOf): Array<{ user: string; value: string }> {
  const problems: AuthProblem[] = [];
  const seen = new Set<string>();
  const records: Array<{ user: string; value: string }> = [];
  const needsSecret = users.some((u) => u.password !== undefined);
  if (needsSecret) {
    const secret = options.saltSecret;
    const length = secret === undefined ? 0 : Buffer.byteLength(secret);
    if (length < MIN_SALT_SECRET_BYTES) {
      throw new AuthSourceError([{ reason: `plain passwords need a salt secret of at least ${MIN_SALT_SECRET_BYTES} bytes (${secret === undefined ? "none given" : `got ${length}`}); set QMAIL_FLEET_SALT_SECRET or pass saltSecret` }]);
    }
  }

  for (const entry of users) {
    const problem = (reason: string, field?: AuthField) => problems.push({ line: (field && lineOf?.(entry, field)) ?? lineOf?.(entry), user: entry.user, reason });
    const user = entry.user;
    if (user === "") problem("user name is empty");
    const userControl = controlCharacter(user);
    if (userControl) problem(`user name contains ${userControl}`);
    // A comma is harmless in a user name: the key is looked up as sent, never
    // parsed. A colon is refused because the users file could not express it.
    if (user.includes(":")) problem("user name contains ':' (the separator of the users file)");
    if (user.trim() !== user) problem("user name starts or ends with whitespace");
    if (seen.has(user)) problem("user is listed more than once");
    seen.add(user);

    let hash: string | undefined;
    if (entry.hash !== undefined && entry.password !== undefined) problem("has both a hash and a plain password; give one");
    else if (entry.hash !== undefined) {
      const why = hashShapeProblem(entry.hash);
      if (why) problem(why, "hash");
      else hash = entry.hash;
    } else if (entry.password !== undefined) {
      if (entry.password === "") problem("plain password is empty", "password");
      else if (controlCharacter(entry.password)) problem("plain password contains a line break, NUL or another control character", "password");
      else {
        const salt = deriveSalt(options.saltSecret!, user);
        hash = sha512Crypt(entry.password, salt, options.rounds === undefined ? {} : { rounds: options.rounds });
      }
    } else problem("has neither a hash nor a plain password");

    const env: Record<string, string> = { ...(entry.env ?? {}) };
    if (entry.expires !== undefined) {
      if ("PASSWORD_EXPIRES" in env) problem("sets PASSWORD_EXPIRES both as expiry and as a variable; keep one", { env: "PASSWORD_EXPIRES" });
      const seconds = parseExpiry(entry.expires);
      if (typeof seconds === "string") problem(seconds, "expires");
      else env.PASSWORD_EXPIRES = String(seconds);
    } else if ("PASSWORD_EXPIRES" in env && !/^[0-9]+$/.test(env.PASSWORD_EXPIRES)) {
      problem("PASSWORD_EXPIRES must be unix seconds (digits only); or use the expiry field, which also takes dates", { env: "PASSWORD_EXPIRES" });
    }
    let value = hash ?? "";
    for (const name of Object.keys(env).sort()) {
      const nameWhy = envNameProblem(name);
      if (nameWhy) {
        problem(nameWhy, { env: name });
        continue;
      }
      const v = env[name];
      if (v.includes('"')) problem(`value of ${name} contains a double quote, which qmail-smtpd would misparse; remove it`, { env: name });
      const control = controlCharacter(v);
      if (control) problem(`value of ${name} contains ${control}; remove it`, { env: name });
      value += `,${name}="${v}"`;
    }
    records.push({ user, value });
  }
  if (problems.length > 0) throw new AuthSourceError(problems);
  const bytewise = (a: string, b: string) => Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
  return records.sort((a, b) => bytewise(a.user, b.user));
}

export function buildAuthCdb(users: readonly AuthUser[], options: AuthBuildOptions = {}, lineOf?: AuthLineOf): Buffer {
  const records = authRecords(users, options, lineOf);
  const writer = new CdbBufferWriter({ expectedRecords: records.length });
  for (const { user, value } of records) writer.add(user, value);
  return writer.toBuffer();
}

/**
 * The users file, one attribute per line, `USER:ATTRIBUTE:VALUE`:
 *   alice@example.com:hash:$6$...              ready crypt hash
 *   bob@example.com:plain:correct horse        plain password = everything after "plain:", verbatim
 *   bob@example.com:expires:2027-01-31         unix seconds, YYYY-MM-DD (UTC) or ISO time with zone
 *   bob@example.com:env:QMAILQUEUE=/var/qmail/bin/simscan
 * `#` comment lines and blank lines are ignored. Lines of one user may be anywhere.
 */
export function parseAuthSource(text: string): { users: AuthUser[]; lineOf: AuthLineOf } {
  const byName = new Map<string, AuthUser>();
  const firstLine = new Map<AuthUser, number>();
  /** Per user, the line of each field ("hash", "password", "expires", "env:NAME"): the last one given. */
  const fieldLines = new Map<AuthUser, Map<string, number>>();
  const problems: AuthProblem[] = [];
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  lines.forEach((raw, i) => {
    const line = i + 1;
    if (raw.trim() === "" || raw.trimStart().startsWith("#")) return;
    const first = raw.indexOf(":");
    const second = first < 0 ? -1 : raw.indexOf(":", first + 1);
    if (second < 0) {
      problems.push({ line, reason: "expected USER:ATTRIBUTE:VALUE (attributes: hash, plain, expires, env)" });
      return;
    }
    const name = raw.slice(0, first);
    const attribute = raw.slice(first + 1, second);
    const value = raw.slice(second + 1);
    const problem = (reason: string) => problems.push({ line, user: name, reason });
    let user = byName.get(name);
    if (!user) {
      user = { user: name };
      byName.set(name, user);
      firstLine.set(user, line);
      fieldLines.set(user, new Map());
    }
    const at = (field: string) => fieldLines.get(user!)!.set(field, line);
    switch (attribute) {
      case "hash":
        if (user.hash !== undefined) problem("second hash line");
        user.hash = value.trim();
        at("hash");
        break;
      case "plain":
        // Verbatim: spaces belong to the password. A stray CR (DOS file) would too, so refuse it.
        if (value.includes("\r")) problem("plain password line ends in a carriage return; save the file with Unix line endings");
        else if (user.password !== undefined) problem("second plain password line");
        else {
          user.password = value;
          at("password");
        }
        break;
      case "expires":
        if (user.expires !== undefined) problem("second expires line");
        user.expires = value.trim();
        at("expires");
        break;
      case "env": {
        const equals = value.indexOf("=");
        if (equals < 0) {
          problem("env line needs NAME=value");
          break;
        }
        const envName = value.slice(0, equals);
        user.env ??= {};
        if (envName in user.env) problem(`variable ${JSON.stringify(envName)} given twice`);
        user.env[envName] = value.slice(equals + 1).replace(/\r$/, "");
        at(`env:${envName}`);
        break;
      }
      default:
        // Not quoted: with a mistyped line the "attribute" may be part of a password.
        problem("unknown attribute in the second field (expected hash, plain, expires or env)");
    }
  });
  if (problems.length > 0) throw new AuthSourceError(problems);
  const fieldKey = (field: AuthField) => (typeof field === "string" ? field : `env:${field.env}`);
  return { users: [...byName.values()], lineOf: (u, field) => (field === undefined ? firstLine.get(u) : fieldLines.get(u)?.get(fieldKey(field))) };
}
