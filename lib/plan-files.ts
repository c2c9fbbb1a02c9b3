// The files the services of a mailhub share, beside their run scripts:
//
//   file              where                                   owner:group     mode  secret  restarts
//   key + chain       each TLS service's certificateFile      root:<group>    0640  yes     SSL-wrapped services using it
//                     (STARTTLS default: control/servercert.pem)
//   auth.cdb          each auth.method cdb service's cdbFile  root:<group>    0640  yes     none (read per connection)
//   validrcptto.cdb   each service's validRcptTo.cdbFile      root:<group>    0644  no      none (read per connection)
//   tcprules cdb      each service's accessRules with a set   root:root       0644  no      none (read per connection)
//
// <group> is the group of the services reading the file (default nofiles).
// A file whose inputs the config leaves out is the operator's: not planned.
// A file whose secret inputs are still encrypted (the CLI reading a stack
// file) is not planned either; a warning says so. Pure: the only input beyond
// the config is the injected reader for validRcptTo.files and tcpRules files.
import { basename } from "node:path";
import { describeReadError } from "./source/local-paths";
import { isEncryptedList, type FleetConfig, type HostConfig, type ServiceConfig } from "./config";
import type { FileKind, ManagedFile, RestartTarget, SealedFile } from "./host-plan";
import { AuthSourceError, buildAuthCdb, type AuthUser } from "./cdb/auth";
import { cdbCountLine, cdbRecordCount, summarizeCdb, type CdbKind } from "./cdb/summary";
import { buildTcpRules, TcpRulesSourceError } from "./cdb/tcprules";
import { buildOnce } from "./cdb/build-once";
import { buildValidRcptTo, ValidRcptToSourceError } from "./cdb/validrcptto";
import { isOpaqueSecret } from "./schema/secret";
import { readCertificateChain, readPrivateKey } from "./schema/ssl-pair";
import { DEFAULT_CERTIFICATE_FILE, pemCertificates, type AuthUserConfig, type TcpRuleSet } from "./schema/shared-files";

export class SharedFileError extends Error {}

export interface SharedFilesContext {
  config: FleetConfig;
  readFile: (path: string) => string | Buffer;
  /** Collects "not rendered" notes; planFleet reports them in FleetPlan.warnings. */
  warn: (message: string) => void;
  /** Builds shared by every host (same input, same bytes), keyed by what they were built from. */
  cache: Map<string, Buffer>;
  /** Per host, the secret files whose inputs are encrypted in the config: not rendered, but known by path. */
  sealed: Map<string, SealedFile[]>;
}

export const newSharedFilesContext = (config: FleetConfig, readFile: SharedFilesContext["readFile"], warn: SharedFilesContext["warn"]): SharedFilesContext => ({
  config,
  readFile,
  warn,
  cache: new Map(),
  sealed: new Map(),
});

/** One file wanted by one service; several services may want the same path. A sealed one has no content yet. */
type Wanted = Omit<ManagedFile, "restarts"> & { restarts: RestartTarget[]; what: string; by: string; sealedInputs?: string };


const ORDER: Record<string, number> = { certificate: 0, "auth.cdb": 1, "validrcptto.cdb": 2, "tcprules cdb": 3 };

/**
 * The host's shared files: certificate files, auth.cdb, validrcptto.cdb,
 * tcprules cdbs, each group sorted by path. Those whose inputs are encrypted
 * go to context.sealed instead.
 */
export function planSharedFiles(host: HostConfig, context: SharedFilesContext): ManagedFile[] {
  const wanted = [...certificateFiles(host, context), ...authFiles(host, context), ...validRcptToFiles(host, context), ...tcpRulesFiles(host, context)];
  wanted.sort((a, b) => ORDER[a.what] - ORDER[b.what] || compareBytes(a.path, b.path));
  const byPath = new Map<string, Wanted>();
  for (const file of wanted) {
    const first = byPath.get(file.path);
    if (!first) {
      byPath.set(file.path, { ...file, restarts: [...file.restarts] });
      continue;
    }
    if (first.what !== file.what)
      throw new SharedFileError(`host ${host.name}: ${file.path} would hold both the ${first.what} (service ${first.by}) and the ${file.what} (service ${file.by}): give them separate paths`);
    if (first.owner !== file.owner || first.group !== file.group || first.mode !== file.mode)
      throw new SharedFileError(
        `host ${host.name}: the ${file.what} ${file.path} is read by service ${first.by} as ${first.owner}:${first.group} ${octal(first.mode)} and by service ${file.by} as ${file.owner}:${file.group} ${octal(file.mode)}: give the services the same group, or separate files`,
      );
    for (const target of file.restarts)
      if (!first.restarts.some((t) => t.service === target.service && t.part === target.part)) first.restarts.push(target);
  }
  const files: ManagedFile[] = [];
  const sealed: SealedFile[] = [];
  for (const { what: _what, by: _by, sealedInputs, ...file } of byPath.values()) {
    if (sealedInputs === undefined) files.push(file);
    else {
      const { content: _none, summary: _noSummary, ...where } = file;
      sealed.push({ ...where, sealedInputs });
    }
  }
  context.sealed.set(host.name, sealed);
  return files;
}

