// Hazards: configurations qmail runs with, but that put the mailhub or its
// users at risk. Each is refused unless the service acknowledges it by name:
//
//   services:
//     - name: smtpd
//       acknowledge: [open-relay]
//
// and an acknowledged hazard is then reported as a warning. The list is short
// on purpose; what the seed merely advises against stays a warning.
import { basename } from "node:path";
import { z } from "zod";
import type { ServiceConfig } from "./service";
import { isActive, offersStartTls } from "./service-rules";
import { isLoopback } from "./primitives";
import { closestName, listWords, nearestName } from "./strict";
import { type EveryClientRule, everyClientRuleText, relayForEveryClient, renderTcpRules, type TcpRule } from "../cdb/tcprules";

export interface HazardContext {
  /** The rules of the tcprules set the service's accessRules names, when the config gives them as rules. */
  accessRules?: ReadonlyArray<{ address: string; action: string; env?: Record<string, string> }>;
  /** The set is a tcprules file, which only planning reads (lib/plan.ts checks it for open-relay). */
  accessRulesFile?: boolean;
}

export interface Hazard {
  id: string;
  /** One line for the documentation: what it is and why it is dangerous. */
  doc: string;
  /** Why this service has the hazard, or undefined. `path` is relative to the service. */
  check(service: ServiceConfig, context: HazardContext): { path: Array<string | number>; why: string } | undefined;
}

const reachable = (s: ServiceConfig) => !isLoopback(s.ip);
const isTrue = (program: string | undefined) => program !== undefined && basename(program) === "true";

export const HAZARDS: readonly Hazard[] = [
  {
    id: "open-relay",
    doc: "A tcprules rule that matches every client sets RELAYCLIENT: anyone on the internet may send mail anywhere through the mailhub, and it will be on every block list within hours.",
    check(s, context) {
      if (!reachable(s) || !context.accessRules) return undefined;
      let address: EveryClientRule | undefined;
      try {
        address = relayForEveryClient(renderTcpRules(context.accessRules as readonly TcpRule[]), s.lookupRemoteHost);
      } catch {
        return undefined; // malformed rules are refused, by rule, where the tcpRules set is checked
      }
      if (address === undefined) return undefined;
      return {
        path: ["accessRules"],
        why: `${everyClientRuleText(address)} of the rules at ${s.accessRules} sets RELAYCLIENT, so every client may relay mail anywhere`,
      };
    },
  },
  {
    id: "any-password",
    doc: "The checkpassword program is true (or the same program as trueProgram): every user name and password is accepted, and authenticated clients usually may relay.",
    check(s) {
      const { auth } = s;
      if (auth.method !== "checkpassword") return undefined;
      if (isTrue(auth.checkpasswordProgram) || auth.checkpasswordProgram === auth.trueProgram)
        return { path: ["auth", "checkpasswordProgram"], why: `auth.checkpasswordProgram ${auth.checkpasswordProgram} accepts every password` };
      return undefined;
    },
  },
  {
    id: "runs-as-root",
    doc: "The service or its log runs as root: a bug in qmail-smtpd, a scanner or multilog gets the whole machine.",
    check(s) {
      if (s.user === "root") return { path: ["user"], why: "the service runs as root (tcpserver -u 0)" };
      if (s.group === "root") return { path: ["group"], why: "the service runs with the root group (tcpserver -g 0)" };
      if (s.log.user === "root") return { path: ["log", "user"], why: "multilog runs as root" };
      return undefined;
    },
  },
  {
    id: "cleartext-auth",
    doc: "AUTH LOGIN/PLAIN is offered without encryption (auth.allowInsecure) on an address other machines reach: passwords cross the network readable by anyone on the path.",
    check(s) {
      if (s.auth.method === "off" || !s.auth.allowInsecure || s.ssl || !reachable(s)) return undefined;
      const why = offersStartTls(s)
        ? "auth.allowInsecure lets clients send passwords before STARTTLS, readable on the network"
        : "this service refuses TLS (denyTls) and allows AUTH without it, so every password crosses the network readable";
      return { path: ["auth", "allowInsecure"], why };
    },
  },
  {
    id: "mx-requires-auth",
    doc: "REQUIRE_AUTH on port 25 of a public address: other mail servers never authenticate, so the mailhub receives no mail from the world.",
    check(s) {
      if (!s.auth.require || s.port !== 25 || !reachable(s)) return undefined;
      return { path: ["auth", "require"], why: "auth.require on a public port-25 service refuses mail from every other server" };
    },
  },
  {
    id: "mx-requires-tls",
    doc: "FORCE_TLS on port 25 of a public address: servers that do not use STARTTLS can no longer deliver to the mailhub.",
    check(s) {
      if (!s.forceTls || s.ssl || s.port !== 25 || !reachable(s)) return undefined;
      return { path: ["forceTls"], why: "forceTls on a public port-25 service refuses every server that does not use STARTTLS" };
    },
  },
  {
    id: "passwords-in-log",
    doc: "recordio copies the SMTP conversation to the log on a service with AUTH: every AUTH LOGIN/PLAIN password ends up in the log files, merely base64-encoded.",
    check(s) {
      if (!isActive(s.recordio) || s.auth.method === "off") return undefined;
      return { path: ["recordio"], why: "recordio logs the whole conversation, AUTH passwords included" };
    },
  },
];

export const HAZARD_IDS = HAZARDS.map((h) => h.id);

/** `acknowledge: [open-relay, ...]` on a service. */
export const acknowledgeSchema = z
  .array(
    z.string({ error: "each acknowledged hazard must be a name, for example acknowledge: [open-relay]" }).superRefine((name, ctx) => {
      if (HAZARD_IDS.includes(name)) return;
      const near = closestName(name, HAZARD_IDS) ?? nearestName(name, HAZARD_IDS);
      ctx.addIssue({
        code: "custom",
        message: `unknown hazard '${name}': did you mean '${near}'? (the hazards are ${listWords(HAZARD_IDS)})`,
      });
    }),
    { error: "acknowledge must be a list of hazard names, for example acknowledge: [open-relay]" },
  )
  .default([]);

export interface HazardFinding {
  path: Array<string | number>;
  message: string;
  acknowledged: boolean;
}

/** The hazards of a service: errors unless acknowledged, warnings when they are; and acknowledgements that match nothing. */
export function serviceHazards(s: ServiceConfig & { acknowledge: string[] }, context: HazardContext): { errors: HazardFinding[]; warnings: HazardFinding[] } {
  const errors: HazardFinding[] = [];
  const warnings: HazardFinding[] = [];
  const present = new Set<string>();
  for (const hazard of HAZARDS) {
    const found = hazard.check(s, context);
    if (!found) continue;
    present.add(hazard.id);
    if (s.acknowledge.includes(hazard.id))
      warnings.push({ path: found.path, acknowledged: true, message: `hazard ${hazard.id} (acknowledged): ${found.why}` });
    else
      errors.push({
        path: found.path,
        acknowledged: false,
        message: `hazard ${hazard.id}: ${found.why}; change it, or accept the risk with acknowledge: [${hazard.id}] on this service`,
      });
  }
  for (const id of s.acknowledge)
    if (!present.has(id) && HAZARD_IDS.includes(id) && !(id === "open-relay" && context.accessRulesFile))
      warnings.push({ path: ["acknowledge"], acknowledged: false, message: `acknowledges ${id}, which this service does not have: remove it from acknowledge` });
  return { errors, warnings };
}
