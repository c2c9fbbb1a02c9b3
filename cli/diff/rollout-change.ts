// How `pulumi up` would take the head config's hosts, beside how it took the
// base's, when the two differ: the batches in order and the health gate.
import type { FleetConfig } from "../../lib/config";
import { rolloutBatches } from "../../lib/rollout";

export interface RolloutChange {
  /** e.g. `canary mx1; then mx2, mx3; then mx4; settle 2 s, health timeout 60 s, 0 failures tolerated`. */
  before: string;
  after: string;
}

export function rolloutChange(base: FleetConfig, head: FleetConfig): RolloutChange | undefined {
  const before = describeRollout(base);
  const after = describeRollout(head);
  return before === after ? undefined : { before, after };
}

export function describeRollout(config: FleetConfig): string {
  const policy = config.rollout;
  const batches = rolloutBatches(
    config.hosts.map((host) => host.name),
    policy,
  );
  const order = batches.map((hosts, i) => (i === 0 && policy.canary > 0 ? `canary ${hosts.join(", ")}` : hosts.join(", "))).join("; then ");
  const failures = policy.maxFailures >= config.hosts.length ? "every failure tolerated" : `${policy.maxFailures} failure${policy.maxFailures === 1 ? "" : "s"} tolerated`;
  return `${batches.length === 1 ? "all at once" : "in turn"}: ${order}; settle ${policy.settleSeconds} s, health timeout ${policy.healthTimeoutSeconds} s, ${failures}`;
}
