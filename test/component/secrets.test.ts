// Secrets stay Pulumi secrets on their way to the engine: the SSL key's
// content, the SSH private key, and a trigger hashed from a secret file.
import { beforeAll, describe, expect, it } from "vitest";
import { isSecret, plain, planWithSharedFiles, PRIVATE_KEY, registerFleet, SSL_KEY, TYPES, type FleetRun } from "./mock-fleet";

const KEY_PATH = "RemotePath mx1:/var/qmail/control/servercert.key";

describe("secrets", () => {
  let run: FleetRun;
  beforeAll(async () => {
    run = await registerFleet(planWithSharedFiles());
  });

  it("a secret file's content is a Pulumi secret, marked secret in outputs too", () => {
    const key = run.get(KEY_PATH);
    expect(isSecret(key.inputs.content)).toBe(true);
    expect(plain(key.inputs.content)).toBe(SSL_KEY);
    expect(key.inputs.secret).toBe(true);
    expect(key.additionalSecretOutputs).toEqual(expect.arrayContaining(["content", "privateKey"]));
  });

  it("a plain file's content is not a secret; only its privateKey output is", () => {
    const run_ = run.get("RemotePath mx1:/var/qmail/supervise/smtpd/run");
    expect(isSecret(run_.inputs.content)).toBe(false);
    expect(run_.inputs.content).toMatch(/^#!\/bin\/sh/);
    expect(run_.additionalSecretOutputs).toEqual(["privateKey"]);
  });

  it("no input holds the SSL key or the SSH key outside a secret", () => {
    for (const r of run.resources) {
      const { __provider: _provider, ...inputs } = r.inputs;
      const visible = JSON.stringify(inputs, (_k, v) => (isSecret(v) ? "[secret]" : v));
      expect(visible).not.toContain("mock-ssl-key");
      expect(visible).not.toContain("mock-client-key");
    }
  });

  it("passes the SSH private key as a secret to every RemotePath and SupervisedService", () => {
    const custom = [...run.ofType(TYPES.remotePath), ...run.ofType(TYPES.supervisedService)];
    expect(custom.length).toBeGreaterThan(0);
    for (const r of custom) {
      expect(isSecret(r.inputs.privateKey)).toBe(true);
      expect(plain(r.inputs.privateKey)).toBe(PRIVATE_KEY);
      expect(r.additionalSecretOutputs).toContain("privateKey");
    }
  });

  it("keeps the serviceTrigger secret when a secret file feeds it, and only then", () => {
    expect(isSecret(run.get("SupervisedService mx1:smtpd").inputs.serviceTrigger)).toBe(true);
    expect(isSecret(run.get("SupervisedService mx1:submission").inputs.serviceTrigger)).toBe(false);
    for (const r of run.ofType(TYPES.supervisedService)) expect(isSecret(r.inputs.logTrigger)).toBe(false);
  });

  it("without a private key (ssh-agent) no privateKey input is sent", async () => {
    const agent = await registerFleet(planWithSharedFiles(), {});
    for (const r of [...agent.ofType(TYPES.remotePath), ...agent.ofType(TYPES.supervisedService)])
      expect(r.inputs.privateKey).toBeUndefined();
  });
});
