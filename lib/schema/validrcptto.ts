// validrcptto.cdb: refuse recipients that have no mailbox, and hang up on
// dictionary attacks.
import { option } from "./descriptor";
import { absolutePath, integer } from "./primitives";
import { z } from "zod";

export const validRcptToOptions = {
  cdbFile: option({
    schema: absolutePath("validRcptTo.cdbFile").optional(),
    doc: "validrcptto.cdb of every valid address (VALIDRCPTTO_CDB). Default: no check (any mailbox of a local domain is accepted).",
    becomes: { env: "VALIDRCPTTO_CDB" },
    sample: "/var/qmail/control/validrcptto.cdb",
  }),
  limit: option({
    schema: integer(0, 100000, "validRcptTo.limit", 10).optional(),
    doc: "Unknown recipients before hanging up (VALIDRCPTTO_LIMIT; 0 = no limit). Default: qmail-smtpd's 10.",
    becomes: { env: "VALIDRCPTTO_LIMIT" },
    sample: 0,
  }),
  log: option({
    schema: z.union([z.literal(0), z.literal(1), z.literal(2)], { error: "validRcptTo.log must be 0, 1 or 2" }).optional(),
    doc: "Logging (VALIDRCPTTO_LOG): 0 none, 1 results, 2 every key tried. Default: 0.",
    becomes: { env: "VALIDRCPTTO_LOG" },
    sample: 2,
  }),
};
