// How a `pulumi up` takes the fleet's hosts: the normalized rollout policy and
// the batches it gives. Pure.
import type { RawRolloutPolicy, RolloutWord } from "./schema/rollout";
import { PERCENTAGE } from "./schema/rollout";

export interface RolloutPolicy {
  /** Hosts done first, as a batch of their own, before any other host starts. */
  canary: number;
  /** Hosts per batch after the canaries: a count, or a percentage of the fleet (rounded up, at least 1). */
  batchSize: number | { percent: number };
  /** Failed hosts tolerated before the rollout stops starting new batches. */
  maxFailures: number;
  /** Seconds a restarted service must stay up to count as healthy. */
  settleSeconds: number;
  /** Seconds a host may take to become healthy before it counts as failed. */
  healthTimeoutSeconds: number;
}

export const DEFAULT_SETTLE_SECONDS = 2;
export const DEFAULT_HEALTH_TIMEOUT_SECONDS = 60;

/** Every remaining host in one batch. */
const ALL_HOSTS = { percent: 100 } as const;

/**
 * The fully defaulted policy for `rollout` as written (undefined: parallel).
 * `parallel`: one batch of every host, no failure stops another host (each
 * is independent; a failed host still fails the run). `sequential`: one host
 * at a time, stopping at the first failure.
 */
export function normalizeRollout(raw: RolloutWord | RawRolloutPolicy | undefined, hostCount: number): RolloutPolicy {
  const timing = { settleSeconds: DEFAULT_SETTLE_SECONDS, healthTimeoutSeconds: DEFAULT_HEALTH_TIMEOUT_SECONDS };
  if (raw === undefined || raw === "parallel") return { canary: 0, batchSize: { ...ALL_HOSTS }, maxFailures: hostCount, ...timing };
  if (raw === "sequential") return { canary: 0, batchSize: 1, maxFailures: 0, ...timing };
  return {
    canary: raw.canary ?? 0,
    batchSize: raw.batchSize === undefined ? { ...ALL_HOSTS } : parseBatchSize(raw.batchSize),
    maxFailures: raw.maxFailures ?? 0,
    settleSeconds: raw.settleSeconds ?? timing.settleSeconds,
    healthTimeoutSeconds: raw.healthTimeoutSeconds ?? timing.healthTimeoutSeconds,
  };
}

function parseBatchSize(value: number | string): RolloutPolicy["batchSize"] {
  if (typeof value === "number") return value;
  const match = PERCENTAGE.exec(value.trim());
  if (!match) throw new Error(`batchSize '${value}' is not a percentage`); // the schema refuses it first
  return { percent: Number(match[1]) };
}

/** Hosts per batch for a fleet of `hostCount`: a percentage rounded up, at least 1. */
export function batchHostCount(batchSize: RolloutPolicy["batchSize"], hostCount: number): number {
  if (typeof batchSize === "number") return Math.max(1, Math.floor(batchSize));
  return Math.max(1, Math.ceil((hostCount * batchSize.percent) / 100 - 1e-9));
}

/**
 * The hosts in the order of the rollout: the first `canary` hosts as one
 * batch, then the others in batches of batchSize (a percentage counts the
 * whole fleet). Every host is in exactly one batch; no batch is empty.
 */
export function rolloutBatches(hostNames: readonly string[], policy: Pick<RolloutPolicy, "canary" | "batchSize">): string[][] {
  const batches: string[][] = [];
  const canary = Math.min(Math.max(0, Math.floor(policy.canary)), hostNames.length);
  if (canary > 0) batches.push(hostNames.slice(0, canary));
  const size = batchHostCount(policy.batchSize, hostNames.length);
  for (let start = canary; start < hostNames.length; start += size) batches.push(hostNames.slice(start, start + size));
  return batches;
}

/** True when the policy takes one host at a time with no canary: what the Fleet component calls sequential. */
export function isOneHostAtATime(policy: RolloutPolicy): boolean {
  return policy.batchSize === 1 && policy.canary === 0;
}
