// What the first `pulumi up` on a host with no state yet will do there, for
// the preview. The engine shows such a host as a create with every input; the
// host is read before anything is written, so this report says what really
// differs: which files already hold the declared bytes (left alone), which
// are written, and for each service whether it restarts and why. Pure.
import type { ChangePlan } from "./change-plan";
import type { Observation } from "./host-operations";
import { serviceScriptAt, whatRunsDifferently } from "./run-script-comparison";
import type { HostConfigurationArgs } from "./types";

export function takeoverReport(host: string, desired: HostConfigurationArgs, observation: Observation, plan: ChangePlan): string {
  const lines: string[] = [];
  const written = new Set(plan.writes);
  const kept = Object.keys(desired.files).filter((path) => !written.has(path));
  lines.push(`${host} has no state yet: taking over what is there, as read from the host before anything is written:`);
  if (kept.length > 0) lines.push(`  already as declared, left alone: ${kept.sort().join(", ")}`);
  for (const path of plan.writes) {
    const found = observation.files.get(path)!;
    const spec = desired.files[path];
    const why = !found.present
      ? "new"
      : found.sha256 === spec.sha256
        ? `same bytes; owner or mode ${found.owner}:${found.group} ${found.mode} → ${spec.owner}:${spec.group} ${spec.mode}`
        : "bytes differ";
    lines.push(`  written: ${path} (${why}${plan.sameMeaning.includes(path) && found.sha256 !== spec.sha256 ? "; runs the same programs, arguments and environment" : ""})`);
    const script = serviceScriptAt(path, desired.services);
    if (script && found.text !== undefined && spec.text !== undefined && !plan.sameMeaning.includes(path))
      for (const difference of whatRunsDifferently(found.text, spec.text, script.runsIn, observation.facts)) lines.push(`      ${difference}`);
  }
  for (const directory of plan.directories) lines.push(`  directory made or given ${directory.owner}:${directory.group} ${directory.mode}: ${directory.path}`);
  for (const service of plan.services) {
    const actions = [
      service.link && "linked",
      service.bringUp && "brought up",
      service.restartService && "restarted",
      service.restartLog && "log restarted",
    ].filter(Boolean);
    lines.push(`  service ${service.name}: ${actions.length > 0 ? actions.join(", ") : "keeps running, no restart"}`);
  }
  return lines.join("\n");
}
