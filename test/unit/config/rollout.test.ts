// The rollout key: its words, its policy object, the normalized policy and the batches it gives.
import { describe, expect, it } from "vitest";
import { normalizeRollout, rolloutBatches, type RolloutPolicy } from "../../../lib/rollout";
import { fleetWith, mustFail, mustParse } from "../schema/fixtures";

const hosts = (n: number) => Array.from({ length: n }, (_, i) => `mx${i + 1}`);
const fleet = (rollout: unknown, hostCount = 1) => {
  const base = fleetWith([{ name: "smtpd", ip: "0" }]);
  const [host] = base.hosts as Array<Record<string, unknown>>;
  return { ...base, hosts: hosts(hostCount).map((name, i) => ({ ...host, name, address: `192.0.2.${10 + i}` })), ...(rollout === undefined ? {} : { rollout }) };
};
const policyOf = (rollout: unknown, hostCount = 1) => mustParse(fleet(rollout, hostCount)).config.rollout;

describe("rollout: the words", () => {
  it("defaults to parallel: one batch of every host, every failure tolerated", () => {
    const expected: RolloutPolicy = { canary: 0, batchSize: { percent: 100 }, maxFailures: 3, settleSeconds: 2, healthTimeoutSeconds: 60 };
    expect(policyOf(undefined, 3)).toEqual(expected);
    expect(policyOf("parallel", 3)).toEqual(expected);
    expect(rolloutBatches(hosts(3), expected)).toEqual([["mx1", "mx2", "mx3"]]);
  });

  it("sequential is batches of one host, stopping at the first failure", () => {
    const policy = policyOf("sequential", 3);
    expect(policy).toEqual({ canary: 0, batchSize: 1, maxFailures: 0, settleSeconds: 2, healthTimeoutSeconds: 60 });
    expect(rolloutBatches(hosts(3), policy)).toEqual([["mx1"], ["mx2"], ["mx3"]]);
  });

  it("refuses a misspelt word with the nearest one, and other types with an example", () => {
    expect(mustFail(fleet("sequental"))).toEqual([
      "rollout: unknown rollout 'sequental': did you mean 'sequential'? (rollout is parallel, sequential or a policy object)",
    ]);
    expect(mustFail(fleet("Parallel"))[0]).toContain("did you mean 'parallel'?");
    expect(mustFail(fleet("all-at-once"))[0]).toMatch(/^rollout: unknown rollout 'all-at-once': write parallel, sequential or a policy object \(for example rollout: sequential/);
    for (const value of [true, 3, ["mx1"], null])
      expect(mustFail(fleet(value))[0]).toMatch(/^rollout: rollout must be parallel, sequential or a policy object \(for example /);
  });
});

describe("rollout: the policy object", () => {
  it("fills every field it leaves out", () => {
    expect(policyOf({}, 4)).toEqual({ canary: 0, batchSize: { percent: 100 }, maxFailures: 0, settleSeconds: 2, healthTimeoutSeconds: 60 });
    expect(policyOf({ canary: 1, batchSize: "25%", maxFailures: 2, settleSeconds: 0.5, healthTimeoutSeconds: 120 }, 4)).toEqual({
      canary: 1,
      batchSize: { percent: 25 },
      maxFailures: 2,
      settleSeconds: 0.5,
      healthTimeoutSeconds: 120,
    });
    expect(policyOf({ batchSize: 2 }, 4).batchSize).toBe(2);
  });

  it("refuses unknown fields with the nearest valid one", () => {
    expect(mustFail(fleet({ batchsize: 2 }))).toEqual(["rollout.batchsize: unknown field 'batchsize': did you mean 'batchSize'?"]);
    expect(mustFail(fleet({ order: ["mx1"] }))[0]).toBe(
      "rollout.order: unknown field 'order': remove it, or use the nearest valid field, 'canary' (valid fields: canary, batchSize, maxFailures, settleSeconds and healthTimeoutSeconds)",
    );
  });

  const refused: Array<[string, Record<string, unknown>, string]> = [
    ["a negative canary", { canary: -1 }, "rollout.canary: rollout.canary must be 0 or more"],
    ["a fractional canary", { canary: 1.5 }, "rollout.canary: rollout.canary must be a whole number, for example canary: 1"],
    ["canary as text", { canary: "1" }, "rollout.canary: rollout.canary must be a whole number, for example canary: 1"],
    ["batchSize 0", { batchSize: 0 }, "rollout.batchSize: rollout.batchSize must be a whole number of hosts, 1 or more"],
    ["batchSize 0%", { batchSize: "0%" }, "rollout.batchSize: rollout.batchSize '0%' is not a percentage above 0% and at most 100%"],
    ["batchSize 150%", { batchSize: "150%" }, "rollout.batchSize: rollout.batchSize '150%' is not a percentage"],
    ["batchSize as a word", { batchSize: "half" }, "rollout.batchSize: rollout.batchSize 'half' is not a percentage"],
    ["batchSize as a list", { batchSize: [1] }, 'rollout.batchSize: rollout.batchSize must be a whole number of hosts or a percentage of the fleet, for example batchSize: 2 or batchSize: "25%"'],
    ["negative maxFailures", { maxFailures: -2 }, "rollout.maxFailures: rollout.maxFailures must be 0 or more"],
    ["settleSeconds 0", { settleSeconds: 0 }, "rollout.settleSeconds: rollout.settleSeconds must be more than 0 seconds"],
    ["settleSeconds as text", { settleSeconds: "2s" }, "rollout.settleSeconds: rollout.settleSeconds must be a number of seconds, for example settleSeconds: 5"],
    ["healthTimeoutSeconds 0", { healthTimeoutSeconds: 0 }, "rollout.healthTimeoutSeconds: rollout.healthTimeoutSeconds must be 1 or more"],
    ["a fractional healthTimeoutSeconds", { healthTimeoutSeconds: 1.5 }, "rollout.healthTimeoutSeconds: rollout.healthTimeoutSeconds must be a whole number"],
    ["a health timeout in milliseconds", { healthTimeoutSeconds: 60000 }, "rollout.healthTimeoutSeconds: rollout.healthTimeoutSeconds must be at most 3600 seconds"],
    ["settling longer than the timeout", { settleSeconds: 90 }, "rollout.settleSeconds: rollout.settleSeconds (90) must be shorter than rollout.healthTimeoutSeconds (60)"],
  ];
  it.each(refused)("refuses %s", (_what, rollout, expected) => {
    expect(mustFail(fleet(rollout)).join("\n")).toContain(expected);
  });

  it("warns when the canaries are the whole fleet", () => {
    expect(mustParse(fleet({ canary: 2 }, 2)).warnings).toEqual([
      "rollout.canary: canary 2 takes every host of the fleet (2), so the canaries protect nothing: use fewer canaries than hosts",
    ]);
  });
});

describe("rolloutBatches", () => {
  const policy = (canary: number, batchSize: RolloutPolicy["batchSize"]) => ({ canary, batchSize });

  it("puts the canaries first, as one batch, then batches of batchSize", () => {
    expect(rolloutBatches(hosts(7), policy(1, 2))).toEqual([["mx1"], ["mx2", "mx3"], ["mx4", "mx5"], ["mx6", "mx7"]]);
    expect(rolloutBatches(hosts(5), policy(2, 2))).toEqual([["mx1", "mx2"], ["mx3", "mx4"], ["mx5"]]);
  });

  it("counts a percentage of the whole fleet, rounded up and at least one host", () => {
    expect(rolloutBatches(hosts(10), policy(0, { percent: 25 }))).toEqual([hosts(10).slice(0, 3), hosts(10).slice(3, 6), hosts(10).slice(6, 9), ["mx10"]]);
    expect(rolloutBatches(hosts(4), policy(0, { percent: 25 }))).toEqual([["mx1"], ["mx2"], ["mx3"], ["mx4"]]);
    expect(rolloutBatches(hosts(3), policy(0, { percent: 1 }))).toEqual([["mx1"], ["mx2"], ["mx3"]]);
    expect(rolloutBatches(hosts(3), policy(1, { percent: 100 }))).toEqual([["mx1"], ["mx2", "mx3"]]);
  });

  it("never makes an empty batch, and takes every host exactly once", () => {
    expect(rolloutBatches([], policy(2, 1))).toEqual([]);
    expect(rolloutBatches(hosts(2), policy(5, 1))).toEqual([["mx1", "mx2"]]);
    for (let n = 0; n <= 12; n++)
      for (const canary of [0, 1, 3])
        for (const size of [1, 2, 5, { percent: 10 }, { percent: 33.3 }, { percent: 100 }] as const) {
          const batches = rolloutBatches(hosts(n), policy(canary, size));
          expect(batches.flat()).toEqual(hosts(n));
          expect(batches.every((b) => b.length > 0)).toBe(true);
        }
  });

  it("normalizeRollout gives parallel's maxFailures as the number of hosts", () => {
    expect(normalizeRollout("parallel", 5).maxFailures).toBe(5);
    expect(normalizeRollout(undefined, 0).maxFailures).toBe(0);
  });
});
