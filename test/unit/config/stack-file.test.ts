import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { configMap, ConfigFileError, readConfigFile } from "../../../cli/stack-file";

const dir = mkdtempSync(join(tmpdir(), "qmail-fleet-stack-"));

describe("reading config files", () => {
  it("strips the project prefix of a stack file and leaves other projects' keys out", () => {
    const file = join(dir, "Pulumi.prod.yaml");
    writeFileSync(
      file,
      [
        "encryptionsalt: v1:abc",
        "config:",
        "  aws:region: eu-west-1",
        "  qmail-fleet:ssh: { user: deploy }",
        "  qmail-fleet:sshPrivateKey:",
        "    secure: v1:AAAA",
        "  qmail-fleet:hosts: []",
      ].join("\n"),
    );
    expect(readConfigFile(file)).toEqual({ ssh: { user: "deploy" }, sshPrivateKey: { secure: "v1:AAAA" }, hosts: [] });
  });

  it("reads plain YAML and JSON as they are", () => {
    writeFileSync(join(dir, "fleet.yaml"), "hosts: []\nservices: []\n");
    writeFileSync(join(dir, "fleet.json"), '{"hosts": [], "ssh": {"port": 2222}}');
    expect(readConfigFile(join(dir, "fleet.yaml"))).toEqual({ hosts: [], services: [] });
    expect(readConfigFile(join(dir, "fleet.json"))).toEqual({ hosts: [], ssh: { port: 2222 } });
  });

  it("recognises a stack file by its prefixed keys whatever its name", () => {
    expect(configMap({ config: { "qmail-fleet:hosts": [] } }, "stack.yaml")).toEqual({ hosts: [] });
  });

  it("keeps YAML 1.1 oddities out (no dates, `on` is text)", () => {
    writeFileSync(join(dir, "odd.yaml"), "when: 2024-01-01\nflag: on\n");
    expect(readConfigFile(join(dir, "odd.yaml"))).toEqual({ when: "2024-01-01", flag: "on" });
  });

  it("explains unreadable and malformed files", () => {
    expect(() => readConfigFile(join(dir, "missing.yaml"))).toThrow(ConfigFileError);
    writeFileSync(join(dir, "bad.yaml"), "hosts: [\n");
    expect(() => readConfigFile(join(dir, "bad.yaml"))).toThrow(/not valid YAML or JSON/);
    writeFileSync(join(dir, "list.yaml"), "- a\n");
    expect(() => readConfigFile(join(dir, "list.yaml"))).toThrow(/mapping of config keys/);
  });
});
