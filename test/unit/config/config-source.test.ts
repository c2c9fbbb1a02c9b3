// Reading config files: stack files and plain YAML/JSON, read as the engine
// reads them and decoded by the code the Pulumi program uses too.
import { mkdtempSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { decodeConfig, type SourceIssue } from "../../../lib/source/engine-config";
import { ConfigFileError, engineEntriesOf, MAX_CONFIG_BYTES, readConfigSource } from "../../../lib/source/config-file";
import { describeReadError, readLocalFile, resolveLocalPath } from "../../../lib/source/local-paths";

const dir = mkdtempSync(join(tmpdir(), "qmail-fleet-source-"));
const write = (name: string, text: string | Buffer) => {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
};
const issues = (list: SourceIssue[]) => list.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message));

describe("reading a stack file", () => {
  it("strips the project prefix; keys without a namespace are the project's; secrets stay encrypted", () => {
    const file = write(
      "Pulumi.prod.yaml",
      ["encryptionsalt: v1:abc", "config:", "  qmail-fleet:ssh: { user: deploy }", "  qmail-fleet:sshPrivateKey:", "    secure: v1:AAAA", "  rollout: sequential", "  qmail-fleet:hosts: []"].join("\n"),
    );
    const source = readConfigSource(file);
    expect(source.errors).toEqual([]);
    expect(source.raw).toEqual({ ssh: { user: "deploy" }, sshPrivateKey: { secure: "v1:AAAA" }, rollout: "sequential", hosts: [] });
  });

  it("hands every map over with its keys sorted, as the engine hands them to the program", () => {
    const file = write("Pulumi.order.yaml", "config:\n  qmail-fleet:tcpRules:\n    /r.cdb: {rules: [{address: '', action: allow, env: {RELAYCLIENT: '', A: '1'}}]}\n");
    const { raw } = readConfigSource(file);
    const env = (raw.tcpRules as Record<string, { rules: Array<{ env: Record<string, string> }> }>)["/r.cdb"].rules[0].env;
    expect(Object.keys(env)).toEqual(["A", "RELAYCLIENT"]);
  });

  it("names a key of another or misspelt project with the nearest valid key", () => {
    const file = write("Pulumi.ns.yaml", "config:\n  qmail-flet:hosts: []\n  aws:region: eu-west-1\n  pulumi:tags: {a: b}\n");
    expect(issues(readConfigSource(file).errors)).toEqual([
      "aws:region: 'aws:region' is not a key of this project: qmail-fleet reads only qmail-fleet:<key>; remove it (the nearest valid key is 'qmail-fleet:rollout')",
      "qmail-flet:hosts: unknown project 'qmail-flet' in 'qmail-flet:hosts': did you mean 'qmail-fleet:hosts'?",
    ]);
  });

  it("refuses an unknown top-level key of a stack file, and one key written twice", () => {
    const file = write("Pulumi.top.yaml", "confg:\n  qmail-fleet:hosts: []\n");
    expect(issues(readConfigSource(file).errors)).toEqual([
      "confg: unknown top-level key 'confg' in a stack file: did you mean 'config'? (a stack file holds config, secretsprovider, encryptedkey, encryptionsalt and environment; fleet settings go under config:)",
    ]);
    const twice = write("Pulumi.twice.yaml", "config:\n  rollout: parallel\n  qmail-fleet:rollout: sequential\n");
    expect(issues(readConfigSource(twice).errors)[0]).toMatch(/^qmail-fleet:rollout: 'qmail-fleet:rollout' and 'rollout' are the same key \(qmail-fleet:rollout\)/);
  });

  it("reads numbers, booleans and dates as the engine does, and refuses values JSON cannot carry", () => {
    const file = write("Pulumi.values.yaml", "config:\n  qmail-fleet:x: {mode: 0755, on: on, date: 2030-01-01, t: TRUE, f: 08}\n  qmail-fleet:y: [.inf]\n");
    const source = readConfigSource(file);
    expect(source.raw.x).toEqual({ date: "2030-01-01 00:00:00 +0000 UTC", f: 8, mode: 493, on: "on", t: true });
    expect(issues(source.errors)).toEqual(["y[0]: .inf is not a number Pulumi can pass on (JSON has no such value): write a finite number"]);
  });

  it("warns that ESC environments are not read", () => {
    const file = write("Pulumi.esc.yaml", "environment: [prod]\nconfig:\n  qmail-fleet:hosts: []\n");
    expect(issues(readConfigSource(file).warnings)[0]).toMatch(/^environment: config from Pulumi ESC environments is merged in by `pulumi up` but cannot be read here/);
  });
});