/** A file whose inputs are encrypted, known by path only: no bytes, so nothing to install or summarize. */
const NO_CONTENT = Buffer.alloc(0);

const octal = (mode: number) => mode.toString(8).padStart(4, "0");
const compareBytes = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

// --- SSL key and certificate -------------------------------------------------

import { certificatePathOf } from "./schema/tls-paths";
export { certificatePathOf };

function certificateFiles(host: HostConfig, context: SharedFilesContext): Wanted[] {
  if (!host.ssl) return [];
  const readers = host.services.filter((service) => certificatePathOf(service) !== undefined);
  if (readers.length === 0) return [];
  const { key, certificate } = host.ssl;
  const encrypted = isOpaqueSecret(key) || isOpaqueSecret(certificate);
  if (encrypted) {
    const paths = [...new Set(readers.map((s) => certificatePathOf(s)!))].sort(compareBytes);
    const which = isOpaqueSecret(key) ? "the key (sslKey)" : "sslCertificate";
    for (const path of paths) context.warn(`host ${host.name}: ${path} not rendered: ${which} is encrypted in the stack file (pulumi up decrypts it)`);
  }
  const sealedInputs = encrypted ? JSON.stringify([key, certificate]) : undefined;
  const content = sealedInputs === undefined ? certificateFileContent(key as string, certificate as string) : NO_CONTENT;
  return readers.map((service) => {
    const path = certificatePathOf(service)!;
    return {
      path,
      content,
      ...(sealedInputs !== undefined ? { sealedInputs } : {}),
      owner: "root",
      group: service.group,
      mode: 0o640,
      kind: "secret" as FileKind,
      secret: true,
      // sslserver loads key and certificate when it starts; qmail-smtpd reads its STARTTLS certificate per connection.
      restarts: service.ssl ? [{ service: service.name, part: "service" as const }] : [],
      ...(sealedInputs === undefined ? { summary: certificateSummary(basename(path), key as string, certificate as string) } : {}),
      what: "certificate",
      by: service.name,
    };
  });
}

const PRIVATE_KEY_BLOCK = /-----BEGIN ([A-Z]+ )?PRIVATE KEY-----[\s\S]+?-----END ([A-Z]+ )?PRIVATE KEY-----/;

/** qmail's servercert.pem: the private key, then the chain, PEM blocks only, LF line ends. */
export function certificateFileContent(key: string, certificate: string): Buffer {
  const keyBlock = PRIVATE_KEY_BLOCK.exec(key.replace(/\r\n/g, "\n"));
  if (!keyBlock) throw new SharedFileError("sslKey is not a PEM private key");
  const blocks = [keyBlock[0], ...pemCertificates(certificate.replace(/\r\n/g, "\n"))];
  return Buffer.from(blocks.map((block) => `${block}\n`).join(""), "utf8");
}

/** e.g. `servercert.pem: ed25519 key + 2 certificates (CN=mx.example.com, valid until 2027-01-31)`. */
export function certificateSummary(fileName: string, key: string, certificate: string): string {
  const chain = readCertificateChain(certificate);
  const keyType = readPrivateKey(key)?.asymmetricKeyType ?? "private";
  let about = "";
  const [first] = chain;
  // Checked when the config was parsed; a summary never fails a plan.
  if (first) {
    const name = first.subject.split("\n").find((line) => line.startsWith("CN=")) ?? first.subject.split("\n")[0];
    const until = new Date(first.validTo);
    about = ` (${name}${Number.isNaN(until.getTime()) ? "" : `, valid until ${until.toISOString().slice(0, 10)}`})`;
  }
  return `${fileName}: ${keyType} key + ${chain.length} certificate${chain.length === 1 ? "" : "s"}${about}`;
}

// --- auth.cdb ----------------------------------------------------------------

