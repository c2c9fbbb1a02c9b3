// simscan as QMAILQUEUE: virus and spam scanning before the queue.
import { z } from "zod";
import { option } from "./descriptor";
import { integer, programPath } from "./primitives";

export const simscanOptions = {
  enabled: option({
    schema: z.boolean().default(true),
    doc: "Queue through simscan (QMAILQUEUE). Default: true when the simscan object is given.",
    becomes: { script: "QMAILQUEUE=program" },
    sample: false,
    sampleContext: { simscan: {} },
  }),
  program: option({
    // QMAILQUEUE: qmail-smtpd starts it with execv, so a full path.
    schema: programPath("simscan.program", { absolute: true }).optional(),
    doc: "The simscan program. Default: <qmailDir>/bin/simscan.",
    becomes: { env: "QMAILQUEUE" },
    sample: "/usr/local/bin/simscan",
  }),
  noP0fCheck: option({
    schema: z.boolean().default(true),
    doc: "Switch off the p0f check that randomly drops mail from Windows machines (NOP0FCHECK=1). Default: true; keep it.",
    becomes: { env: "NOP0FCHECK" },
    sample: false,
    sampleContext: { simscan: {} },
  }),
  debug: option({
    schema: integer(0, 4, "simscan.debug", 2).optional(),
    doc: "Debug messages in the log, 1 (few) to 4 (most) (SIMSCAN_DEBUG). Default: none.",
    becomes: { env: "SIMSCAN_DEBUG" },
    sample: 2,
  }),
  debugFiles: option({
    schema: z.union([z.literal(1), z.literal(2)], { error: "simscan.debugFiles must be 1 or 2" }).optional(),
    doc: "Keep scanned files (SIMSCAN_DEBUG_FILES): 1 after clamdscan problems, 2 always (fills the disk; debugging only). Default: delete.",
    becomes: { env: "SIMSCAN_DEBUG_FILES" },
    sample: 1,
  }),
};
