// Table-driven: every option of the catalog must parse its sample, differ
// from its default, and change what is planned for the host. An option added
// to a table without being rendered fails here.
import { describe, expect, it } from "vitest";
import { parseFleetConfig } from "../../../lib/config";
import { planFleet } from "../../../lib/plan";
import { allOptions, OPTION_SECTIONS } from "../../../lib/schema/catalog";
import { deepMerge } from "../../../lib/schema/merge";
import { serviceSchema } from "../../../lib/schema/service";
import { fleetWith, mustParse } from "./fixtures";

const BASE_SERVICE = { name: "smtpd", ip: "192.0.2.10" };

/** Everything planned for the host, as one comparable text. */
function plannedText(service: Record<string, unknown>): string {
  const { config } = mustParse(fleetWith([service]));
  const [host] = planFleet(config).hosts;
  return JSON.stringify({ ...host, files: host.files.map((f) => ({ ...f, content: f.content.toString() })) }, null, 1);
}

function scripts(service: Record<string, unknown>): string {
  const { config } = mustParse(fleetWith([service]));
  return planFleet(config).hosts[0].files.map((f) => f.content.toString()).join("\n");
}

describe("option catalog", () => {
  const entries = allOptions();

  it("covers a reasonable share of the seed", () => {
    expect(entries.length).toBeGreaterThanOrEqual(80);
  });

  it.each(entries.map((e) => [e.name, e] as const))("%s: documented, sample valid and not the default", (_name, entry) => {
    const { descriptor } = entry;
    expect(descriptor.doc.length).toBeGreaterThan(20);
    expect(descriptor.schema.safeParse(descriptor.sample).success).toBe(true);
    const fallback = descriptor.schema.safeParse(undefined);
    if (fallback.success) expect(fallback.data).not.toEqual(descriptor.sample);
  });

  it.each(entries.map((e) => [e.name, e] as const))("%s: changes the planned host", (_name, entry) => {
    const { section, key, descriptor } = entry;
    const context = deepMerge(BASE_SERVICE, descriptor.sampleContext ?? {});
    const setting = section.group ? { [section.group]: { [key]: descriptor.sample } } : { [key]: descriptor.sample };
    const variant = deepMerge(context, setting);
    // Compare with the context alone; when that is not valid by itself (a
    // field that needs this option), with the bare service.
    const base = parseFleetConfig(fleetWith([context])).ok ? context : BASE_SERVICE;
    expect(plannedText(variant)).not.toEqual(plannedText(base));

    const becomes = descriptor.becomes;
    const text = scripts(variant);
    if ("env" in becomes && !becomes.exports && descriptor.sample !== false) expect(text).toContain(`export ${becomes.env}=`);
    if ("flag" in becomes && typeof descriptor.sample !== "boolean") expect(text).toMatch(new RegExp(`(^| )${becomes.flag}`, "m"));
  });

  it("the service schema holds exactly the catalog's options (nothing bypasses the table)", () => {
    const shape = serviceSchema.shape as Record<string, unknown>;
    const topLevel = OPTION_SECTIONS.filter((s) => s.group === null).flatMap((s) => Object.keys(s.options));
    const groups = OPTION_SECTIONS.filter((s) => s.group !== null).map((s) => s.group!);
    // acknowledge names hazards (lib/schema/hazards.ts); it is not an option of the run script.
    expect(Object.keys(shape).sort()).toEqual(["name", "preset", "acknowledge", ...topLevel, ...groups].sort());
    for (const section of OPTION_SECTIONS.filter((s) => s.group !== null)) {
      const nested = serviceSchema.shape[section.group as keyof typeof serviceSchema.shape] as unknown as {
        unwrap(): { shape: Record<string, unknown> };
      };
      expect(Object.keys(nested.unwrap().shape).sort(), section.group!).toEqual(Object.keys(section.options).sort());
    }
  });

  it("no two options claim the same variable, except the QMAILQUEUE alternatives", () => {
    const seen = new Map<string, string>();
    for (const { name, descriptor } of entries) {
      if (!("env" in descriptor.becomes) || descriptor.becomes.env === "QMAILQUEUE") continue;
      expect(seen.get(descriptor.becomes.env), `${name} and ${seen.get(descriptor.becomes.env)}`).toBeUndefined();
      seen.set(descriptor.becomes.env, name);
    }
  });
});
