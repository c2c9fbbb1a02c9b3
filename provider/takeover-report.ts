// What taking over what is already on a host changes, for the preview: the
// first `pulumi up` on a host with no state yet (the engine shows a create
// with every input), and an update that adds a service whose directory
// already holds a hand-written run script (the engine shows only an added
// service). The host is read before anything is written, so the report says
// what really differs: which files already hold the declared bytes (left
// alone), which are written, and for each service whether it restarts and
// why. Pure.
import type { ChangePlan, ServiceActions } from "./change-plan";
import type { Observation } from "./host-operations";
import { serviceScriptAt, whatRunsDifferently } from "./run-script-comparison";
import type { HostConfigurationArgs, HostConfigurationState } from "./types";

export function takeoverReport(host: string, desired: HostConfigurationArgs, observation: Observation, plan: ChangePlan): string {
  const written = new Set(plan.writes);
  const kept = Object.keys(desired.files).filter((path) => !written.has(path));
  return [
    `${host} has no state yet: taking over what is there, as read from the host before anything is written:`,
    ...(kept.length > 0 ? [`  already as declared, left alone: ${kept.sort().join(", ")}`] : []),
    ...plan.writes.flatMap((path) => writeLines(path, desired, observation, plan)),
    ...plan.directories.map((directory) => `  directory made or given ${directory.owner}:${directory.group} ${directory.mode}: ${directory.path}`),
    ...plan.services.map(serviceLine),
  ].join("\n");
}

/**
 * Services this update adds (or moves) whose directory already holds a run
 * script on the host: hand-written services being taken over.
 */
export function servicesTakenOver(previous: Pick<HostConfigurationState, "services">, desired: HostConfigurationArgs, observation: Observation): string[] {
  return Object.entries(desired.services)
    .filter(([name, spec]) => previous.services[name]?.dir !== spec.dir && observation.files.get(`${spec.dir}/run`)?.present)
    .map(([name]) => name)
    .sort();
}

/** The take-over lines for the services an update adds over hand-written ones; empty when there are none. */
export function addedServicesReport(host: string, services: string[], desired: HostConfigurationArgs, observation: Observation, plan: ChangePlan): string {
  if (services.length === 0) return "";
  const lines = [`${host}: taking over ${services.map((name) => `service ${name}`).join(", ")} already on the host, as read from it before anything is written:`];
  for (const name of services) {
    const dir = desired.services[name].dir;
    const ofService = (path: string) => path.startsWith(`${dir}/`);
    const kept = Object.keys(desired.files).filter((path) => ofService(path) && !plan.writes.includes(path));
    if (kept.length > 0) lines.push(`  already as declared, left alone: ${kept.sort().join(", ")}`);
    for (const path of plan.writes.filter(ofService)) lines.push(...writeLines(path, desired, observation, plan));
    lines.push(serviceLine(plan.services.find((service) => service.name === name)!));
  }
  // Files outside every service directory (a validrcptto.cdb rebuilt in sorted order) are written by the same update.
  const inAService = (path: string) => Object.values(desired.services).some((service) => path.startsWith(`${service.dir}/`));
  for (const path of plan.writes.filter((path) => !inAService(path))) lines.push(...writeLines(path, desired, observation, plan));
  return lines.join("\n");
}

/** A file the update writes, why, and for a script what runs differently. */
function writeLines(path: string, desired: HostConfigurationArgs, observation: Observation, plan: ChangePlan): string[] {
  const found = observation.files.get(path)!;
  const spec = desired.files[path];
  const why = !found.present
    ? "new"
    : found.sha256 === spec.sha256
      ? `same bytes; owner or mode ${found.owner}:${found.group} ${found.mode} → ${spec.owner}:${spec.group} ${spec.mode}`
      : "bytes differ";
  const lines = [`  written: ${path} (${why}${plan.sameMeaning.includes(path) && found.sha256 !== spec.sha256 ? "; runs the same programs, arguments and environment" : ""})`];
  // A cdb the host built itself (tcprules, cdbmake) is built from the stack config from now on.
  if (spec.kind === "cdb" && found.present && found.sha256 !== spec.sha256)
    lines.push("      built from the stack config from now on: a source file the host built it from (e.g. tcp.smtp for tcprules) no longer reaches it");
  const script = serviceScriptAt(path, desired.services);
  if (script && found.text !== undefined && spec.text !== undefined && !plan.sameMeaning.includes(path))
    for (const difference of whatRunsDifferently(found.text, spec.text, script.runsIn, observation.facts)) lines.push(`      ${difference}`);
  return lines;
}

function serviceLine(service: ServiceActions): string {
  const actions = [
    service.link && "linked",
    service.bringUp && "brought up",
    service.restartService && "restarted",
    service.restartLog && "log restarted",
  ].filter(Boolean);
  return `  service ${service.name}: ${actions.length > 0 ? actions.join(", ") : "keeps running, no restart"}`;
}
