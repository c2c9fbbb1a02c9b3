// Rules that need more than one field of a service. Errors are the
// configurations qmail-smtpd or the chain cannot run with (most would make
// every client get a 421); warnings are what the seed advises against.
import type { ServiceConfig } from "./service";
import { basename } from "node:path";
import { programFlags, sectionExports } from "../render/option-values";
import { OPTION_SECTIONS } from "./catalog";

/** Bounds well under Linux's (128 KiB per string, ARG_MAX for all of them together). */
export const MAX_ENVIRONMENT_BYTES = 32 * 1024;
export const MAX_ARGUMENT_BYTES = 16 * 1024;
import { isLoopback } from "./primitives";

/** A finding about one service; `path` is relative to the service object. */
export interface ServiceFinding {
  path: Array<string | number>;
  message: string;
}

/** True when qmail-smtpd would offer STARTTLS (a plain TCP service that does not deny it). */
export function offersStartTls(service: ServiceConfig): boolean {
  return !service.ssl && !service.denyTls;
}

export const isActive = (group: { enabled: boolean } | undefined): boolean => group?.enabled === true;

export function serviceErrors(s: ServiceConfig): ServiceFinding[] {
  const errors: ServiceFinding[] = [];
  const fail = (path: ServiceFinding["path"], message: string) => errors.push({ path, message });
  const { auth } = s;

  if (s.forceTls && s.denyTls)
    fail(["forceTls"], "forceTls and denyTls are both set: qmail-smtpd would answer every client 421; remove one of them");
  if (s.forceTls && !s.ssl && !s.certificateFile)
    fail(["certificateFile"], "forceTls needs a certificate: set certificateFile, or give sslKey and sslCertificate (without a readable one qmail-smtpd answers every client 421)");
  if (s.ssl && !s.certificateFile)
    fail(["certificateFile"], "an SSL-wrapped service (ssl: true) needs certificateFile for sslserver: set it, or give sslKey and sslCertificate (then written to control/servercert.pem)");
  if (s.keyFile && !s.ssl)
    fail(["keyFile"], "keyFile is only read by sslserver: set ssl: true, or put the key into certificateFile for STARTTLS");

  if (auth.require && auth.method !== "off" && !s.ssl && s.denyTls && !auth.allowInsecure)
    fail(
      ["auth", "require"],
      "auth.require (REQUIRE_AUTH) on a service that refuses TLS (denyTls): qmail-smtpd offers AUTH only over an encrypted connection, so no client could ever log in and every message would be refused; remove denyTls, or allow AUTH without TLS on a trusted network (auth.allowInsecure)",
    );
  if (auth.require && auth.method === "off")
    fail(["auth", "method"], "auth.require (REQUIRE_AUTH) needs an AUTH method: set auth.method to checkpassword or cdb (otherwise every client gets 421)");
  if (auth.method === "cdb" && auth.allowCram)
    fail(["auth", "allowCram"], "auth.allowCram (ALLOW_CRAM) is impossible with the cdb method (every client would get 421): set allowCram: false or use method checkpassword");
  if (auth.method === "checkpassword" && !auth.checkpasswordProgram)
    fail(["auth", "checkpasswordProgram"], "auth.method checkpassword needs auth.checkpasswordProgram, the full path of e.g. vchkpw");
  if (auth.method === "cdb" && !auth.cdbFile)
    fail(["auth", "cdbFile"], "auth.method cdb needs auth.cdbFile, the full path of auth.cdb");
  if (auth.method !== "cdb" && auth.cdbFile)
    fail(["auth", "cdbFile"], "auth.cdbFile is only used by the cdb method: set auth.method: cdb, or remove cdbFile");
  if (auth.method !== "checkpassword" && auth.checkpasswordProgram)
    fail(["auth", "checkpasswordProgram"], "auth.checkpasswordProgram is only used by the checkpassword method: set auth.method: checkpassword, or remove it");

  if (isActive(s.recordio) && offersStartTls(s))
    fail(["recordio"], "recordio breaks STARTTLS sessions: set denyTls: true on this service, or remove recordio");
  if (isActive(s.rblsmtpd) && s.rblsmtpd!.blockLists.length === 0)
    fail(["rblsmtpd", "blockLists"], "rblsmtpd needs at least one zone in blockLists (without -r it checks a long-dead default list)");
  // Everything the run script exports reaches every program of the chain through execve, which
  // refuses an environment or argument list past the kernel's limit: keep well under it.
  const environment = OPTION_SECTIONS.flatMap((section) => sectionExports(section, s)).reduce((sum, [name, value]) => sum + Buffer.byteLength(`${name}=${value}`) + 1, 0);
  if (environment > MAX_ENVIRONMENT_BYTES)
    fail(["auth", "set"], `the run script would export ${environment} bytes of variables, more than the ${MAX_ENVIRONMENT_BYTES} qmail-fleet allows so that execve never refuses the service's programs (E2BIG); set fewer or shorter variables`);
  const argv = (["tcpserver", "rblsmtpd", "multilog"] as const).reduce((sum, program) => sum + programFlags(program, s).reduce((n, word) => n + word.length + 1, 0), 0);
  if (argv > MAX_ARGUMENT_BYTES)
    fail(["rblsmtpd", "blockLists"], `the programs' command lines would be ${argv} bytes long, more than the ${MAX_ARGUMENT_BYTES} qmail-fleet allows: list fewer zones`);
  if (isActive(s.simscan) && isActive(s.qmailScanner))
    fail(["qmailScanner"], "simscan and qmailScanner both set QMAILQUEUE: keep only one of them");
  if (s.qmailQueue && (isActive(s.simscan) || isActive(s.qmailScanner)))
    fail(["qmailQueue"], "qmailQueue conflicts with simscan/qmailScanner, which set QMAILQUEUE themselves: remove one");
  return errors;
}

