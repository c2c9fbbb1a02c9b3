// Checks of the shared-file config that need the cdb builders or crypto: the
// same rules the builders apply when planning, run early so bad input is
// refused with its field path before anything is planned. Pure.
import { AuthSourceError, authRecords, MIN_SALT_SECRET_BYTES } from "../cdb/auth";
import { renderTcpRules, TcpRulesSourceError } from "../cdb/tcprules";
import { buildOnce } from "../cdb/build-once";
import { buildValidRcptTo, ValidRcptToSourceError } from "../cdb/validrcptto";
import type { PathKey } from "./issue-path";
import { isOpaqueSecret, type SecretString } from "./secret";
import { type AuthUserConfig, type TcpRuleSet } from "./shared-files";
import { keyMatchesCertificate, readCertificateChain, readPrivateKey } from "./ssl-pair";

export interface Finding {
  /** Relative to the object checked. */
  path: PathKey[];
  message: string;
}

// Stand-ins for the secret parts, so the builder checks everything else without seeing a password.
const STAND_IN_PASSWORD = "stand-in";
/** A well-formed hash standing in for a plain password: checking an entry needs no SHA-512 crypt rounds. */
const STAND_IN_HASH = "$6$standin$" + "x".repeat(86);
const STAND_IN_SALT_SECRET = "x".repeat(MIN_SALT_SECRET_BYTES);

/** What lib/cdb/auth would refuse in this entry, plus the plain-password rules. Never quotes secrets. */
export function authUserFindings(entry: AuthUserConfig): Finding[] {
  const findings: Finding[] = [];
  if (typeof entry.password === "string" && /[\x00-\x1f\x7f]/.test(entry.password))
    findings.push({ path: ["password"], message: "the password contains a line break, NUL or another control character" });
  const probe = {
    user: entry.user,
    ...(entry.hash !== undefined ? { hash: entry.hash } : {}),
    // A password beside a hash stays a password, so that the builder refuses the pair.
    ...(entry.password !== undefined ? (entry.hash !== undefined ? { password: STAND_IN_PASSWORD } : { hash: STAND_IN_HASH }) : {}),
    ...(entry.env !== undefined ? { env: entry.env } : {}),
    ...(entry.expires !== undefined ? { expires: entry.expires } : {}),
  };
  try {
    authRecords([probe], { saltSecret: STAND_IN_SALT_SECRET, rounds: 1000 });
  } catch (error) {
    if (!(error instanceof AuthSourceError)) throw error;
    for (const problem of error.problems) findings.push({ path: fieldOf(problem.reason), message: problem.reason });
  }
  return findings;
}

/** The field a builder's reason is about; the entry itself when it is about several. */
function fieldOf(reason: string): PathKey[] {
  if (/^user (name|is listed)/.test(reason)) return ["user"];
  if (/^(expiry|sets PASSWORD_EXPIRES)/.test(reason)) return ["expires"];
  if (/^(variable|value of|PASSWORD_EXPIRES)/.test(reason)) return ["env"];
  if (/^hash/.test(reason)) return ["hash"];
  if (/^plain password/.test(reason)) return ["password"];
  return [];
}

/** `saltSecret` problems when some user has a plain password (`firstPasswordAt` names one). */
export function saltSecretFinding(saltSecret: SecretString | undefined, firstPasswordAt: string): string | undefined {
  if (saltSecret === undefined)
    return `${firstPasswordAt} is a plain password, hashed with a salt derived from saltSecret, which is not set: run \`pulumi config set --secret saltSecret <random>\` (at least ${MIN_SALT_SECRET_BYTES} bytes, e.g. from \`openssl rand -base64 24\`)`;
  if (!isOpaqueSecret(saltSecret) && Buffer.byteLength(saltSecret) < MIN_SALT_SECRET_BYTES)
    return `saltSecret must be at least ${MIN_SALT_SECRET_BYTES} bytes: run \`pulumi config set --secret saltSecret <random>\` with a longer value (e.g. from \`openssl rand -base64 24\`)`;
  return undefined;
}

