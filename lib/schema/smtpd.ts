// qmail-smtpd itself (combined patch): the program and the environment it
// reads when a connection starts.
import { z } from "zod";
import { option } from "./descriptor";
import { integer, programPath, smtpText } from "./primitives";

export const smtpdOptions = {
  smtpdProgram: option({
    schema: programPath("smtpdProgram").optional(),
    doc: "The qmail-smtpd program; you rarely change this. Default: <qmailDir>/bin/qmail-smtpd.",
    becomes: { script: "the last program of the exec chain" },
    sample: "/usr/local/bin/qmail-smtpd",
  }),
  smtpGreeting: option({
    // qmail-smtpd answers "220 <greeting> ESMTP": one SMTP line of at most 512 bytes.
    schema: smtpText("smtpGreeting", 500, "smtpGreeting: mx1.example.com").optional(),
    doc: "Banner text, overriding control/smtpgreeting (SMTPGREETING). Default: the control file.",
    becomes: { env: "SMTPGREETING" },
    sample: "mx1.example.com ESMTP",
  }),
  greetDelay: option({
    schema: integer(0, 300, "greetDelay", 15).optional(),
    doc: "Seconds to wait before the banner (GREETDELAY); 5..30 deters some spam software. Default: none.",
    becomes: { env: "GREETDELAY" },
    sample: 15,
  }),
  dropPreGreet: option({
    schema: z.boolean().default(false),
    doc: "Hang up on clients that talk before the banner (DROP_PRE_GREET; waits greetDelay or 1 s). Default: false.",
    becomes: { env: "DROP_PRE_GREET" },
    sample: true,
  }),
  forceTls: option({
    schema: z.boolean().default(false),
    doc: "Accept mail only after STARTTLS (FORCE_TLS). Needs certificateFile. Not for public port 25. Default: false.",
    becomes: { env: "FORCE_TLS" },
    sample: true,
    sampleContext: { certificateFile: "/var/qmail/control/servercert.pem", port: 587 },
  }),
  denyTls: option({
    schema: z.boolean().default(false),
    doc: "Neither offer nor accept STARTTLS (DENY_TLS). Default: false.",
    becomes: { env: "DENY_TLS" },
    sample: true,
  }),
  tlsCiphers: option({
    schema: z
      .string({ error: 'tlsCiphers must be text, for example tlsCiphers: "HIGH:!aNULL:!MD5"' })
      .regex(/^[A-Za-z0-9:+!@=_.,-]+$/, { message: "tlsCiphers must be an OpenSSL cipher list such as HIGH:!aNULL:!MD5 (letters, digits and : + ! @ = _ . , - only)" })
      .max(1024, { message: "tlsCiphers may be at most 1024 characters" })
      .optional(),
    doc: "OpenSSL cipher list for STARTTLS (TLSCIPHERS). Default: control/tlsserverciphers.",
    becomes: { env: "TLSCIPHERS" },
    sample: "HIGH:!aNULL:!MD5",
  }),
  mfCheck: option({
    schema: z.union([z.literal(1), z.literal(2), z.literal(3)], { error: "mfCheck must be 1, 2 or 3" }).optional(),
    doc: "Require an MX for the MAIL FROM domain (MFCHECK): 1 check, 2 also log failures, 3 also log passes. Default: no check.",
    becomes: { env: "MFCHECK" },
    sample: 2,
  }),
  relayReject: option({
    schema: z.boolean().default(false),
    doc: "Refuse recipients with extra '@', '%' or '!' (RELAYREJ); the seed advises against it. Default: false.",
    becomes: { env: "RELAYREJ" },
    sample: true,
  }),
  logMail: option({
    schema: z.boolean().default(false),
    doc: "Log every accepted MAIL FROM (QMAILSMTPD_LOG_MAIL). Default: false.",
    becomes: { env: "QMAILSMTPD_LOG_MAIL" },
    sample: true,
  }),
  logRcpt: option({
    schema: z.boolean().default(false),
    doc: "Log every accepted RCPT TO (QMAILSMTPD_LOG_RCPT). Default: false.",
    becomes: { env: "QMAILSMTPD_LOG_RCPT" },
    sample: true,
  }),
  helpVersion: option({
    schema: z.boolean().default(false),
    doc: "HELP names the combined patch version (QMAILSMTPD_HELP_VERSION); tells attackers what to scan for. Default: false.",
    becomes: { env: "QMAILSMTPD_HELP_VERSION" },
    sample: true,
  }),
  dataBytes: option({
    schema: integer(0, 2147483647, "dataBytes", 20971520).optional(),
    doc: "Largest message accepted, in bytes (DATABYTES; 0 = no limit). Default: control/databytes.",
    becomes: { env: "DATABYTES" },
    sample: 20971520,
  }),
  maxRcpt: option({
    schema: integer(0, 100000, "maxRcpt", 100).optional(),
    doc: "Most recipients per message (MAXRCPT; 0 = no limit). Default: no limit.",
    becomes: { env: "MAXRCPT" },
    sample: 100,
  }),
  qmailQueue: option({
    // qmail-smtpd starts QMAILQUEUE with execv: a full path, no PATH search.
    schema: programPath("qmailQueue", { absolute: true }).optional(),
    doc: "A program to queue messages instead of qmail-queue (QMAILQUEUE), for filters other than simscan and qmail-scanner. Default: qmail-queue.",
    becomes: { env: "QMAILQUEUE" },
    sample: "/usr/local/bin/my-filter-queue",
  }),
};