describe("reading plain YAML and JSON", () => {
  it("takes the keys as they are", () => {
    expect(readConfigSource(write("fleet.yaml", "hosts: []\nservices: []\n")).raw).toEqual({ hosts: [], services: [] });
    expect(readConfigSource(write("fleet.json", '{"hosts": [], "ssh": {"port": 2222}}')).raw).toEqual({ hosts: [], ssh: { port: 2222 } });
    expect(readConfigSource(write("prefixed.yaml", "qmail-fleet:hosts: []\n")).raw).toEqual({ hosts: [] });
  });

  it("recognises a stack file by its config: section whatever its name", () => {
    expect(readConfigSource(write("stack.yaml", "config:\n  qmail-fleet:hosts: []\n")).raw).toEqual({ hosts: [] });
  });

  it("reads UTF-8 with a byte order mark and UTF-16, and refuses other bytes", () => {
    expect(readConfigSource(write("bom.yaml", Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from("hosts: []\n")]))).raw).toEqual({ hosts: [] });
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from("hosts: []\n", "utf16le")]);
    expect(readConfigSource(write("utf16.yaml", utf16)).raw).toEqual({ hosts: [] });
    expect(() => readConfigSource(write("latin1.yaml", Buffer.from("hosts: caf\xe9\n", "latin1")))).toThrow(/latin1\.yaml is not UTF-8 text \(an invalid byte at offset 10\): save it as UTF-8/);
  });

  it("explains unreadable, malformed, oversized and non-mapping files on one line", () => {
    expect(() => readConfigSource(join(dir, "missing.yaml"))).toThrow(new ConfigFileError(`cannot read ${join(dir, "missing.yaml")}: no such file`));
    expect(() => readConfigSource(dir)).toThrow(/is not a file/);
    expect(() => readConfigSource(write("bad.yaml", "hosts: [\n"))).toThrow(/bad\.yaml is not valid YAML, line \d+: [^\n]+$/);
    expect(() => readConfigSource(write("bad.json", "{,}"))).toThrow(/bad\.json is not valid JSON, line 1, column 2: expected a property name in double quotes, found ','$/);
    // JSON.parse names no line and quotes the text over several lines; the message names the place and the mistake.
    const jsonProblem = (text: string) => {
      try {
        readConfigSource(write("broken.json", text));
      } catch (error) {
        return (error as Error).message.replace(/^.*is not valid JSON, /, "");
      }
      return "accepted";
    };
    expect(jsonProblem('{"hosts": [\n  {"name": "mx1"},\n]}')).toBe("line 3, column 1: a comma before ']': JSON allows none after the last entry");
    expect(jsonProblem('{"hosts": [], }')).toBe("line 1, column 15: a comma before '}': JSON allows none after the last entry");
    expect(jsonProblem("{'hosts': []}")).toBe("line 1, column 2: expected a property name in double quotes, found '''");
    expect(jsonProblem('{"hosts": [\n  // mx1\n]}')).toBe("line 2, column 3: JSON has no comments: remove it, or write the config as YAML");
    expect(jsonProblem('{"hosts": []\n "ssh": {}}')).toBe("line 2, column 2: expected ',' or '}', found '\"' (a comma missing?)");
    expect(jsonProblem('{"hosts": [01]}')).toBe("line 1, column 12: JSON numbers have no leading zeros: write 1, not 01");
    expect(jsonProblem('{"hosts": [')).toBe("line 1, column 12: the file ends where a value should be");
    expect(() => readConfigSource(write("huge.yaml", Buffer.alloc(MAX_CONFIG_BYTES + 1, 0x20)))).toThrow(/is 8\.0 MiB, more than the 8 MiB a config file may be: move long address lists into validRcptTo\.files/);
    expect(issues(readConfigSource(write("list.yaml", "- a\n")).errors)).toEqual(["the file must hold a mapping of config keys (hosts, services, ssh, ...), not a list"]);
  });

  it("refuses a second document, alias bombs and deep nesting", () => {
    expect(() => readConfigSource(write("two.yaml", "hosts: []\n---\nhosts: []\n"))).toThrow(/holds 2 YAML documents/);
    let bomb = "a: &a [x,x,x,x,x,x,x,x,x,x]\n";
    for (let i = 0; i < 8; i++) bomb += `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10).fill(`*${String.fromCharCode(97 + i)}`).join(",")}]\n`;
    expect(() => readConfigSource(write("bomb.yaml", bomb))).toThrow(/excessive aliasing/);
    expect(() => readConfigSource(write("deep.yaml", `hosts: ${"[".repeat(100)}${"]".repeat(100)}\n`))).toThrow(/nested too deeply/);
    expect(() => readConfigSource(write("deep.json", `{"hosts": ${"[".repeat(5000)}${"]".repeat(5000)}}`))).toThrow(/nested too deeply/);
  });
});