function authFiles(host: HostConfig, context: SharedFilesContext): Wanted[] {
  const readers = host.services.filter((service) => service.auth.method === "cdb" && service.auth.cdbFile);
  const users = host.authUsers;
  if (readers.length === 0 || users === undefined) return [];
  const paths = () => [...new Set(readers.map((s) => s.auth.cdbFile!))].sort(compareBytes);
  const hasPassword = !isEncryptedList(users) && users.some((u) => u.password !== undefined);
  const why = isEncryptedList(users)
    ? "authUsers is encrypted in the stack file"
    : users.some((u) => isOpaqueSecret(u.password))
      ? "its passwords are encrypted in the stack file"
      : hasPassword && isOpaqueSecret(context.config.saltSecret)
        ? "saltSecret is encrypted in the stack file"
        : undefined;
  if (why !== undefined) for (const path of paths()) context.warn(`host ${host.name}: ${path} (auth.cdb) not rendered: ${why} (pulumi up decrypts them)`);
  const sealedInputs = why !== undefined ? JSON.stringify([users, hasPassword ? context.config.saltSecret : undefined]) : undefined;

  const content =
    sealedInputs !== undefined
      ? NO_CONTENT
      : cached(context, `auth\0${JSON.stringify(users)}`, () => {
          const saltSecret = context.config.saltSecret as string | undefined;
          try {
            // SHA-512 crypt of every password: once per process for the same users, not once per host.
            return buildOnce("auth", JSON.stringify([users, saltSecret ?? null]), () => buildAuthCdb((users as AuthUserConfig[]).map(toAuthUser), { saltSecret }));
          } catch (error) {
            if (error instanceof AuthSourceError) throw new SharedFileError(`host ${host.name}: ${error.message}`);
            throw error;
          }
        });
  return readers.map((service) => ({
    path: service.auth.cdbFile!,
    content,
    ...(sealedInputs !== undefined ? { sealedInputs } : {}),
    owner: "root",
    group: service.group,
    // Hashes: readable by the service's group, never by the world.
    mode: 0o640,
    kind: "cdb" as FileKind,
    cdb: "auth" as const,
    secret: true,
    restarts: [],
    ...(sealedInputs === undefined ? { summary: authSummary(basename(service.auth.cdbFile!), content) } : {}),
    what: "auth.cdb",
    by: service.name,
  }));
}

function toAuthUser(entry: AuthUserConfig): AuthUser {
  const user: AuthUser = { user: entry.user };
  if (entry.hash !== undefined) user.hash = entry.hash;
  if (typeof entry.password === "string") user.password = entry.password;
  if (entry.env !== undefined) user.env = entry.env;
  if (entry.expires !== undefined) user.expires = entry.expires;
  return user;
}

const SUMMARY_NAMES = 10;

/** `auth.cdb: 2 users (alice@example.com, bob@example.com)`: names, never hashes. */
export function authSummary(fileName: string, content: Buffer): string {
  const summary = summarizeCdb("auth", content, undefined, fileName);
  const names = summary.added;
  if (names.length === 0) return cdbLine(summary.line);
  const shown = names.slice(0, SUMMARY_NAMES).join(", ");
  return `${cdbLine(summary.line)} (${shown}${names.length > SUMMARY_NAMES ? `, and ${names.length - SUMMARY_NAMES} more` : ""})`;
}

/** summarizeCdb's line without the "(new)" it adds when there is no previous build. */
const cdbLine = (line: string) => line.replace(/ \(new\)$/, "");

/** `validrcptto.cdb: 1,000,000 addresses`: the count from the header, no pass over the records. */
export const cdbSummary = (kind: CdbKind, fileName: string, content: Buffer) => cdbCountLine(kind, cdbRecordCount(content), fileName);

// --- validrcptto.cdb ---------------------------------------------------------

function validRcptToFiles(host: HostConfig, context: SharedFilesContext): Wanted[] {
  const sources = context.config.validRcptTo;
  const readers = host.services.filter((service) => service.validRcptTo.cdbFile !== undefined);
  if (!sources || readers.length === 0) return [];
  const content = cached(context, "validrcptto", () => buildValidRcptToSources(sources.addresses, sources.files, context.readFile));
  return readers.map((service) => ({
    path: service.validRcptTo.cdbFile!,
    content,
    owner: "root",
    group: service.group,
    // Addresses are not secret; the service user reads it per connection.
    mode: 0o644,
    kind: "cdb" as FileKind,
    cdb: "validrcptto" as const,
    secret: false,
    restarts: [],
    summary: cdbSummary("validrcptto", basename(service.validRcptTo.cdbFile!), content),
    what: "validrcptto.cdb",
    by: service.name,
  }));
}

