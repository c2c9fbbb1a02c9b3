// A part checks its own Args in its constructor, with the CLI's rules and
// messages, as far as it can alone: values that are still Inputs are checked
// when its mailhub plans.
import * as pulumi from "./pulumi-sdk";
import { formatIssues } from "../lib/config";
import { checkPart, type MailhubSpec } from "../lib/mailhub-spec";

/** Checks the part and gives back the resource options, so that a part with errors is refused before it is registered. */
export function checkPartArgs<O>(label: string, part: Omit<Partial<MailhubSpec>, "label" | "hostName" | "connection">, opts: O): O {
  if (!isKnown(part)) return opts;
  const errors = checkPart(part, label);
  if (errors.length > 0) throw new pulumi.RunError(`${label} has errors; nothing was changed:\n${formatIssues(errors)}`);
  return opts;
}

/** True when the value holds no Output or Promise anywhere. */
export function isKnown(value: unknown): boolean {
  // Strings first: an address list holds hundreds of thousands of them.
  if (value === null || typeof value !== "object") return true;
  if (pulumi.Output.isInstance(value) || value instanceof Promise) return false;
  if (Array.isArray(value)) return value.every(isKnown);
  if (value !== null && typeof value === "object" && !Buffer.isBuffer(value)) return Object.values(value).every(isKnown);
  return true;
}
