// jgreylist: refuse the first connection from an unknown address, accept it
// when it comes back later. Configured entirely through the environment.
import { z } from "zod";
import { option } from "./descriptor";
import { absolutePath, integer, programPath } from "./primitives";
import { overrideText } from "./rblsmtpd";

/** Every jgreylist sample needs the one required field. */
const withDir = { jgreylist: { dir: "/var/qmail/jgreylist" } };
const flag01 = (what: string) => z.union([z.literal(0), z.literal(1)], { error: `${what} must be 0 or 1` });

export const jgreylistOptions = {
  enabled: option({
    schema: z.boolean().default(true),
    doc: "Put jgreylist in the chain. Default: true when the jgreylist object is given.",
    becomes: { script: "jgreylist in the exec chain" },
    sample: false,
    sampleContext: withDir,
  }),
  program: option({
    schema: programPath("jgreylist.program").default("jgreylist"),
    doc: "The jgreylist program (C version, configured by environment). Default: jgreylist from PATH.",
    becomes: { script: "the program name in the exec chain" },
    sample: "/usr/local/bin/jgreylist",
    sampleContext: withDir,
  }),
  dir: option({
    schema: absolutePath("jgreylist.dir"),
    doc: "Directory of known addresses, writable by the service user only (JGREYLIST_DIR). Required; created 0700.",
    becomes: { env: "JGREYLIST_DIR" },
    sample: "/var/qmail/jgreylist",
  }),
  override: option({
    schema: overrideText("jgreylist.override").optional(),
    doc: "JGREYLIST: empty lets every client in unchecked, text refuses every client with it. Usually set per address in tcprules instead. Default: unset (check).",
    becomes: { env: "JGREYLIST" },
    sample: "",
    sampleContext: withDir,
  }),
  noReverseDns: option({
    schema: z.boolean().default(false),
    doc: "Greylist clients that have no reverse DNS only (JGREYLIST_NOREV). Default: false.",
    becomes: { env: "JGREYLIST_NOREV" },
    sample: true,
    sampleContext: withDir,
  }),
  byIp: option({
    schema: z.boolean().default(false),
    doc: "Track single addresses instead of /24 networks (JGREYLIST_BY_IP). Default: false.",
    becomes: { env: "JGREYLIST_BY_IP" },
    sample: true,
    sampleContext: withDir,
  }),
  holdTime: option({
    schema: integer(0, 86400, "jgreylist.holdTime", 300).optional(),
    doc: "Seconds a new address must wait before it is accepted (JGREYLIST_HOLDTIME). Default: jgreylist's 120.",
    becomes: { env: "JGREYLIST_HOLDTIME" },
    sample: 300,
    sampleContext: withDir,
  }),
  log: option({
    schema: flag01("jgreylist.log").optional(),
    doc: "Log each decision (JGREYLIST_LOG, 0 or 1). Default: jgreylist's 1.",
    becomes: { env: "JGREYLIST_LOG" },
    sample: 0,
    sampleContext: withDir,
  }),
  logPid: option({
    schema: flag01("jgreylist.logPid").optional(),
    doc: "Put the process id in log lines (JGREYLIST_LOG_PID, 0 or 1). Default: jgreylist's 1.",
    becomes: { env: "JGREYLIST_LOG_PID" },
    sample: 0,
    sampleContext: withDir,
  }),
  logSmtp: option({
    schema: flag01("jgreylist.logSmtp").optional(),
    doc: "Log the SMTP conversation with refused clients (JGREYLIST_LOG_SMTP, 0 or 1). Default: jgreylist's 0.",
    becomes: { env: "JGREYLIST_LOG_SMTP" },
    sample: 1,
    sampleContext: withDir,
  }),
  timeout: option({
    schema: integer(5, 300, "jgreylist.timeout", 30).optional(),
    doc: "Seconds to talk to a refused client before hanging up (JGREYLIST_TIMEOUT, 5..300). Default: jgreylist's 60.",
    becomes: { env: "JGREYLIST_TIMEOUT" },
    sample: 30,
    sampleContext: withDir,
  }),
  limit: option({
    schema: integer(0, 1000000, "jgreylist.limit", 20).optional(),
    doc: "Most commands from a refused client before hanging up (JGREYLIST_LIMIT; 0 = no limit). Default: jgreylist's 0.",
    becomes: { env: "JGREYLIST_LIMIT" },
    sample: 20,
    sampleContext: withDir,
  }),
};