describe("the Pulumi program's side", () => {
  it("decodes the engine's strings to the same raw config the CLI reads from the stack file", () => {
    const file = write("Pulumi.same.yaml", "config:\n  qmail-fleet:hosts: [{name: mx1, port: 0025}]\n  qmail-fleet:rollout: {canary: 1}\n  qmail-fleet:sslCertificate: '{not json'\n  qmail-fleet:saltSecret: {secure: v1:x}\n");
    const cli = readConfigSource(file).raw;
    // What the engine passes: the same strings, the secret decrypted.
    const engine = Object.fromEntries(engineEntriesOf(Buffer.from(require("node:fs").readFileSync(file)), file).entries.map((e) => [e.key, e.ciphertext ? "decrypted-salt-secret" : e.text]));
    // components/stack-config.ts decodes pulumi.runtime.allConfig() with this one function.
    const program = decodeConfig(Object.entries(engine).map(([key, text]) => ({ key, text })));
    expect(program.errors).toEqual([]);
    expect(program.raw).toEqual({ ...cli, saltSecret: "decrypted-salt-secret" });
  });

  it("refuses other namespaces there too", () => {
    expect(issues(decodeConfig([{ key: "qmailfleet:hosts", text: "[]" }]).errors)).toEqual(["qmailfleet:hosts: unknown project 'qmailfleet' in 'qmailfleet:hosts': did you mean 'qmail-fleet:hosts'?"]);
  });
});

describe("local paths", () => {
  it("expands ~/ to the home directory and takes relative paths from the stack file's directory", () => {
    expect(resolveLocalPath("~/.ssh/known_hosts", "/srv/fleet")).toBe(join(homedir(), ".ssh/known_hosts"));
    expect(resolveLocalPath("known_hosts", "/srv/fleet")).toBe("/srv/fleet/known_hosts");
    expect(resolveLocalPath("/etc/ssh/ssh_known_hosts", "/srv/fleet")).toBe("/etc/ssh/ssh_known_hosts");
  });
});

describe("reading the local files a config names", () => {
  it("reads regular files, and refuses devices, directories and files past the limit without reading them", () => {
    expect(readLocalFile(write("list.txt", "a@example.com\n")).toString()).toBe("a@example.com\n");
    const refusal = (path: string, max?: number) => {
      try {
        readLocalFile(path, max);
        return "read";
      } catch (error) {
        return describeReadError(error);
      }
    };
    expect(refusal("/dev/zero")).toBe("it is not a regular file (a device, a pipe or a socket)");
    expect(refusal(dir)).toBe("it is a directory");
    expect(refusal(join(dir, "missing.txt"))).toBe("no such file");
    expect(refusal(write("big.txt", Buffer.alloc(2048)), 1024)).toBe("it is 2048 bytes, more than the 1024 a config may name");
  });
});

