// A Markdown reference of every service option, generated from the option
// tables so it can never disagree with the schema or the renderer.
import { allOptions, OPTION_SECTIONS } from "../schema/catalog";
import type { Becomes } from "../schema/descriptor";
import { HAZARDS } from "../schema/hazards";

function target(becomes: Becomes<never>): string {
  if ("env" in becomes) return `\`${becomes.env}\``;
  if ("flag" in becomes) return `${becomes.program} \`${becomes.flag}\`${becomes.flagWhenFalse ? ` / \`${becomes.flagWhenFalse}\`` : ""}`;
  return becomes.script;
}

const cell = (text: string) => text.replace(/\|/g, "\\|");

export function renderOptionsReference(): string {
  const lines = [
    "# Service options",
    "",
    "Generated from lib/schema by `UPDATE_GOLDEN=1 npx vitest run --project unit test/unit/render`; do not edit.",
    "Fields are set on a service object (in `services` or `hosts[].services`); grouped ones inside their object, e.g. `jgreylist: { dir: ... }`.",
    "Groups marked add-on are off unless their object is given (and `enabled` is not false).",
    "",
  ];
  const entries = allOptions();
  for (const section of OPTION_SECTIONS) {
    const where = section.group ? `\`${section.group}: {...}\`${section.toggled ? ", add-on" : ""}` : "top-level fields";
    lines.push(`## ${section.title} (${where})`, "", "| option | becomes | what it does, default |", "|---|---|---|");
    for (const { name, descriptor } of entries.filter((e) => e.section === section))
      lines.push(`| \`${name}\` | ${cell(target(descriptor.becomes))} | ${cell(descriptor.doc)} |`);
    lines.push("");
  }
  lines.push(
    "## Hazards (`acknowledge: [...]`)",
    "",
    "Configurations qmail runs with but that put the mailhub or its users at risk. `validate` and `pulumi up` refuse each one unless the service names it in `acknowledge`, e.g. `acknowledge: [open-relay]`; an acknowledged hazard is reported as a warning, and an acknowledgement that matches nothing as well.",
    "",
    "| hazard | what it is |",
    "|---|---|",
    ...HAZARDS.map((hazard) => `| \`${hazard.id}\` | ${cell(hazard.doc)} |`),
    "",
  );
  return lines.join("\n");
}
