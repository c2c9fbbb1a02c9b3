// Config of the files services share on a mailhub, beside the run scripts:
//   sslKey + sslCertificate  one PEM file (key, then chain) at the services' certificateFile
//   authUsers                auth.cdb at every auth.cdbFile of a service with auth.method cdb
//   validRcptTo              validrcptto.cdb at every service's validRcptTo.cdbFile
//   tcpRules                 tcprules cdbs, keyed by the path services name in accessRules
// Shapes only; what needs more than one field is checked in lib/config.ts.
// Messages never quote a key, a password or a hash.
import { z } from "zod";
import { absolutePath, nonEmptyText, scriptText, textProblem } from "./primitives";
import { encryptedSecret, secretString } from "./secret";
import { strictGroup } from "./strict";

/** Where qmail-smtpd looks for its certificate when TLS_SERVER_CERT is not set, relative to the qmail directory. */
export const DEFAULT_CERTIFICATE_FILE = "control/servercert.pem";

const PEM_PRIVATE_KEY = /-----BEGIN ((RSA|EC|DSA|ENCRYPTED|OPENSSH) )?PRIVATE KEY-----[\s\S]+?-----END ((RSA|EC|DSA|ENCRYPTED|OPENSSH) )?PRIVATE KEY-----/;
const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Why a PEM private key cannot be used by sslserver/qmail-smtpd, or undefined. Never quotes the value. */
export function privateKeyShapeProblem(text: string, what: string): string | undefined {
  if (!PEM_PRIVATE_KEY.test(text)) {
    if (/-----BEGIN CERTIFICATE-----/.test(text))
      return `${what} holds a certificate, not a private key: put the certificate into sslCertificate and the PEM key here`;
    return `${what} must be a PEM private key, as openssl genpkey writes it; the value given is not one`;
  }
  if (/-----BEGIN OPENSSH PRIVATE/.test(text))
    return `${what} is an OpenSSH key, which TLS cannot use: give a PEM key (openssl genpkey, or ssh-keygen -p -m PEM)`;
  if (/-----BEGIN ENCRYPTED PRIVATE|Proc-Type: 4,ENCRYPTED/.test(text))
    return `${what} is protected by a passphrase, which sslserver and qmail-smtpd cannot ask for: decrypt it first (openssl pkey -in key.pem -out plain.pem)`;
  if (/-----BEGIN CERTIFICATE-----/.test(text))
    return `${what} holds a certificate as well: put only the key here, the certificate chain into sslCertificate`;
  return undefined;
}

/** Why a certificate chain is not usable, or undefined. */
export function certificateShapeProblem(text: string, what: string): string | undefined {
  if (/PRIVATE KEY-----/.test(text))
    return `${what} contains a private key, which must not sit in a plain config value: move the key into sslKey (pulumi config set --secret sslKey < key.pem) and keep only certificates here`;
  if ((text.match(PEM_CERTIFICATE) ?? []).length === 0)
    return `${what} must hold one or more PEM certificates (-----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----), the server's first`;
  return undefined;
}

/** The PEM certificates of a chain, in order. */
export function pemCertificates(text: string): string[] {
  return text.match(PEM_CERTIFICATE) ?? [];
}

export const sslKeySchema = (what: string) =>
  secretString(what).superRefine((value, ctx) => {
    if (typeof value !== "string") return;
    const problem = privateKeyShapeProblem(value, what);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  });

// Not secret, but accepted encrypted too (someone may have set it with --secret).
export const sslCertificateSchema = (what: string) =>
  z
    .union([z.string(), encryptedSecret], { error: `${what} must be a string (PEM certificates) or a Pulumi secret ({ secure: "v1:..." })` })
    .superRefine((value, ctx) => {
      if (typeof value !== "string") return;
      const problem = certificateShapeProblem(value, what);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    });

const plainText = (what: string) => z.string({ error: `${what} must be a string` });

