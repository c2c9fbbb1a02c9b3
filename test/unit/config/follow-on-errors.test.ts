// A service that fails validation still names what it names: the errors are
// its own, not follow-on errors about the files it refers to.
import { describe, expect, it } from "vitest";
import { formatIssues, parseFleetConfig } from "../../../lib/config";

const RULES = "/etc/tcp.smtp.cdb";
const fleet = (service: Record<string, unknown>) => ({
  tcpRules: { [RULES]: { rules: [{ address: "", action: "allow" }] } },
  hosts: [
    {
      name: "mx1",
      address: "192.0.2.10",
      ssh: { hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKREcv9w/RBTq8tGL0tCpFgM07bu1UoHQJLyD4sT+RgM" },
      services: [{ name: "smtpd", ip: "192.0.2.10", accessRules: RULES, ...service }],
    },
  ],
});

const errors = (service: Record<string, unknown>) => {
  const result = parseFleetConfig(fleet(service));
  return result.ok ? "" : formatIssues(result.errors);
};

describe("a service that fails validation", () => {
  it("gives its own error, and none about the rule set it names", () => {
    const output = errors({ user: "$QUSER" });
    expect(output).toContain("hosts[0].services[0].user");
    expect(output).not.toContain("no service uses the rule set");
  });

  it("a rule set that no service names, valid or not, is still an error", () => {
    expect(errors({ user: "$QUSER", accessRules: "/etc/tcp.other.cdb" })).toContain(`no service uses the rule set ${RULES}`);
    expect(parseFleetConfig(fleet({})).ok).toBe(true);
  });
});
