// Options of tcpserver / sslserver: where the service listens and how many
// clients it takes at once.
import { z } from "zod";
import { option } from "./descriptor";
import { absolutePath, integer, listenAddress, tcpPort } from "./primitives";

export const listenerOptions = {
  ip: option({
    schema: listenAddress(),
    doc: "Address to listen on. Required. \"0\" means every address, and then no other service may use the port.",
    becomes: { script: "tcpserver's IP argument" },
    sample: "192.0.2.99",
  }),
  port: option({
    schema: tcpPort().optional(),
    doc: "TCP port. Default: 25, or 465 when ssl is true (the presets set 25 for mx, 587 for submission, 465 for smtps).",
    becomes: { script: "tcpserver's PORT argument" },
    sample: 2525,
  }),
  ssl: option({
    schema: z.boolean().default(false),
    doc: "SSL-wrapped service: sslserver instead of tcpserver, SSL=1 for qmail-smtpd. Needs certificateFile. Default: false.",
    becomes: { script: "sslserver -e instead of tcpserver, SSL=1, CERTFILE and KEYFILE" },
    sample: true,
    sampleContext: { certificateFile: "/var/qmail/control/servercert.pem" },
  }),
  certificateFile: option({
    schema: absolutePath("certificateFile").optional(),
    doc: "File with the SSL certificate (and key): sslserver's CERTFILE when ssl, qmail-smtpd's TLS_SERVER_CERT for STARTTLS. Default: <qmailDir>/control/servercert.pem for STARTTLS; an SSL-wrapped service or forceTls needs it set, unless the fleet gives sslKey and sslCertificate (then written there).",
    becomes: { script: "TLS_SERVER_CERT, or CERTFILE (and KEYFILE) for sslserver" },
    sample: "/etc/ssl/private/mx.pem",
  }),
  keyFile: option({
    schema: absolutePath("keyFile").optional(),
    doc: "Private key file for sslserver (KEYFILE). Default: certificateFile (key and certificate in one file).",
    becomes: { script: "KEYFILE for sslserver" },
    sample: "/etc/ssl/private/mx.key",
    sampleContext: { ssl: true, certificateFile: "/etc/ssl/private/mx.pem" },
  }),
  verbose: option({
    schema: z.boolean().default(true),
    doc: "Log every connection and its end (tcpserver -v). Default: true.",
    becomes: { flag: "-v", program: "tcpserver" },
    sample: false,
  }),
  lookupRemoteHost: option({
    schema: z.boolean().default(true),
    doc: "Look up the client's host name in DNS (false: tcpserver -H). Default: true.",
    becomes: { flag: "-h", flagWhenFalse: "-H", program: "tcpserver" },
    sample: false,
  }),
  lookupRemoteInfo: option({
    schema: z.boolean().default(false),
    doc: "Ask the client's ident server who it is (true: tcpserver -r, false: -R, which avoids a 26 s wait on firewalled clients). Default: false.",
    becomes: { flag: "-r", flagWhenFalse: "-R", program: "tcpserver" },
    sample: true,
  }),
  accessRules: option({
    schema: absolutePath("accessRules").optional(),
    doc: "tcprules cdb of per-address allow/deny rules and variables (tcpserver -x). Default: none.",
    becomes: { flag: "-x", program: "tcpserver" },
    sample: "/etc/tcp/smtp.cdb",
  }),
  maxConnections: option({
    schema: integer(1, 10000, "maxConnections", 60).default(30),
    doc: "Most connections handled at once (tcpserver -c). Default: 30; past 100, add a server instead.",
    becomes: { flag: "-c", program: "tcpserver" },
    sample: 60,
  }),
  backlog: option({
    schema: integer(1, 65535, "backlog", 50).optional(),
    doc: "Listen backlog: connections the kernel queues while all are busy (tcpserver -b). Default: tcpserver's 20.",
    becomes: { flag: "-b", program: "tcpserver" },
    sample: 50,
  }),
};