/** One login of auth.cdb. Content rules (hash shape, variables, expiry) are lib/cdb/auth's, applied in lib/config.ts. */
export const authUserSchema = strictGroup({
  /** User name as the client sends it, usually the full address. */
  user: plainText("user")
    .min(1, { message: "user must not be empty" })
    .superRefine((s, ctx) => {
      const problem = textProblem(s, "user", 1024);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    }),
  /** Secret: a plain password, hashed with SHA-512 crypt and a salt derived from saltSecret. */
  password: secretString("password").optional(),
  /** A ready crypt(3) hash ($6$..., $5$..., $y$..., $1$...). */
  hash: plainText("hash").optional(),
  /** Variables set after a successful AUTH (auth.cdb's NAME="value" pairs). */
  env: z.record(z.string(), scriptText("env value")).optional(),
  /** Refuse the login from then on: unix seconds, YYYY-MM-DD (UTC) or an ISO time with zone. */
  expires: z
    .union([z.number(), z.string(), z.date()], { error: "expires must be unix seconds, YYYY-MM-DD or an ISO time with a zone" })
    .optional(),
});

export type AuthUserConfig = z.output<typeof authUserSchema>;

/** A list of users, or the whole list as one Pulumi secret. */
// Not a z.union: a list with one bad entry must be reported for that entry, not as "the wrong type".
const authUserList = z.array(authUserSchema);
export const authUsersSchema = z.unknown().transform((value, ctx): z.output<typeof authUserList> | z.output<typeof encryptedSecret> => {
  if (Array.isArray(value)) {
    const list = authUserList.safeParse(value, { reportInput: true });
    if (list.success) return list.data;
    for (const issue of list.error.issues) ctx.addIssue(issue as never);
    return z.NEVER;
  }
  const secret = encryptedSecret.safeParse(value);
  if (secret.success) return secret.data;
  ctx.addIssue({ code: "custom", message: "authUsers must be a list of { user, password | hash, env?, expires? }, or one Pulumi secret holding such a list" });
  return z.NEVER;
});

export type AuthUsersConfig = z.output<typeof authUsersSchema>;

export const validRcptToSourcesSchema = strictGroup({
  /** Entries in validrcptto syntax: user@domain, list-default@domain, @domain, !user@domain. */
  addresses: z.array(plainText("address")).default([]),
  /** Files of such entries, one per line, read when planning (relative to the config file in the CLI). */
  files: z.array(nonEmptyText("validRcptTo.files[]")).default([]),
});

export type ValidRcptToSources = z.output<typeof validRcptToSourcesSchema>;

export const tcpRuleSchema = strictGroup({
  /** tcprules address: 1.2.3.4, prefix 1.2.3., range 1.2.3.40-50, =host.name, =.domain, or "" (default rule). */
  address: plainText("address"),
  action: z.enum(["allow", "deny"], { error: 'action must be "allow" or "deny"' }),
  /** Variables set for matching clients, e.g. { RELAYCLIENT: "" }. */
  env: z.record(z.string(), scriptText("env value")).optional(),
});

export const tcpRuleSetSchema = strictGroup({
  /** Rules in order: the first match wins. */
  rules: z.array(tcpRuleSchema).optional(),
  /** A tcprules source file (ADDRESS:allow|deny,NAME="value"), read when planning. */
  file: nonEmptyText("file").optional(),
}).superRefine((set, ctx) => {
  if ((set.rules === undefined) === (set.file === undefined))
    ctx.addIssue({ code: "custom", message: "a rule set needs either rules: [{ address, action, env? }] or file: <tcprules source>, not both" });
});

export type TcpRuleSet = z.output<typeof tcpRuleSetSchema>;

/** Rule sets keyed by the cdb path the services name in accessRules (tcpserver -x). */
export const tcpRulesSchema = z.record(absolutePath("the tcpRules key (the accessRules path of the cdb)"), tcpRuleSetSchema);

export type TcpRulesConfig = z.output<typeof tcpRulesSchema>;
