// The `rollout` key: how hosts are taken through a `pulumi up`. Either one of
// the words `parallel` (every host at once, the default) or `sequential` (one
// host after another, stopping at the first failure), or a policy object:
//
//   rollout:
//     canary: 1              # hosts done first, on their own, before any other
//     batchSize: "25%"       # then hosts in batches: a count, or a percentage of the fleet
//     maxFailures: 0         # failed hosts tolerated before the rollout stops
//     settleSeconds: 2       # how long a restarted service must stay up to count as healthy
//     healthTimeoutSeconds: 60   # how long a host may take to become healthy
//
// lib/rollout.ts turns any of these into a fully defaulted RolloutPolicy.
import { z } from "zod";
import { closestName, unknownFieldMessage } from "./strict";

export const ROLLOUT_WORDS = ["parallel", "sequential"] as const;
export type RolloutWord = (typeof ROLLOUT_WORDS)[number];

export const ROLLOUT_FIELDS = ["canary", "batchSize", "maxFailures", "settleSeconds", "healthTimeoutSeconds"] as const;

/** Upper bounds that keep a typo (an extra zero, milliseconds) from stalling a rollout for days. */
export const MAX_SETTLE_SECONDS = 3600;
export const MAX_HEALTH_TIMEOUT_SECONDS = 3600;

const EXAMPLE = 'for example rollout: sequential, or rollout: { canary: 1, batchSize: "25%" }';

const wholeNumber = (field: string, min: number, example: string) =>
  z
    .number({ error: `rollout.${field} must be a whole number, for example ${field}: ${example}` })
    .int({ message: `rollout.${field} must be a whole number, for example ${field}: ${example}` })
    .min(min, { message: `rollout.${field} must be ${min} or more` })
    .max(Number.MAX_SAFE_INTEGER, { message: `rollout.${field} is too large` });

/** "25%": a percentage of the fleet's hosts, more than 0 and at most 100. */
export const PERCENTAGE = /^(\d{1,3}(?:\.\d+)?)%$/;

const batchSize = z.union([z.number(), z.string()], {
  error: 'rollout.batchSize must be a whole number of hosts or a percentage of the fleet, for example batchSize: 2 or batchSize: "25%"',
}).superRefine((value, ctx) => {
  if (typeof value === "number") {
    if (!Number.isInteger(value) || value < 1 || value > Number.MAX_SAFE_INTEGER)
      ctx.addIssue({ code: "custom", message: 'rollout.batchSize must be a whole number of hosts, 1 or more (or a percentage such as "25%")' });
    return;
  }
  const match = PERCENTAGE.exec(value.trim());
  const percent = match ? Number(match[1]) : NaN;
  if (!match || !(percent > 0) || percent > 100)
    ctx.addIssue({
      code: "custom",
      message: `rollout.batchSize '${value}' is not a percentage above 0% and at most 100%: write a number of hosts (batchSize: 2) or a percentage (batchSize: "25%")`,
    });
});

export const rolloutPolicySchema = z
  .object(
    {
      canary: wholeNumber("canary", 0, "1").optional(),
      batchSize: batchSize.optional(),
      maxFailures: wholeNumber("maxFailures", 0, "1").optional(),
      settleSeconds: z
        .number({ error: "rollout.settleSeconds must be a number of seconds, for example settleSeconds: 5" })
        .refine((n) => Number.isFinite(n) && n > 0, { message: "rollout.settleSeconds must be more than 0 seconds" })
        .refine((n) => n <= MAX_SETTLE_SECONDS, { message: `rollout.settleSeconds must be at most ${MAX_SETTLE_SECONDS} seconds` })
        .optional(),
      healthTimeoutSeconds: wholeNumber("healthTimeoutSeconds", 1, "120")
        .max(MAX_HEALTH_TIMEOUT_SECONDS, { message: `rollout.healthTimeoutSeconds must be at most ${MAX_HEALTH_TIMEOUT_SECONDS} seconds` })
        .optional(),
    },
    { error: `rollout must be parallel, sequential or a policy object (${EXAMPLE})` },
  )
  .strict()
  .superRefine((policy, ctx) => {
    const settle = policy.settleSeconds ?? 2;
    const timeout = policy.healthTimeoutSeconds ?? 60;
    if (settle >= timeout)
      ctx.addIssue({
        code: "custom",
        path: ["settleSeconds"],
        message: `rollout.settleSeconds (${settle}) must be shorter than rollout.healthTimeoutSeconds (${timeout}): a service must be seen up for settleSeconds within the health timeout, so no host could ever pass; lower settleSeconds or raise healthTimeoutSeconds`,
      });
  });

export type RawRolloutPolicy = z.output<typeof rolloutPolicySchema>;

/** The rollout key as written: a word or a policy object. */
export const rolloutSchema = z.unknown().transform((value, ctx): RolloutWord | RawRolloutPolicy => {
  if (typeof value === "string") {
    if ((ROLLOUT_WORDS as readonly string[]).includes(value)) return value as RolloutWord;
    const near = closestName(value, ROLLOUT_WORDS);
    ctx.addIssue({
      code: "custom",
      message: near
        ? `unknown rollout '${value}': did you mean '${near}'? (rollout is parallel, sequential or a policy object)`
        : `unknown rollout '${value}': write parallel, sequential or a policy object (${EXAMPLE})`,
    });
    return z.NEVER;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    ctx.addIssue({ code: "custom", message: `rollout must be parallel, sequential or a policy object (${EXAMPLE})` });
    return z.NEVER;
  }
  const unknown = Object.keys(value).filter((key) => !(ROLLOUT_FIELDS as readonly string[]).includes(key));
  for (const key of unknown)
    ctx.addIssue({ code: "custom", path: [key], message: unknownFieldMessage([key], ROLLOUT_FIELDS, true) });
  const parsed = rolloutPolicySchema.safeParse(value);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      if (issue.code === "unrecognized_keys") continue; // named above, one by one
      ctx.addIssue({ code: "custom", path: issue.path as PropertyKey[] as Array<string | number>, message: issue.message });
    }
    return z.NEVER;
  }
  if (unknown.length > 0) return z.NEVER;
  return parsed.data;
});
