// SPF checks in qmail-smtpd.
import { z } from "zod";
import { option } from "./descriptor";
import { integer } from "./primitives";

export const spfOptions = {
  behavior: option({
    schema: integer(0, 6, "spf.behavior", 3).optional(),
    doc: "SPFBEHAVIOR: 0 off, 1 header only, 2 also 451 on DNS errors, 3 reject fail, 4 +softfail, 5 +neutral, 6 +none; never above 3. Default: control/spfbehavior.",
    becomes: { env: "SPFBEHAVIOR" },
    sample: 3,
  }),
  log: option({
    schema: z.boolean().default(false),
    doc: "Log the Received-SPF line of every check (SPF_LOG). Default: false.",
    becomes: { env: "SPF_LOG" },
    sample: true,
  }),
  blockPlusAll: option({
    schema: z.boolean().default(false),
    doc: "Treat '+all' SPF records as '-all' (SPF_BLOCK_PLUS_ALL). Default: false.",
    becomes: { env: "SPF_BLOCK_PLUS_ALL" },
    sample: true,
  }),
};
