// Messages for what the schema refuses: every one names the field, reads as
// a sentence, and where the type is wrong shows the right form on one line
// ("for example port: 2525"). zod's own wording ("Invalid input: expected
// number, received string") never reaches a user.
import type { z } from "zod";
import { allOptions } from "./catalog";
import type { PathKey } from "./issue-path";
import { unknownFieldMessage } from "./strict";

export interface Finding {
  path: PathKey[];
  message: string;
}

/** Where the issues' paths start: the fleet (top-level keys) or one service entry. */
export type Scope = "fleet" | "service";

/** One finding per issue, in the order zod reports them. */
export function issueFindings(error: z.ZodError, scope: Scope): Finding[] {
  const findings: Finding[] = [];
  for (const issue of error.issues) {
    const path = [...(issue.path as PathKey[])];
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys)
        findings.push({ path: [...path, key], message: /^Unrecognized key/.test(issue.message) ? unknownFieldMessage([key], []) : issue.keys.length === 1 ? issue.message : unknownFieldMessage([key], []) });
      continue;
    }
    findings.push({ path, message: issueMessage(issue, path, scope) });
  }
  return findings;
}

const ZOD_WORDING = /^(Invalid input|Invalid option|Invalid string|Invalid format|Too (big|small)|Expected|Invalid key|Invalid element|Invalid value)/;

function issueMessage(issue: z.core.$ZodIssue, path: PathKey[], scope: Scope): string {
  const name = fieldName(path);
  const input = (issue as { input?: unknown }).input;
  const example = exampleFor(path, scope);
  const withExample = (message: string) => (example && !/for example/.test(message) ? `${message}; for example ${example}` : message);

  if (issue.code === "invalid_key" && issue.issues.length > 0) return issueMessage(issue.issues[0] as z.core.$ZodIssue, path, scope);
  const own = !ZOD_WORDING.test(issue.message);

  switch (issue.code) {
    case "invalid_type":
      if (input === undefined && "input" in issue) return withExample(own && /is required/.test(issue.message) ? issue.message : `${name} is required`);
      if (own) return withExample(issue.message);
      return withExample(`${name} must be ${expectedPhrase(issue.expected)}, not ${describeValue(input, path)}${quotedByMistake(issue.expected, input) ? ": write it without quotes" : ""}`);
    case "invalid_union":
      if (own) return withExample(issue.message);
      return withExample(`${name} has the wrong type (${describeValue(input, path)})`);
    case "invalid_value":
      if (own) return issue.message;
      return `${name} must be ${issue.values.length === 1 ? String(issue.values[0]) : `one of ${issue.values.map(String).join(", ")}`}, not ${describeValue(input, path)}`;
    case "too_small":
    case "too_big": {
      if (own) return issue.message;
      const bound = Number(issue.code === "too_small" ? (issue as { minimum: number | bigint }).minimum : (issue as { maximum: number | bigint }).maximum);
      const least = issue.code === "too_small";
      if (issue.origin === "array") return `${name} must list ${least ? "at least" : "at most"} ${bound} ${bound === 1 ? "entry" : "entries"}`;
      if (issue.origin === "string") return `${name} must be ${least ? "at least" : "at most"} ${bound} characters long`;
      return `${name} must be ${least ? "at least" : "at most"} ${bound}`;
    }
    case "invalid_format":
      return own ? issue.message : `${name} is not in the right format${example ? `; for example ${example}` : ""}`;
    default:
      return own ? issue.message : withExample(`${name} is not valid`);
  }
}

/** "port", "blockLists[2]", "the config" */
function fieldName(path: PathKey[]): string {
  const last = path[path.length - 1];
  if (last === undefined) return "the config";
  if (typeof last === "number") {
    const key = [...path].reverse().find((p) => typeof p === "string");
    return key === undefined ? `entry ${last + 1}` : `${String(key)}[${last}]`;
  }
  return String(last);
}

/** Text that would have been the expected number or boolean without its quotes ("25", "true"). */
function quotedByMistake(expected: string, input: unknown): boolean {
  if (typeof input !== "string") return false;
  if (expected === "boolean") return input === "true" || input === "false";
  if (expected === "number" || expected === "int") return /^[-+]?\d+(\.\d+)?$/.test(input.trim());
  return false;
}

function expectedPhrase(expected: string): string {
  switch (expected) {
    case "string":
      return "text";
    case "number":
    case "int":
      return "a number";
    case "boolean":
      return "true or false";
    case "array":
      return "a list";
    case "object":
    case "record":
      return "a mapping of keys to values";
    default:
      return `a ${expected}`;
  }
}