/** Problems of a structured rule set, found by rendering it as tcprules source. */
export function tcpRuleSetFindings(set: TcpRuleSet): Finding[] {
  if (!set.rules) return [];
  // tcprules matches prefixes at dots, not CIDR blocks: "10.0.0.0/8" would be a key no client ever has.
  const cidr = set.rules.flatMap((rule, index): Finding[] => {
    const match = /^(\d{1,3}(?:\.\d{1,3}){0,3})\/(\d{1,2})$/.exec(rule.address);
    if (!match) return /\//.test(rule.address) ? [{ path: ["rules", index, "address"], message: `address '${rule.address}' is no tcprules address: write an address (1.2.3.4), a prefix ending in a dot (1.2.3.), a range (1.2.3.40-50) or =host.name` }] : [];
    const bits = Number(match[2]);
    const octets = match[1].split(".");
    const prefix = bits % 8 === 0 && bits <= 32 ? octets.slice(0, bits / 8).map((o) => `${o}.`).join("") : undefined;
    const hint = prefix === undefined ? "a list of prefixes or ranges" : prefix === "" ? 'the default rule, address ""' : `the prefix ${prefix}`;
    return [{ path: ["rules", index, "address"], message: `address '${rule.address}' is CIDR notation, which tcprules does not know: no client would match it; write ${hint} instead` }];
  });
  if (cidr.length > 0) return cidr;
  try {
    renderTcpRules(set.rules);
    return [];
  } catch (error) {
    if (!(error instanceof TcpRulesSourceError)) throw error;
    return error.problems.map((p) => ({ path: ["rules", p.line - 1], message: p.reason }));
  }
}

/** Problems of the addresses list, one per bad entry. */
export function validRcptToAddressFindings(addresses: readonly string[]): Finding[] {
  if (addresses.length === 0) return [];
  try {
    // Checked by building it, once per process for the same list (the plan
    // builds the same lines). An entry holding a line break is no line: the
    // entry-wise build names it.
    const source = `${addresses.join("\n")}\n`;
    if (lineCount(source) === addresses.length) buildOnce("validrcptto", source, () => buildValidRcptTo(addresses));
    else buildValidRcptTo(addresses);
    return [];
  } catch (error) {
    if (!(error instanceof ValidRcptToSourceError)) throw error;
    // "on entry N" counts from 1; the path, as every path, from 0.
    return error.problems.map((p) => ({ path: ["addresses", p.line - 1], message: p.reason.replace(/ on entry (\d+)$/, (_, n: string) => ` at validRcptTo.addresses[${Number(n) - 1}]`) }));
  }
}

/** Lines of text ending in "\n", or -1 when it holds a carriage return. */
function lineCount(text: string): number {
  if (text.includes("\r")) return -1;
  let lines = 0;
  for (let at = text.indexOf("\n"); at !== -1; at = text.indexOf("\n", at + 1)) lines++;
  return lines;
}

/** A warning when the server certificate (the chain's first) is not valid at `now`: clients refuse TLS with it. */
export function certificateValidityFinding(certificate: string, now: Date): string | undefined {
  const [cert] = readCertificateChain(certificate);
  if (!cert) return undefined; // none, or sslPairFinding reports it
  const day = (text: string) => new Date(text).toISOString().slice(0, 10);
  if (new Date(cert.validTo).getTime() <= now.getTime())
    return `the server certificate expired on ${day(cert.validTo)}: clients refuse TLS with it, and a service that forces TLS gets no mail; renew it`;
  if (new Date(cert.validFrom).getTime() > now.getTime())
    return `the server certificate is valid only from ${day(cert.validFrom)}: until then clients refuse TLS with it`;
  return undefined;
}

/**
 * Key and chain read as TLS will read them: the key parses, every certificate
 * parses, and the key belongs to the first certificate. Plain values only.
 */
export function sslPairFinding(key: string, certificate: string): { field: "sslKey" | "sslCertificate"; message: string } | undefined {
  if (!readPrivateKey(key)) return { field: "sslKey", message: "sslKey has the shape of a PEM private key but cannot be read as one: copy the whole PEM block again" };
  const unreadable = readCertificateChain(certificate).findIndex((cert) => cert === undefined);
  if (unreadable >= 0) return { field: "sslCertificate", message: `certificate ${unreadable + 1} of sslCertificate cannot be read: copy the whole PEM block again` };
  if (!keyMatchesCertificate(key, certificate))
    return {
      field: "sslKey",
      message: "sslKey does not belong to the first certificate of sslCertificate: give the key of the server certificate, and put the server certificate first, then the intermediates",
    };
  return undefined;
}
