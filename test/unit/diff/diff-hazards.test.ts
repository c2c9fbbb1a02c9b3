// `qmail-fleet diff` and the hazards a config acknowledges: validate and
// pulumi up only warn about them (on stderr, the CI log), and most have no
// house rule, so the report itself must name the ones the head takes on.
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { diffCommand } from "../../../cli/commands/diff";
import type { FleetDiff } from "../../../cli/diff/fleet-diff";
import { HAZARDS } from "../../../lib/schema/hazards";
import { captureOutput } from "../../capture-output";
import { ALICE_PASSWORD, baseFleet, newKeyPair, writeConfigs, type KeyPair } from "./fleet-fixture";

const output = captureOutput();

let pair: KeyPair;
beforeAll(() => {
  pair = newKeyPair();
});

async function runDiff(...args: string[]): Promise<number> {
  output.stdout = output.stderr = "";
  return diffCommand.run(args);
}

const doc = (id: string) => HAZARDS.find((h) => h.id === id)!.doc;

/** The base fleet with its smtpd (the fleet's MX service) changed on every host. */
function withSmtpd(extra: Record<string, unknown>): Record<string, unknown> {
  const fleet = baseFleet(pair) as { services: Array<Record<string, unknown>> } & Record<string, unknown>;
  return { ...fleet, services: [{ ...fleet.services[0], ...extra }] };
}

const ROOT = { user: "root", acknowledge: ["runs-as-root"] };
/** SMTPS submission of mx1 logging its conversation, passwords included. */
function withRecordio(fleet: Record<string, unknown>): Record<string, unknown> {
  const hosts = (fleet as { hosts: Array<{ services: Array<Record<string, unknown>> }> }).hosts;
  return {
    ...fleet,
    hosts: [{ ...hosts[0], services: [{ ...hosts[0].services[0], recordio: {}, acknowledge: ["passwords-in-log"] }] }, hosts[1]],
  };
}

const listed = (diff: FleetDiff) => diff.hazards.map((h) => `${h.change} ${h.host} ${h.service} ${h.hazard}`);

describe("qmail-fleet diff: acknowledged hazards", () => {
  it("names a hazard the head newly acknowledges, with its explanation, in Markdown and JSON, and counts it as a change", async () => {
    const files = writeConfigs({ base: baseFleet(pair), head: withRecordio(withSmtpd(ROOT)) });
    expect(await runDiff("--format", "json", files.base, files.head)).toBe(2);
    const diff = JSON.parse(output.stdout) as FleetDiff;
    expect(diff.changed).toBe(true);
    expect(listed(diff)).toEqual(["new mx1 smtpd runs-as-root", "new mx1 smtps passwords-in-log", "new mx2 smtpd runs-as-root"]);
    expect(diff.hazards[0]).toEqual({
      host: "mx1",
      service: "smtpd",
      hazard: "runs-as-root",
      doc: doc("runs-as-root"),
      why: "the service runs as root (tcpserver -u 0)",
      change: "new",
    });

    expect(await runDiff(files.base, files.head)).toBe(2);
    const markdown = output.stdout;
    const section = markdown.indexOf("### Hazards acknowledged");
    expect(section).toBeGreaterThan(0);
    // Near the top: before the first host's files.
    expect(section).toBeLessThan(markdown.indexOf("### mx1"));
    expect(markdown).toContain(`- mx1 \`smtpd\`: **\`runs-as-root\`**, the service runs as root (tcpserver -u 0). ${doc("runs-as-root")}`);
    expect(markdown).toContain("- mx1 `smtps`: **`passwords-in-log`**, recordio logs the whole conversation, AUTH passwords included.");
    expect(markdown).not.toContain("Acknowledged in the base too");
    expect(markdown).not.toContain(ALICE_PASSWORD);
  });

  it("names an open relay acknowledged through a tcprules file, which only planning reads", async () => {
    const head = { ...withSmtpd({ accessRules: "/var/qmail/control/tcp.smtp.cdb", acknowledge: ["open-relay"] }), tcpRules: { "/var/qmail/control/tcp.smtp.cdb": { file: "tcp.smtp" } } };
    const files = writeConfigs({ base: baseFleet(pair), head });
    writeFileSync(join(dirname(files.head), "tcp.smtp"), ':allow,RELAYCLIENT=""\n');
    expect(await runDiff("--format", "json", files.base, files.head)).toBe(2);
    const diff = JSON.parse(output.stdout) as FleetDiff;
    expect(listed(diff)).toEqual(["new mx1 smtpd open-relay", "new mx2 smtpd open-relay"]);
    expect(diff.hazards[0].why).toContain("tcp.smtp, the rules at /var/qmail/control/tcp.smtp.cdb, that matches every client sets RELAYCLIENT");
  });

  it("only mentions, and does not count as a change, a hazard acknowledged in both", async () => {
    const both = withSmtpd(ROOT);
    const files = writeConfigs({ base: both, head: both });
    expect(await runDiff("--format", "json", files.base, files.head)).toBe(0);
    const diff = JSON.parse(output.stdout) as FleetDiff;
    expect(diff.changed).toBe(false);
    expect(listed(diff)).toEqual(["kept mx1 smtpd runs-as-root", "kept mx2 smtpd runs-as-root"]);

    expect(await runDiff(files.base, files.head)).toBe(0);
    expect(output.stdout).toContain("The head config acknowledges no new hazard.\n\nAcknowledged in the base too: mx1 `smtpd`: `runs-as-root`; mx2 `smtpd`: `runs-as-root`.\n");
    expect(output.stdout).not.toContain(doc("runs-as-root"));
  });

  it("says which acknowledged hazards the head drops, beside the ones it keeps", async () => {
    const files = writeConfigs({ base: withRecordio(withSmtpd(ROOT)), head: withSmtpd(ROOT) });
    expect(await runDiff("--format", "json", files.base, files.head)).toBe(2);
    expect(listed(JSON.parse(output.stdout) as FleetDiff)).toEqual(["kept mx1 smtpd runs-as-root", "kept mx2 smtpd runs-as-root", "dropped mx1 smtps passwords-in-log"]);
    await runDiff(files.base, files.head);
    expect(output.stdout).toContain("No longer acknowledged (the hazard, the service or the host is gone): mx1 `smtps`: `passwords-in-log`.");
  });

  it("leaves the section out when neither config acknowledges a hazard, and ignores an acknowledgement that matches nothing", async () => {
    const files = writeConfigs({ base: baseFleet(pair), head: withSmtpd({ acknowledge: ["runs-as-root"] }) });
    expect(await runDiff("--format", "json", files.base, files.head)).toBe(0);
    expect((JSON.parse(output.stdout) as FleetDiff).hazards).toEqual([]);
    await runDiff(files.base, files.head);
    expect(output.stdout).not.toContain("Hazards acknowledged");
  });
});