/** Fields whose values are never shown in a message. */
const SECRET_FIELDS = new Set(["password", "hash", "sslKey", "saltSecret", "sshPrivateKey", "secure"]);

/** "the text 'abc'", "a list", "the number 3", "nothing": the value given, shown only when it is short and not a secret. */
export function describeValue(value: unknown, path: PathKey[] = []): string {
  const secret = path.some((p) => typeof p === "string" && SECRET_FIELDS.has(p));
  if (value === undefined) return "nothing";
  if (value === null) return "an empty value";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "boolean") return secret ? "true or false" : `${value}`;
  if (typeof value === "number") return secret ? "a number" : `the number ${value}`;
  if (typeof value === "string") {
    if (secret) return "text";
    if (value === "") return "empty text";
    return value.length <= 40 && !/[\x00-\x1f\x7f]/.test(value) ? `the text '${value}'` : "text";
  }
  return `a ${typeof value}`;
}

// --- examples ------------------------------------------------------------------------

const HOST_KEY = '"ssh-ed25519 AAAA..."';
const SECRET = "{ secure: v1:... }";

const FLEET_EXAMPLES: Record<string, string> = {
  ssh: "ssh: { user: deploy, sudo: true }",
  "ssh.user": "user: deploy",
  "ssh.port": "port: 22",
  "ssh.sudo": "sudo: true",
  "ssh.privateKeyFile": "privateKeyFile: ~/.ssh/qmail-fleet",
  "ssh.hostKey": `hostKey: ${HOST_KEY}`,
  "ssh.knownHostsFile": "knownHostsFile: ~/.ssh/known_hosts",
  sshPrivateKey: `sshPrivateKey: ${SECRET} (pulumi config set --secret sshPrivateKey < ~/.ssh/qmail-fleet)`,
  saltSecret: `saltSecret: ${SECRET} (pulumi config set --secret saltSecret "$(openssl rand -base64 24)")`,
  sslKey: `sslKey: ${SECRET} (pulumi config set --secret sslKey < key.pem)`,
  sslCertificate: 'sslCertificate: "-----BEGIN CERTIFICATE-----\\n..."',
  authUsers: 'authUsers: [{ user: alice@example.com, hash: "$6$..." }]',
  "authUsers[]": `- { user: alice@example.com, password: ${SECRET} }`,
  "authUsers[].user": "user: alice@example.com",
  "authUsers[].password": `password: ${SECRET}`,
  "authUsers[].hash": 'hash: "$6$..."',
  "authUsers[].env": 'env: { RELAYCLIENT: "" }',
  "authUsers[].env.*": 'RELAYCLIENT: ""',
  "authUsers[].expires": 'expires: "2030-01-01"',
  validRcptTo: "validRcptTo: { addresses: [postmaster@example.com], files: [validrcptto.txt] }",
  "validRcptTo.addresses": 'addresses: [postmaster@example.com, "@lists.example.com"]',
  "validRcptTo.addresses[]": "- postmaster@example.com",
  "validRcptTo.files": "files: [validrcptto.txt]",
  "validRcptTo.files[]": "- validrcptto.txt",
  tcpRules: 'tcpRules: { /var/qmail/control/tcp.smtp.cdb: { rules: [{ address: "127.", action: allow, env: { RELAYCLIENT: "" } }] } }',
  "tcpRules.*": '/var/qmail/control/tcp.smtp.cdb: { rules: [{ address: "", action: allow }] }',
  "tcpRules.*.rules": 'rules: [{ address: "127.", action: allow, env: { RELAYCLIENT: "" } }, { address: "", action: allow }]',
  "tcpRules.*.rules[]": '- { address: "127.", action: allow }',
  "tcpRules.*.rules[].address": 'address: "127."',
  "tcpRules.*.rules[].action": "action: allow",
  "tcpRules.*.rules[].env": 'env: { RELAYCLIENT: "" }',
  "tcpRules.*.rules[].env.*": 'RELAYCLIENT: ""',
  "tcpRules.*.file": "file: tcp.smtp.rules",
  services: 'services: [{ name: smtpd, preset: mx, ip: "0" }]',
  "services[]": '- { name: smtpd, preset: mx, ip: "0" }',
  "services[].name": "name: smtpd",
  hosts: `hosts: [{ name: mx1, address: 192.0.2.10, ssh: { hostKey: ${HOST_KEY} } }]`,
  "hosts[]": `- { name: mx1, address: 192.0.2.10, ssh: { hostKey: ${HOST_KEY} } }`,
  "hosts[].name": "name: mx1",
  "hosts[].address": "address: 192.0.2.10",
  "hosts[].ssh": `ssh: { hostKey: ${HOST_KEY} }`,
  "hosts[].qmailDir": "qmailDir: /var/qmail",
  "hosts[].serviceDir": "serviceDir: /service",
  "hosts[].superviseDir": "superviseDir: /var/qmail/supervise",
};

