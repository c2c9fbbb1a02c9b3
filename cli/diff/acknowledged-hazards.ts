// The hazards (lib/schema/hazards.ts) each service runs with because its
// config acknowledges them, on each side of a diff: the ones the head takes
// on are what a reviewer must see, since validate and pulumi up only warn
// about an acknowledged hazard, and most hazards have no house rule.
// A hazard counts when the service has it and acknowledges it: an
// acknowledgement that matches nothing is no risk (validate warns about it).
import type { FleetConfig } from "../../lib/config";
import type { FleetPlan } from "../../lib/host-plan";
import { HAZARDS } from "../../lib/schema/hazards";
import { isLoopback } from "../../lib/schema/primitives";

export interface AcknowledgedHazard {
  host: string;
  service: string;
  /** The hazard's id, as in `acknowledge: [...]`. */
  hazard: string;
  /** What it is and why it is dangerous, one line. */
  doc: string;
  /** Why this service has it: in the head config, or for a dropped one in the base. */
  why: string;
  /** `new`: the head acknowledges it, the base did not; `kept`: both; `dropped`: only the base. */
  change: "new" | "kept" | "dropped";
}

type Found = Omit<AcknowledgedHazard, "change">;

/** The acknowledged hazards of both configs, head's first (in its order), then those only the base had. */
export function acknowledgedHazardChanges(base: { config: FleetConfig; plan: FleetPlan }, head: { config: FleetConfig; plan: FleetPlan }): AcknowledgedHazard[] {
  const key = (h: Found) => `${h.host}\0${h.service}\0${h.hazard}`;
  const then = acknowledgedHazards(base.config, base.plan);
  const before = new Set(then.map(key));
  const now = acknowledgedHazards(head.config, head.plan);
  const after = new Set(now.map(key));
  return [
    ...now.map((h) => ({ ...h, change: before.has(key(h)) ? ("kept" as const) : ("new" as const) })),
    ...then
      .filter((h) => !after.has(key(h)))
      .map((h) => ({ ...h, change: "dropped" as const })),
  ];
}

export function acknowledgedHazards(config: FleetConfig, plan: FleetPlan): Found[] {
  const found: Found[] = [];
  for (const host of config.hosts) {
    const planned = plan.hosts.find((h) => h.name === host.name);
    for (const service of host.services) {
      if (service.acknowledge.length === 0) continue;
      const sets = config.tcpRules ?? {};
      const set = service.accessRules !== undefined && Object.prototype.hasOwnProperty.call(sets, service.accessRules) ? sets[service.accessRules] : undefined;
      for (const hazard of HAZARDS) {
        if (!service.acknowledge.includes(hazard.id)) continue;
        let why = hazard.check(service, set?.rules ? { accessRules: set.rules } : {})?.why;
        // Rules given as a file are read by planning only (lib/plan.ts), which keeps the verdict in the service's traits.
        if (why === undefined && hazard.id === "open-relay" && set?.file !== undefined && !isLoopback(service.ip)) {
          const traits = planned?.services.find((s) => s.name === service.name)?.traits;
          if (traits?.relaysEveryClient === true) why = `a rule of ${set.file}, the rules at ${service.accessRules}, that matches every client sets RELAYCLIENT, so every client may relay mail anywhere`;
        }
        if (why !== undefined) found.push({ host: host.name, service: service.name, hazard: hazard.id, doc: hazard.doc, why });
      }
    }
  }
  return found;
}
