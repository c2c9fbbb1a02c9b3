// SMTP AUTH: off, a checkpassword program on qmail-smtpd's command line, or
// the auth.cdb file named by AUTH_CDB.
import { z } from "zod";
import { option } from "./descriptor";
import { absolutePath, envName, programPath, scriptText } from "./primitives";

export const AUTH_METHODS = ["off", "checkpassword", "cdb"] as const;
export type AuthMethod = (typeof AUTH_METHODS)[number];

const withCdb = { auth: { method: "cdb", cdbFile: "/var/qmail/control/auth.cdb" } };

export const authOptions = {
  method: option({
    schema: z.enum(AUTH_METHODS, { error: `auth.method must be one of ${AUTH_METHODS.join(", ")}` }).default("off"),
    doc: "How AUTH is checked: off; checkpassword (qmail-smtpd LOCAL CHECKPW TRUE); cdb (AUTH_CDB). Default: off.",
    becomes: { script: "checkpassword: qmail-smtpd's arguments; cdb: AUTH_CDB" },
    sample: "checkpassword",
    sampleContext: { auth: { checkpasswordProgram: "/home/vpopmail/bin/vchkpw" } },
  }),
  checkpasswordProgram: option({
    // qmail-smtpd starts it without a PATH search, with exactly these arguments.
    schema: programPath("auth.checkpasswordProgram", { absolute: true, example: "checkpasswordProgram: /home/vpopmail/bin/vchkpw" }).optional(),
    doc: "Full path of the checkpassword program, e.g. vpopmail's vchkpw (CHECKPW). Required for method checkpassword.",
    becomes: { script: "qmail-smtpd's second argument" },
    sample: "/usr/local/bin/checkpassword",
    sampleContext: { auth: { method: "checkpassword" } },
  }),
  trueProgram: option({
    schema: programPath("auth.trueProgram", { absolute: true, example: "trueProgram: /bin/true" }).default("/bin/true"),
    doc: "Full path of the program checkpassword runs after a good password (TRUE). Default: /bin/true.",
    becomes: { script: "qmail-smtpd's third argument" },
    sample: "/usr/bin/true",
    sampleContext: { auth: { method: "checkpassword", checkpasswordProgram: "/home/vpopmail/bin/vchkpw" } },
  }),
  cdbFile: option({
    schema: absolutePath("auth.cdbFile").optional(),
    doc: "auth.cdb of user names and password hashes (AUTH_CDB). Required for method cdb.",
    becomes: { env: "AUTH_CDB" },
    sample: "/var/qmail/control/auth.cdb",
    sampleContext: { auth: { method: "cdb" } },
  }),
  require: option({
    schema: z.boolean().default(false),
    doc: "No MAIL before a successful AUTH (REQUIRE_AUTH); cuts a public port-25 server off from the world. Default: false.",
    becomes: { env: "REQUIRE_AUTH" },
    sample: true,
    sampleContext: { ...withCdb, port: 587 },
  }),
  allowInsecure: option({
    schema: z.boolean().default(false),
    doc: "Offer AUTH LOGIN/PLAIN on unencrypted connections (ALLOW_INSECURE_AUTH); only on trusted networks. Default: false.",
    becomes: { env: "ALLOW_INSECURE_AUTH" },
    sample: true,
    sampleContext: { ...withCdb, acknowledge: ["cleartext-auth"] },
  }),
  allowCram: option({
    schema: z.boolean().default(false),
    doc: "Offer CRAM-MD5 (ALLOW_CRAM); impossible with method cdb. Default: false.",
    becomes: { env: "ALLOW_CRAM" },
    sample: true,
    sampleContext: { auth: { method: "checkpassword", checkpasswordProgram: "/home/vpopmail/bin/vchkpw" } },
  }),
  set: option({
    schema: z.record(envName("auth.set key"), scriptText("auth.set value")).default({}),
    doc: "Variables set for every user after a successful AUTH (AUTH_SET_NAME=value), e.g. { RELAYCLIENT: \"\" }. Default: none.",
    becomes: {
      env: "AUTH_SET_*",
      exports: (set) => Object.keys(set).sort().map((name) => [`AUTH_SET_${name}`, set[name]]),
    },
    sample: { RELAYCLIENT: "" },
    sampleContext: withCdb,
  }),
  unset: option({
    schema: z.array(envName("auth.unset[]")).default([]),
    doc: "Variables removed for every user after a successful AUTH (AUTH_UNSET_NAME), e.g. [\"VALIDRCPTTO_CDB\"]. Default: none.",
    becomes: {
      env: "AUTH_UNSET_*",
      exports: (unset) => [...new Set(unset)].sort().map((name): [string, string] => [`AUTH_UNSET_${name}`, "1"]),
    },
    sample: ["SPFBEHAVIOR"],
    sampleContext: withCdb,
  }),
};
