// The log service: multilog under the log user, rotating by size and count.
import { z } from "zod";
import { option } from "./descriptor";
import { accountName, integer, programPath } from "./primitives";

export const logOptions = {
  user: option({
    schema: accountName("log.user").default("qmaill"),
    doc: "User multilog runs as; owns log/main. Default: qmaill.",
    becomes: { script: "setuidgid USER in log/run, owner of log/main" },
    sample: "multilog",
  }),
  group: option({
    schema: accountName("log.group").default("nofiles"),
    doc: "Group of log/main (readable by it, mode 0750). Default: nofiles.",
    becomes: { script: "group of log/main" },
    sample: "adm",
  }),
  program: option({
    schema: programPath("log.program").default("multilog"),
    doc: "The multilog program. Default: multilog from PATH.",
    becomes: { script: "the program in log/run" },
    sample: "/usr/bin/multilog",
  }),
  timestamps: option({
    schema: z.boolean().default(true),
    doc: "Prefix each line with a TAI64N timestamp (multilog t). Default: true.",
    becomes: { flag: "t", program: "multilog" },
    sample: false,
  }),
  maxFileSize: option({
    schema: integer(4096, 16777215, "log.maxFileSize", 5000000).default(1000000),
    doc: "Bytes per log file before multilog rotates it (multilog s). Default: 1000000.",
    becomes: { flag: "s", program: "multilog" },
    sample: 5000000,
  }),
  maxFiles: option({
    schema: integer(2, 1000, "log.maxFiles", 50).default(20),
    doc: "Rotated log files kept (multilog n). Default: 20.",
    becomes: { flag: "n", program: "multilog" },
    sample: 50,
  }),
};