/** Variables set after AUTH whose lower-case spelling is a likely slip (the environment is case-sensitive). */
const QMAIL_SMTPD_VARIABLES = ["RELAYCLIENT", "QMAILQUEUE", "DATABYTES", "MAXRCPT", "VALIDRCPTTO_CDB", "SPFBEHAVIOR", "RBLSMTPD", "JGREYLIST", "SIMSCAN_DEBUG", "NOP0FCHECK", "MFCHECK", "RELAYREJ", "DKSIGN", "DKVERIFY", "DOMAINKEYS"];

export function serviceWarnings(s: ServiceConfig): ServiceFinding[] {
  const warnings: ServiceFinding[] = [];
  const warn = (path: ServiceFinding["path"], message: string) => warnings.push({ path, message });
  const publicAddress = !isLoopback(s.ip);

  if (s.forceTls && s.ssl)
    warn(["forceTls"], "forceTls has no effect on an SSL-wrapped service (SSL=1 turns it off)");
  if (s.auth.method === "off" && (s.auth.allowInsecure || s.auth.allowCram || Object.keys(s.auth.set).length > 0 || s.auth.unset.length > 0))
    warn(["auth", "method"], "AUTH settings have no effect while auth.method is off");
  if (s.auth.method !== "off" && !s.auth.require && !s.ssl && s.denyTls && !s.auth.allowInsecure)
    warn(["auth", "method"], "AUTH is never offered: qmail-smtpd offers it only over an encrypted connection, and this service refuses TLS (denyTls)");
  if (s.auth.method === "checkpassword" && basename(s.auth.trueProgram) !== "true" && s.auth.checkpasswordProgram !== s.auth.trueProgram)
    warn(["auth", "trueProgram"], `checkpassword runs ${s.auth.trueProgram} after a good password and the login succeeds only if it exits 0; it is normally /bin/true`);
  if (s.auth.method === "checkpassword" && s.auth.checkpasswordProgram && basename(s.auth.checkpasswordProgram) === "false")
    warn(["auth", "checkpasswordProgram"], `${s.auth.checkpasswordProgram} refuses every password: no user can log in`);
  if (s.ssl && (s.port === 25 || s.port === 587) && publicAddress)
    warn(["port"], `an SSL-wrapped service on port ${s.port}: clients expect ${s.port === 25 ? "plain SMTP there (other mail servers cannot deliver)" : "STARTTLS there"}; SSL-wrapped SMTP belongs on 465`);
  if (!s.ssl && s.port === 465 && publicAddress)
    warn(["ssl"], "port 465 without ssl: clients on 465 start TLS at once (SMTPS) and would find plain SMTP; set ssl: true, or use port 587 for STARTTLS");
  for (const name of Object.keys(s.auth.set))
    if (name !== name.toUpperCase() && QMAIL_SMTPD_VARIABLES.includes(name.toUpperCase()))
      warn(["auth", "set", name], `qmail-smtpd reads ${name.toUpperCase()}, in capitals; ${name} is another variable, which it ignores: write ${name.toUpperCase()}`);
  if (s.maxConnections > 100)
    warn(["maxConnections"], "more than 100 connections at once: consider another mailhub instead");
  if (s.spf.behavior !== undefined && s.spf.behavior > 3)
    warn(["spf", "behavior"], "SPFBEHAVIOR above 3 rejects mail on softfail/neutral/none results; the seed says never go above 3");
  if (isActive(s.simscan) && s.simscan!.debugFiles === 2)
    warn(["simscan", "debugFiles"], "SIMSCAN_DEBUG_FILES=2 keeps every message and fills the disk; debugging only");
  if (isActive(s.simscan) && !s.simscan!.noP0fCheck)
    warn(["simscan", "noP0fCheck"], "the p0f check is on: simscan will randomly refuse mail from Windows machines; keep noP0fCheck: true");
  if (s.relayReject)
    warn(["relayReject"], "RELAYREJ refuses valid addresses containing '%' or '!'; the seed advises against it");
  if (s.smtpGreeting !== undefined && /^[2-5][0-9][0-9]( |-|$)/.test(s.smtpGreeting))
    warn(["smtpGreeting"], `qmail-smtpd sends "220 " before the greeting: clients would read "220 ${s.smtpGreeting}"; leave the code out`);
  if (s.user === "vpopmail")
    warn(["user"], "running the SMTP service as vpopmail lets a bug in a scanner reach every mailbox; use qmaild");
  if (s.helpVersion)
    warn(["helpVersion"], "QMAILSMTPD_HELP_VERSION tells attackers which patch version to look for");
  return warnings;
}
