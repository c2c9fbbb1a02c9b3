// The option types of the library's Args, taken from the schemas the stack
// file is checked with (their input types: defaults optional), so a new option
// is still one entry in one table.
import type { z } from "zod";
import type { hostSchema } from "../lib/schema/fleet";
import type { serviceSchema } from "../lib/schema/service";
import type { authUserSchema, tcpRuleSchema } from "../lib/schema/shared-files";
import type { SmtpServiceTableOptions } from "./smtp-service-options";

/**
 * Every option of one SMTP service (lib/schema, examples/OPTIONS.md), as a
 * stack file writes it: the option tables' fields with their docs and
 * defaults, and the schema's other fields (preset, ...).
 */
export type SmtpServiceOptions = SmtpServiceTableOptions & Omit<z.input<typeof serviceSchema>, keyof SmtpServiceTableOptions | "name">;

/** A login of auth.cdb: `{ user, password | hash, env?, expires? }`. */
export type AuthUser = z.input<typeof authUserSchema>;

/** A tcprules rule: `{ address, action: "allow" | "deny", env? }`; the first match wins. */
export type TcpRule = z.input<typeof tcpRuleSchema>;

/** Where qmail lives on a mailhub. */
export type MailhubDirectories = Pick<z.input<typeof hostSchema>, "qmailDir" | "serviceDir" | "superviseDir">;