const GROUP_EXAMPLES: Record<string, string> = {
  "": '- { name: smtpd, preset: mx, ip: "0" }',
  name: "name: smtpd",
  preset: "preset: mx",
  acknowledge: "acknowledge: [open-relay]",
  "acknowledge[]": "- open-relay",
  limits: "limits: { maxLoad: 750 }",
  rblsmtpd: "rblsmtpd: { blockLists: [zen.spamhaus.org] }",
  jgreylist: "jgreylist: { dir: /var/qmail/jgreylist }",
  recordio: "recordio: {}",
  auth: "auth: { method: cdb, cdbFile: /var/qmail/control/auth.cdb }",
  "auth.set.*": 'RELAYCLIENT: ""',
  validRcptTo: "validRcptTo: { cdbFile: /var/qmail/control/validrcptto.cdb }",
  spf: "spf: { behavior: 3 }",
  domainKeys: "domainKeys: { sign: /etc/domainkeys/%/default }",
  simscan: "simscan: {}",
  qmailScanner: "qmailScanner: { variant: wrapper }",
  log: "log: { maxFileSize: 1000000, maxFiles: 20 }",
};

let optionExamples: Map<string, string> | undefined;

/** Each option's sample, as one line of YAML: `port: 2525`. */
function optionExample(name: string): string | undefined {
  optionExamples ??= new Map(allOptions().map(({ key, name: dotted, descriptor }) => [dotted, `${key}: ${flowYaml(descriptor.sample)}`]));
  return optionExamples.get(name);
}

/** The right form of the field at `path`, on one line, or undefined. */
export function exampleFor(path: PathKey[], scope: Scope): string | undefined {
  let rest = path;
  if (scope === "fleet") {
    const services = path.findIndex((p, i) => p === "services" && typeof path[i + 1] === "number");
    if (services >= 0 && path.length > services + 2) return exampleFor(path.slice(services + 2), "service");
    // A host's own shared-file keys read like the fleet's.
    if (path[0] === "hosts" && typeof path[1] === "number" && ["authUsers", "sslKey", "sslCertificate", "services"].includes(String(path[2]))) rest = path.slice(2);
    const key = pattern(rest);
    return FLEET_EXAMPLES[key] ?? FLEET_EXAMPLES[key.replace(/^hosts\[\]\./, "")];
  }
  const key = pattern(rest);
  const elementOf = key.endsWith("[]") ? key.slice(0, -2) : undefined;
  if (GROUP_EXAMPLES[key]) return GROUP_EXAMPLES[key];
  const option = optionExample(key);
  if (option) return option;
  if (elementOf) {
    const sample = allOptions().find((o) => o.name === elementOf)?.descriptor.sample;
    if (Array.isArray(sample) && sample.length > 0) return `- ${flowYaml(sample[0])}`;
  }
  return undefined;
}

/** `hosts[].ssh.port`, with record keys (tcpRules paths, variable names) as `*`. */
function pattern(path: PathKey[]): string {
  let text = "";
  path.forEach((key, index) => {
    if (typeof key === "number") text += "[]";
    else if ((path[index - 1] === "tcpRules" && index === 1) || path[index - 1] === "env" || path[index - 1] === "set") text += ".*";
    else text += text === "" ? key : `.${key}`;
  });
  return text;
}

/** A value as YAML flow text: plain words bare, anything yaml.v3 would read otherwise quoted. */
export function flowYaml(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(flowYaml).join(", ")}]`;
  if (value !== null && typeof value === "object")
    return `{ ${Object.entries(value).map(([k, v]) => `${k}: ${flowYaml(v)}`).join(", ")} }`;
  if (typeof value === "string") {
    const plain = /^[A-Za-z/_][A-Za-z0-9._/@%+-]*$/.test(value) && !/^(true|false|null|yes|no|on|off|y|n|~)$/i.test(value);
    return plain ? value : JSON.stringify(value);
  }
  return String(value);
}
