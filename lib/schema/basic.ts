// Basic options of the seed: where qmail lives, PATH, the service user and
// the local host name.
import { option } from "./descriptor";
import { z } from "zod";
import { absolutePath, accountName, hostName, pathProblem } from "./primitives";

export const basicOptions = {
  qmailDir: option({
    schema: absolutePath("qmailDir").optional(),
    doc: "The qmail directory this service belongs to. Default: the host's qmailDir, /var/qmail.",
    becomes: { script: "the directory of control/me, bin/qmail-smtpd and the default PATH" },
    sample: "/opt/qmail",
  }),
  path: option({
    schema: z
      .string({ error: "path must be text, for example path: /var/qmail/bin:/usr/bin:/bin" })
      .superRefine((s, ctx) => {
        const dirs = s.split(":");
        if (dirs.some((dir) => !dir.startsWith("/")))
          return void ctx.addIssue({ code: "custom", message: "path must be ':'-separated absolute directories (an empty entry would mean the current directory), for example /var/qmail/bin:/usr/bin:/bin" });
        for (const dir of dirs) {
          const problem = pathProblem(dir, `path entry ${dir}`);
          if (problem) return void ctx.addIssue({ code: "custom", message: problem });
        }
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
    schema: hostName("localHostName", "mx1.example.com", ["0"]).optional(),
    doc: "Local host name (tcpserver -l, qmail-smtpd's first argument). \"0\" is tcpserver -l 0 (no lookup, TCPLOCALHOST=0), and with auth checkpassword also qmail-smtpd's first argument. Default: first line of <qmailDir>/control/me, read on the host.",
    becomes: { script: "LOCAL=NAME instead of LOCAL=$(head -n 1 <qmailDir>/control/me)" },
    sample: "mx1.example.com",
  }),
};