/** validrcptto.cdb of the addresses, then every file's lines; errors name the source. */
export function buildValidRcptToSources(addresses: readonly string[], files: readonly string[], readFile: SharedFilesContext["readFile"]): Buffer {
  const texts = files.map((file, index) => {
    try {
      return toBuffer(readFile(file));
    } catch (error) {
      throw new SharedFileError(`validRcptTo.files[${index}]: cannot read ${file}: ${describeReadError(error)}`);
    }
  });
  const parts = [Buffer.from(addresses.map((a) => `${a}\n`).join(""), "utf8"), ...texts.map(withFinalNewline)];
  const source = Buffer.concat(parts);
  try {
    return buildOnce("validrcptto", source, () => buildValidRcptTo(source));
  } catch (error) {
    if (!(error instanceof ValidRcptToSourceError)) throw error;
    // Name the source that is wrong on its own; else the problem is between sources.
    for (const [index, text] of texts.entries()) {
      try {
        buildValidRcptTo(Buffer.from(text));
      } catch (inner) {
        if (inner instanceof ValidRcptToSourceError) throw new SharedFileError(`validRcptTo.files[${index}] (${files[index]}): ${inner.message}`);
        throw inner;
      }
    }
    throw new SharedFileError(`validRcptTo: ${betweenSources(error, addresses.length, texts.map(withFinalNewline), files)}`);
  }
}

/**
 * A problem of the combined list (addresses, then every file's lines) told
 * by where each line comes from: validRcptTo.addresses[i], or a file's line.
 */
function betweenSources(error: ValidRcptToSourceError, addressCount: number, texts: readonly Buffer[], files: readonly string[]): string {
  const ends: number[] = [];
  let total = addressCount;
  for (const text of texts) {
    for (let at = text.indexOf(0x0a); at !== -1; at = text.indexOf(0x0a, at + 1)) total++;
    ends.push(total);
  }
  const where = (line: number): string => {
    if (line <= addressCount) return `validRcptTo.addresses[${line - 1}]`;
    const index = ends.findIndex((end) => line <= end);
    if (index < 0) return `line ${line} of the combined list`;
    return `validRcptTo.files[${index}] (${files[index]}) line ${line - (index === 0 ? addressCount : ends[index - 1])}`;
  };
  const shown = error.problems.slice(0, 10).map((p) => `  ${where(p.line)}: ${p.reason.replace(/ on line (\d+)$/, (_, n: string) => ` at ${where(Number(n))}`)}`);
  const more = error.problems.length > 10 ? [`  ... and ${error.problems.length - 10} more`] : [];
  return `${error.problems.length === 1 ? "1 problem" : `${error.problems.length} problems`} between its sources (addresses, then files in order):\n${[...shown, ...more].join("\n")}`;
}

const toBuffer = (data: string | Buffer) => (typeof data === "string" ? Buffer.from(data, "utf8") : data);
const withFinalNewline = (bytes: Buffer) => (bytes.length === 0 || bytes[bytes.length - 1] === 0x0a ? bytes : Buffer.concat([bytes, Buffer.from("\n")]));

// --- tcprules cdbs -----------------------------------------------------------

function tcpRulesFiles(host: HostConfig, context: SharedFilesContext): Wanted[] {
  const sets = context.config.tcpRules ?? {};
  const wanted: Wanted[] = [];
  for (const service of host.services) {
    const path = service.accessRules;
    // No set for the path: the operator manages that cdb.
    if (path === undefined || !Object.prototype.hasOwnProperty.call(sets, path)) continue;
    const content = cached(context, `tcprules\0${path}`, () => buildRuleSet(path, sets[path], context.readFile));
    wanted.push({
      path,
      content,
      owner: "root",
      group: "root",
      mode: 0o644,
      kind: "cdb",
      cdb: "tcprules",
      secret: false,
      // tcpserver opens the rules cdb for every connection.
      restarts: [],
      summary: cdbSummary("tcprules", basename(path), content),
      what: "tcprules cdb",
      by: service.name,
    });
  }
  return wanted;
}

export function buildRuleSet(path: string, set: TcpRuleSet, readFile: SharedFilesContext["readFile"]): Buffer {
  if (set.rules) {
    try {
      return buildTcpRules(set.rules);
    } catch (error) {
      if (error instanceof TcpRulesSourceError) throw new SharedFileError(`tcpRules.${path}.rules: ${error.message}`);
      throw error;
    }
  }
  let source: Buffer;
  try {
    source = toBuffer(readFile(set.file!));
  } catch (error) {
    throw new SharedFileError(`tcpRules.${path}.file: cannot read ${set.file}: ${describeReadError(error)}`);
  }
  try {
    return buildTcpRules(source);
  } catch (error) {
    if (error instanceof TcpRulesSourceError) throw new SharedFileError(`tcpRules.${path}.file (${set.file}): ${error.message}`);
    throw error;
  }
}

function cached(context: SharedFilesContext, key: string, build: () => Buffer): Buffer {
  let bytes = context.cache.get(key);
  if (!bytes) {
    bytes = build();
    context.cache.set(key, bytes);
  }
  return bytes;
}
