// A FleetDiff as Markdown for a pull request comment: a line per host, then
// the hazards the head newly acknowledges (and, briefly, those kept and
// dropped), per changed host its restarts, its files (scripts as diffs, cdbs
// as their keys, secrets as `[secret]`), services and directories, then the
// house rules the change breaks. Deterministic: the same diff, the same text.
import type { AcknowledgedHazard } from "./acknowledged-hazards";
import type { FileDiff, FleetDiff, HostDiff } from "./fleet-diff";

/** Keys of a cdb shown per change before "and N more". */
const KEYS_SHOWN = 20;

export function diffMarkdown(diff: FleetDiff): string {
  const out: string[] = [`## qmail-fleet diff`, "", `${code(diff.base)} → ${code(diff.head)}`, ""];
  const changed = diff.hosts.filter((host) => host.change !== "unchanged");
  const unchanged = diff.hosts.filter((host) => host.change === "unchanged").map((host) => host.host);
  if (changed.length === 0) out.push("No host changes.", "");
  else {
    const counts = (["added", "changed", "removed"] as const)
      .map((change) => [change, changed.filter((host) => host.change === change).length] as const)
      .filter(([, n]) => n > 0)
      .map(([change, n]) => `${n} ${n === 1 ? "host" : "hosts"} ${change}`);
    out.push(`${counts.join(", ")}${unchanged.length > 0 ? `; unchanged: ${unchanged.join(", ")}` : ""}.`, "");
  }
  if (diff.rollout) out.push("Rollout (how pulumi up takes the hosts):", "", `- was: ${escape(diff.rollout.before)}`, `- now: ${escape(diff.rollout.after)}`, "");
  out.push(...hazardSection(diff.hazards));
  for (const host of changed) out.push(...hostSection(host));
  out.push(...policySection(diff));
  const notes = [...new Set(diff.notes.head)];
  if (notes.length > 0) out.push("### Notes", "", ...notes.map((note) => `- ${escape(note)}`), "");
  return `${out.join("\n").trimEnd()}\n`;
}

function hostSection(host: HostDiff): string[] {
  const out = [`### ${host.host} (${host.change === "removed" ? "removed: pulumi up stops its services and removes its files" : host.change})`, ""];
  const restarts = host.services.filter((s) => s.restart || s.restartLog).map((s) => (s.restart && s.restartLog ? `${code(s.service)} and its log` : s.restart ? code(s.service) : `${code(s.service)} log only`));
  if (host.change === "changed") out.push(`Restarts: ${restarts.length > 0 ? restarts.join(", ") : "none"}`, "");

  for (const change of host.connection) out.push(`- connection ${change.field}: ${code(change.before)} → ${code(change.after)}`);
  for (const service of host.services) {
    if (service.change === "added") out.push(`- service ${code(service.service)} added (linked into svscan's directory; starts on its own)`);
    if (service.change === "removed") out.push(`- service ${code(service.service)} removed (stopped, unlinked, its files removed)`);
    if (service.change === "moved") out.push(`- service ${code(service.service)} moved (torn down at its old directory or link, set up at the new one)`);
  }
  if (host.connection.length > 0 || host.services.some((s) => s.change !== "unchanged")) out.push("");

  if (host.files.length > 0) {
    out.push("| File | Change | What |", "| --- | --- | --- |");
    for (const file of host.files) out.push(`| ${code(file.path)} | ${file.change}${file.secret ? " `[secret]`" : ""} | ${escapeCell(what(file))} |`);
    out.push("");
  }
  for (const file of host.files.filter((f) => f.diff)) out.push(`<details><summary>${html(file.path)}</summary>`, "", fence(file.diff!, "diff"), "", "</details>", "");
  if (host.directories.length > 0) {
    for (const dir of host.directories) out.push(`- directory ${code(dir.path)} ${dir.change}${dir.before && dir.after ? `: ${dir.before} → ${dir.after}` : dir.after ? ` (${dir.after})` : ""}`);
    out.push("");
  }
  return out;
}

