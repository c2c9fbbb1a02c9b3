// `qmail-fleet import --known-hosts F -o STACK`: F is read from the current
// directory, the stack file's knownHostsFile from the stack file's.
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { knownHostsForStackFile } from "../../../cli/commands/import";

describe("knownHostsForStackFile", () => {
  it("names a file beside or below the stack file relative to it", () => {
    expect(knownHostsForStackFile("one/mx1/known_hosts", "one/mx1/Pulumi.prod.yaml")).toBe("known_hosts");
    expect(knownHostsForStackFile("known_hosts", "Pulumi.prod.yaml")).toBe("known_hosts");
    expect(knownHostsForStackFile("keys/known_hosts", "Pulumi.prod.yaml")).toBe(path.join("keys", "known_hosts"));
  });

  it("names a file outside the stack file's directory by its absolute path", () => {
    expect(knownHostsForStackFile("known_hosts", "one/Pulumi.prod.yaml")).toBe(path.resolve("known_hosts"));
  });

  it("keeps ~/ and absolute paths as given", () => {
    expect(knownHostsForStackFile("~/.ssh/known_hosts", "one/Pulumi.prod.yaml")).toBe("~/.ssh/known_hosts");
    expect(knownHostsForStackFile("/etc/ssh/ssh_known_hosts", "one/Pulumi.prod.yaml")).toBe("/etc/ssh/ssh_known_hosts");
  });
});
