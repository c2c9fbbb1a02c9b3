// A host that never answers is waited on once per run: the pool hands back the
// failed connection instead of dialling again (a preview's read, then the
// create, would otherwise each wait out the connect timeout).
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConnectionPool } from "../../../provider/ssh-connection";

let dir: string;
let privateKey: string;
let hostKey: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "pool-"));
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(dir, "key")]);
  privateKey = fs.readFileSync(path.join(dir, "key"), "utf8");
  hostKey = fs.readFileSync(path.join(dir, "key.pub"), "utf8").trim();
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A local port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Counts TCP connections; closes each at once, so no SSH session is ever made. */
async function slammingServer(): Promise<{ port: number; accepted: () => number; close: () => Promise<void> }> {
  let accepted = 0;
  const server = net.createServer((socket) => {
    accepted++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  return { port, accepted: () => accepted, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const target = (port: number) => ({ host: "mx1", address: "127.0.0.1", port, user: "root", hostKey, sudo: false });

describe("ConnectionPool", () => {
  it("gives the same failed connection again for a host that never answered, and its commands fail at once", async () => {
    const pool = new ConnectionPool(() => privateKey);
    const port = await closedPort();
    const first = pool.get(target(port));
    await expect(first.run("true")).rejects.toThrow(/host mx1 \(root@127\.0\.0\.1:\d+\): SSH connection failed/);
    const second = pool.get(target(port));
    expect(second).toBe(first);
    await expect(second.run("true")).rejects.toThrow(/SSH connection failed/);
    pool.closeAll();
  });

  it("dials once per run for a host that drops the connection before SSH starts", async () => {
    const server = await slammingServer();
    const pool = new ConnectionPool(() => privateKey);
    for (let i = 0; i < 3; i++) await expect(pool.get(target(server.port)).run("true")).rejects.toThrow(/SSH connection failed|lost/);
    expect(server.accepted()).toBe(1);
    pool.closeAll();
    await server.close();
  });
});
