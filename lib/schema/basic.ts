// Basic options of the seed: where qmail lives, PATH, the service user and
// the local host name.
import { option } from "./descriptor";
import { absolutePath, accountName, nonEmptyText } from "./primitives";

export const basicOptions = {
  qmailDir: option({
    schema: absolutePath("qmailDir").optional(),
    doc: "The qmail directory this service belongs to. Default: the host's qmailDir, /var/qmail.",
    becomes: { script: "the directory of control/me, bin/qmail-smtpd and the default PATH" },
    sample: "/opt/qmail",
  }),
  path: option({
    schema: nonEmptyText("path")
      .refine((s) => s.split(":").every((dir) => dir.startsWith("/")), {
        message: "path must be ':'-separated absolute directories",
      })
      .optional(),
    doc: "PATH for the service, set explicitly so no stray binary runs. Default: <qmailDir>/bin:/usr/local/bin:/usr/bin:/bin.",
    becomes: { env: "PATH" },
    sample: "/usr/bin:/bin",
  }),
  user: option({
    schema: accountName("user").default("qmaild"),
    doc: "User the service runs as (tcpserver -u/-g, ids looked up on the host). Default: qmaild.",
    becomes: { script: "QMAILDUID=$(id -u USER), GID=$(id -g USER), tcpserver -u/-g" },
    sample: "smtpd",
  }),
  group: option({
    schema: accountName("group").default("nofiles"),
    doc: "The service user's group: owns what the service must read or write (jgreylist directory). Default: nofiles.",
    becomes: { script: "group of the service's private directories; names the GID variable" },
    sample: "mail",
    sampleContext: { jgreylist: { dir: "/var/qmail/jgreylist" } },
  }),
  localHostName: option({
    schema: nonEmptyText("localHostName").optional(),
    doc: "Local host name (tcpserver -l, qmail-smtpd's first argument). Default: first line of <qmailDir>/control/me, read on the host.",
    becomes: { script: "LOCAL=NAME instead of LOCAL=$(head -n 1 <qmailDir>/control/me)" },
    sample: "mx1.example.com",
  }),
};

