// The service schema, derived from the option tables: top-level fields for
// the basic, listener and qmail-smtpd options, one nested object per add-on.
import { z } from "zod";
import { PRESET_NAMES } from "../presets";
import { authOptions } from "./auth";
import { basicOptions } from "./basic";
import { shapeOf } from "./descriptor";
import { domainKeysOptions } from "./domainkeys";
import { jgreylistOptions } from "./jgreylist";
import { limitsOptions } from "./limits";
import { listenerOptions } from "./listener";
import { logOptions } from "./log";
import { serviceName } from "./primitives";
import { qmailScannerOptions } from "./qmail-scanner";
import { rblsmtpdOptions } from "./rblsmtpd";
import { recordioOptions } from "./recordio";
import { simscanOptions } from "./simscan";
import { smtpdOptions } from "./smtpd";
import { spfOptions } from "./spf";
import { strictGroup } from "./strict";
import { validRcptToOptions } from "./validrcptto";
import { acknowledgeSchema } from "./hazards";

// Groups that are always there get their defaults from `{}` (prefault parses
// it, so inner defaults apply); add-ons stay undefined unless configured.
export const serviceSchema = strictGroup({
  /** Directory name under the supervise and service roots, e.g. `smtpd`. */
  name: serviceName(),
  /** Start from a preset; the service's own fields win. */
  preset: z.enum(PRESET_NAMES, { error: `preset must be one of ${PRESET_NAMES.join(", ")}` }).optional(),
  ...shapeOf(basicOptions),
  ...shapeOf(listenerOptions),
  ...shapeOf(smtpdOptions),
  limits: strictGroup(shapeOf(limitsOptions)).prefault({}),
  rblsmtpd: strictGroup(shapeOf(rblsmtpdOptions)).optional(),
  jgreylist: strictGroup(shapeOf(jgreylistOptions)).optional(),
  recordio: strictGroup(shapeOf(recordioOptions)).optional(),
  auth: strictGroup(shapeOf(authOptions)).prefault({}),
  validRcptTo: strictGroup(shapeOf(validRcptToOptions)).prefault({}),
  spf: strictGroup(shapeOf(spfOptions)).prefault({}),
  domainKeys: strictGroup(shapeOf(domainKeysOptions)).optional(),
  simscan: strictGroup(shapeOf(simscanOptions)).optional(),
  qmailScanner: strictGroup(shapeOf(qmailScannerOptions)).optional(),
  log: strictGroup(shapeOf(logOptions)).prefault({}),
  /** Hazards this service runs with on purpose (lib/schema/hazards.ts): each is then a warning instead of an error. */
  acknowledge: acknowledgeSchema,
});

export type ServiceInput = z.input<typeof serviceSchema>;
export type ParsedService = z.output<typeof serviceSchema>;

type Simscan = NonNullable<ParsedService["simscan"]>;
type QmailScanner = NonNullable<ParsedService["qmailScanner"]>;

/** A service with every default filled, including those that depend on qmailDir. */
export type ServiceConfig = Omit<ParsedService, "qmailDir" | "path" | "smtpdProgram" | "simscan" | "qmailScanner" | "port"> & {
  port: number;
  qmailDir: string;
  path: string;
  smtpdProgram: string;
  simscan?: Simscan & { program: string };
  qmailScanner?: QmailScanner & { program: string };
};

/** Fills the defaults that depend on the qmail directory. */
export function resolveService(parsed: ParsedService, hostQmailDir: string): ServiceConfig {
  const qmailDir = parsed.qmailDir ?? hostQmailDir;
  const bin = `${qmailDir}/bin`;
  return {
    ...parsed,
    // The seed's default is 25; an SSL-wrapped service speaks TLS from the first byte, which port 25's clients do not.
    port: parsed.port ?? (parsed.ssl ? 465 : 25),
    qmailDir,
    path: parsed.path ?? `${bin}:/usr/local/bin:/usr/bin:/bin`,
    smtpdProgram: parsed.smtpdProgram ?? `${bin}/qmail-smtpd`,
    simscan: parsed.simscan && { ...parsed.simscan, program: parsed.simscan.program ?? `${bin}/simscan` },
    qmailScanner: parsed.qmailScanner && {
      ...parsed.qmailScanner,
      program:
        parsed.qmailScanner.program ??
        `${bin}/${parsed.qmailScanner.variant === "perl" ? "qmail-scanner-queue.pl" : "qmail-scanner-queue"}`,
    },
  };
}
