// SmtpService's Args come from the option tables: the generated interface
// (docs and defaults) has exactly the schema's input type, and is current.
import { readFileSync } from "node:fs";
import type { z } from "zod";
import { describe, expect, it } from "vitest";
import type { SmtpServiceOptions } from "../../components/options";
import { GENERATED_FILE, renderServiceOptionTypes } from "../../components/service-option-types";
import type { serviceSchema } from "../../lib/schema/service";

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
// A compile error here means the Args and the schema disagree.
const argsAreTheSchemaInput: Same<SmtpServiceOptions, Omit<z.input<typeof serviceSchema>, "name">> = true;

describe("SmtpService option types", () => {
  it("are the schema's input type", () => expect(argsAreTheSchemaInput).toBe(true));

  it("components/smtp-service-options.ts is generated from the current option tables (regenerate: see components/service-option-types.ts)", () => {
    expect(readFileSync(GENERATED_FILE, "utf8")).toBe(renderServiceOptionTypes());
  });
});
