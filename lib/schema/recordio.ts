// recordio copies the SMTP conversation to the log, for debugging. It breaks
// STARTTLS, so the rules refuse it on a service that offers STARTTLS.
import { z } from "zod";
import { option } from "./descriptor";
import { programPath } from "./primitives";

const plainTextService = { denyTls: true };

export const recordioOptions = {
  enabled: option({
    schema: z.boolean().default(true),
    doc: "Put recordio in the chain. Default: true when the recordio object is given.",
    becomes: { script: "recordio in the exec chain" },
    sample: false,
    sampleContext: { ...plainTextService, recordio: {} },
  }),
  program: option({
    schema: programPath("recordio.program").default("recordio"),
    doc: "The recordio program. Default: recordio from PATH.",
    becomes: { script: "the program name in the exec chain" },
    sample: "/usr/bin/recordio",
    sampleContext: { ...plainTextService, recordio: {} },
  }),
};
