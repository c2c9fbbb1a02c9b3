import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { hostKeyFromKnownHosts, planFleet, PlanError } from "../../../lib/plan";
import { HOST_KEY, fleetWith, mustParse } from "../schema/fixtures";

const OTHER_KEY = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7";

describe("planFleet", () => {
  const { config } = mustParse(
    fleetWith([
      { name: "smtpd", ip: "0", jgreylist: { dir: "/var/qmail/jgreylist" } },
      { name: "submission", preset: "submission", ip: "127.0.0.1", certificateFile: "/c.pem", auth: { method: "cdb", cdbFile: "/a.cdb" } },
    ]),
  );
  const [host] = planFleet(config).hosts;

  it("plans the service directories, the log directory for the log user and jgreylist's private directory", () => {
    expect(host.directories.map((d) => `${d.path} ${d.owner}:${d.group} ${d.mode.toString(8)}`)).toEqual([
      "/var/qmail/supervise/smtpd root:root 755",
      "/var/qmail/supervise/smtpd/log root:root 755",
      "/var/qmail/supervise/smtpd/log/main qmaill:nofiles 750",
      "/var/qmail/jgreylist qmaild:nofiles 700",
      "/var/qmail/supervise/submission root:root 755",
      "/var/qmail/supervise/submission/log root:root 755",
      "/var/qmail/supervise/submission/log/main qmaill:nofiles 750",
    ]);
  });

  it("plans run and log/run as root-owned scripts that restart their own part", () => {
    expect(host.files.map((f) => [f.path, f.owner, f.group, f.mode.toString(8), f.kind, f.secret, f.restarts])).toEqual([
      ["/var/qmail/supervise/smtpd/run", "root", "root", "755", "script", false, [{ service: "smtpd", part: "service" }]],
      ["/var/qmail/supervise/smtpd/log/run", "root", "root", "755", "script", false, [{ service: "smtpd", part: "log" }]],
      ["/var/qmail/supervise/submission/run", "root", "root", "755", "script", false, [{ service: "submission", part: "service" }]],
      ["/var/qmail/supervise/submission/log/run", "root", "root", "755", "script", false, [{ service: "submission", part: "log" }]],
    ]);
  });

  it("describes each service's directory, svscan link and listening address", () => {
    expect(host.services).toEqual([
      {
        name: "smtpd",
        dir: "/var/qmail/supervise/smtpd",
        link: "/service/smtpd",
        listen: { ip: "0", port: 25 },
        ssl: false,
        traits: { requiresAuth: false, tls: "offered", certificateFile: "/var/qmail/control/servercert.pem" },
      },
      {
        name: "submission",
        dir: "/var/qmail/supervise/submission",
        link: "/service/submission",
        listen: { ip: "127.0.0.1", port: 587 },
        ssl: false,
        traits: { requiresAuth: true, tls: "required", certificateFile: "/c.pem", authCdb: "/a.cdb" },
      },
    ]);
    expect(host.ssh).toEqual({ address: "192.0.2.10", port: 22, user: "root", hostKey: HOST_KEY, sudo: false });
  });

  it("refuses two services that need one directory with different owners", () => {
    const { config: clash } = mustParse(
      fleetWith([
        { name: "a", ip: "192.0.2.10", jgreylist: { dir: "/var/qmail/jgreylist" } },
        { name: "b", ip: "192.0.2.11", user: "smtpd", jgreylist: { dir: "/var/qmail/jgreylist" } },
      ]),
    );
    expect(() => planFleet(clash)).toThrow(/\/var\/qmail\/jgreylist is needed as qmaild:nofiles 0700 and as smtpd:nofiles 0700/);
  });

  it("leaves the seed's advice to the parser, so it is told once", () => {
    const parsed = mustParse(fleetWith([{ name: "smtpd", ip: "0", helpVersion: true }]));
    expect(parsed.warnings).toEqual([
      "hosts[0].services[0].helpVersion: QMAILSMTPD_HELP_VERSION tells attackers which patch version to look for",
    ]);
    expect(planFleet(parsed.config).warnings).toEqual([]);
  });
});

describe("host keys from known_hosts", () => {
  const pinnedBy = (file: string, port = 22) => {
    const { config } = mustParse({
      hosts: [{ name: "mx1", address: "192.0.2.10", ssh: { knownHostsFile: "/kh", port }, services: [{ name: "smtpd", ip: "0" }] }],
    });
    return planFleet(config, { readFile: () => file }).hosts[0].ssh.hostKey;
  };

  it("takes the key of the address, preferring ed25519", () => {
    expect(pinnedBy(`192.0.2.99 ${OTHER_KEY}\n192.0.2.10 ${OTHER_KEY}\n192.0.2.10,mx1 ${HOST_KEY} root@mx1\n`)).toBe(HOST_KEY);
  });

  it("matches [address]:port for another port", () => {
    expect(pinnedBy(`192.0.2.10 ${OTHER_KEY}\n[192.0.2.10]:2222 ${HOST_KEY}\n`, 2222)).toBe(HOST_KEY);
  });

  it("understands hashed names and skips @cert-authority lines", () => {
    const salt = Buffer.from("0123456789abcdefghij");
    const hash = createHmac("sha1", salt).update("192.0.2.10").digest("base64");
    const file = `@cert-authority 192.0.2.10 ${OTHER_KEY}\n|1|${salt.toString("base64")}|${hash} ${HOST_KEY}\n`;
    expect(pinnedBy(file)).toBe(HOST_KEY);
    expect(hostKeyFromKnownHosts(file, "192.0.2.11", 22)).toBeUndefined();
  });

  it("says what to do when the file has no key for the host", () => {
    expect(() => pinnedBy(`192.0.2.99 ${HOST_KEY}\n`, 2222)).toThrow(PlanError);
    expect(() => pinnedBy(`192.0.2.99 ${HOST_KEY}\n`, 2222)).toThrow(/has no key for \[192\.0\.2\.10\]:2222; add it \(ssh-keyscan -p 2222 192\.0\.2\.10\)/);
  });
});
