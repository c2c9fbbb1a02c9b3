// qmail-scanner as QMAILQUEUE: the Perl scanner, run through its setuid C
// wrapper or directly.
import { z } from "zod";
import { option } from "./descriptor";
import { programPath } from "./primitives";

export const qmailScannerOptions = {
  enabled: option({
    schema: z.boolean().default(true),
    doc: "Queue through qmail-scanner (QMAILQUEUE). Default: true when the qmailScanner object is given.",
    becomes: { script: "QMAILQUEUE=program" },
    sample: false,
    sampleContext: { qmailScanner: {} },
  }),
  variant: option({
    schema: z.enum(["wrapper", "perl"], { error: "qmailScanner.variant must be wrapper or perl" }).default("wrapper"),
    doc: "wrapper: the C wrapper <qmailDir>/bin/qmail-scanner-queue (for Perls without setuid scripts); perl: the script qmail-scanner-queue.pl. Default: wrapper.",
    becomes: { script: "chooses the default program" },
    sample: "perl",
    sampleContext: { qmailScanner: {} },
  }),
  program: option({
    // QMAILQUEUE: qmail-smtpd starts it with execv, so a full path.
    schema: programPath("qmailScanner.program", { absolute: true }).optional(),
    doc: "The qmail-scanner program. Default: <qmailDir>/bin/qmail-scanner-queue or .pl, by variant.",
    becomes: { env: "QMAILQUEUE" },
    sample: "/usr/local/bin/qmail-scanner-queue",
  }),
};