/** The third column of a file's row: what changed, without a byte of a secret. */
function what(file: FileDiff): string {
  const parts: string[] = [];
  if (file.encrypted) parts.push("encrypted in the config: its ciphertext changed (the contents are compared by pulumi up, which decrypts it)");
  else if (file.diff !== undefined) parts.push(file.change === "added" ? "script: text below" : "script: diff below");
  else if (file.summary) parts.push(file.summary.after ?? file.summary.before!);
  else if (file.kind === "script") parts.push("script");
  if (file.keys) {
    // Only a tcprules cdb has an empty key: the rule for every client, the one an open relay is made of.
    const name = (key: string) => (key === "" ? '"" (every client)' : key);
    const list = (sign: string, keys: string[]) =>
      keys.length === 0 ? [] : [`${sign} ${keys.slice(0, KEYS_SHOWN).map(name).join(", ")}${keys.length > KEYS_SHOWN ? `, and ${keys.length - KEYS_SHOWN} more` : ""}`];
    parts.push(...list("added:", file.keys.added), ...list("removed:", file.keys.removed), ...list("changed:", file.keys.changed));
  }
  for (const attribute of file.attributes) parts.push(`${attribute.field} ${attribute.before} → ${attribute.after}`);
  return parts.join("; ");
}

/** Nothing when neither config acknowledges a hazard; else each new one in full, the others in a line. */
function hazardSection(hazards: AcknowledgedHazard[]): string[] {
  if (hazards.length === 0) return [];
  const out = ["### Hazards acknowledged", ""];
  const added = hazards.filter((h) => h.change === "new");
  if (added.length === 0) out.push("The head config acknowledges no new hazard.", "");
  else {
    out.push("New in the head config: each is a known risk the service is to run with (validate and pulumi up only warn about it).", "");
    for (const h of added) out.push(`- ${h.host} ${code(h.service)}: **${code(h.hazard)}**, ${escape(h.why)}. ${escape(h.doc)}`);
    out.push("");
  }
  const brief = (change: AcknowledgedHazard["change"]) => {
    const byService = new Map<string, string[]>();
    for (const h of hazards.filter((x) => x.change === change)) {
      const where = `${h.host} ${code(h.service)}`;
      byService.set(where, [...(byService.get(where) ?? []), code(h.hazard)]);
    }
    return [...byService].map(([where, ids]) => `${where}: ${ids.join(", ")}`).join("; ");
  };
  if (hazards.some((h) => h.change === "kept")) out.push(`Acknowledged in the base too: ${brief("kept")}.`, "");
  if (hazards.some((h) => h.change === "dropped")) out.push(`No longer acknowledged (the hazard, the service or the host is gone): ${brief("dropped")}.`, "");
  return out;
}

function policySection(diff: FleetDiff): string[] {
  const out = ["### House rules (decided offline)", ""];
  if (diff.policy.length === 0) return [...out, "The head config breaks none of the rules that can be decided without the hosts.", ""];
  for (const result of diff.policy) out.push(`- **${result.enforcement}** ${code(result.rule)}: ${escape(result.message)}`);
  return [...out, ""];
}

/** An inline code span that holds any text, backticks included. */
function code(text: string): string {
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const ticks = "`".repeat(longest + 1);
  const pad = text.startsWith("`") || text.endsWith("`") ? " " : "";
  return `${ticks}${pad}${text}${pad}${ticks}`;
}

function fence(text: string, language: string): string {
  const longest = Math.max(2, ...(text.match(/^`{3,}/gm) ?? []).map((run) => run.length));
  const ticks = "`".repeat(longest + 1);
  return `${ticks}${language}\n${text.endsWith("\n") ? text : `${text}\n`}${ticks}`;
}

const escape = (text: string) => text.replace(/([\\`*_<>[\]])/g, "\\$1");
const escapeCell = (text: string) => escape(text).replace(/\|/g, "\\|").replace(/\n/g, " ");
const html = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
