import { describe, expect, it } from "vitest";
import { AuthSourceError, buildAuthCdb, deriveSalt, hashShapeProblem, parseAuthSource, parseExpiry, type AuthUser } from "../../../lib/cdb/auth";
import { CdbReader } from "../../../lib/cdb/reader";
import { sha512Crypt } from "../../../lib/cdb/sha512-crypt";
import { buildWithTinycdb, libxcryptCrypt, opensslSha512Crypt } from "./debian-tools";

const SECRET = "stack-secret-for-tests-0123456789";

describe("sha512-crypt matches openssl passwd -6", () => {
  const cases: Array<[string, string]> = [
    ["pw", "abc"],
    ["correct horse battery staple", "saltsaltsaltsalt"],
    ["x".repeat(63), "a"],
    ["y".repeat(64), "b"],
    ["z".repeat(65), "c"],
    ["w".repeat(200), "d"],
    ["grüße ünïcödé", "./09AZaz"],
  ];
  for (const [password, salt] of cases) {
    it(`password of ${Buffer.byteLength(password)} bytes, salt ${JSON.stringify(salt)}`, () => {
      expect(sha512Crypt(password, salt)).toBe(opensslSha512Crypt(password, salt));
    });
  }

  it("cuts the salt at 16 characters", () => {
    expect(sha512Crypt("pw", "0123456789abcdefXYZ")).toBe(opensslSha512Crypt("pw", "0123456789abcdefXYZ"));
    expect(sha512Crypt("pw", "0123456789abcdefXYZ")).toMatch(/^\$6\$0123456789abcdef\$/);
  });

  it("rounds: explicit 5000 is written, below 1000 is raised to 1000", () => {
    expect(sha512Crypt("pw", "abc", { rounds: 5000 })).toBe(opensslSha512Crypt("pw", "rounds=5000$abc"));
    expect(sha512Crypt("pw", "abc", { rounds: 1000 })).toBe(opensslSha512Crypt("pw", "rounds=1000$abc"));
    expect(sha512Crypt("pw", "abc", { rounds: 999 })).toBe(opensslSha512Crypt("pw", "rounds=999$abc"));
    expect(sha512Crypt("pw", "abc", { rounds: 1 })).toMatch(/^\$6\$rounds=1000\$abc\$/);
    expect(sha512Crypt("pw", "abc", { rounds: 1001 })).toBe(opensslSha512Crypt("pw", "rounds=1001$abc"));
  });

  it("empty password and empty salt, which openssl passwd cannot express, match the host's crypt(3)", () => {
    expect(sha512Crypt("", "x")).toBe(libxcryptCrypt("", "$6$x"));
    expect(sha512Crypt("pw", "")).toBe(libxcryptCrypt("pw", "$6$"));
  });
});

describe("auth.cdb", () => {
  const users: AuthUser[] = [
    { user: "zoe@example.com", password: "zoe's password" },
    { user: "alice@example.com", hash: "$6$abc$MtSdWSZbhct2oe.SOqOUM2M/GA/uj5.vyVtJgRHgKi9uqXuWuJqOYE7H/YlsYGVg/YYzDV0xt3fEIwYt580.5." },
    { user: "bob@example.com", password: "hunter2", env: { QMAILQUEUE: "/var/qmail/bin/simscan", DATABYTES: "1000" }, expires: "2027-01-31" },
  ];

  it("sorts users, hashes plain passwords with the derived salt and appends variables; cdb -c agrees", () => {
    const bytes = buildAuthCdb(users, { saltSecret: SECRET });
    const records = [...new CdbReader(bytes).records()].map((r) => [r.key.toString(), r.value.toString()]);
    expect(records.map((r) => r[0])).toEqual(["alice@example.com", "bob@example.com", "zoe@example.com"]);
    const bobSalt = deriveSalt(SECRET, "bob@example.com");
    expect(records[1][1]).toBe(`${opensslSha512Crypt("hunter2", bobSalt)},DATABYTES="1000",PASSWORD_EXPIRES="1801353600",QMAILQUEUE="/var/qmail/bin/simscan"`);
    expect(records[2][1]).toBe(opensslSha512Crypt("zoe's password", deriveSalt(SECRET, "zoe@example.com")));
    expect(bytes.equals(buildWithTinycdb(records.map(([k, v]) => [Buffer.from(k), Buffer.from(v)])))).toBe(true);
  });

  it("is deterministic, and a password change changes only that record", () => {
    const first = buildAuthCdb(users, { saltSecret: SECRET });
    expect(buildAuthCdb([...users].reverse(), { saltSecret: SECRET }).equals(first)).toBe(true);
    const changed = users.map((u) => (u.user === "zoe@example.com" ? { ...u, password: "new one" } : u));
    const before = [...new CdbReader(first).records()];
    const after = [...new CdbReader(buildAuthCdb(changed, { saltSecret: SECRET })).records()];
    const differing = after.filter((r, i) => !r.value.equals(before[i].value)).map((r) => r.key.toString());
    expect(differing).toEqual(["zoe@example.com"]);
  });

  it("derives 16-character salts from the secret and the user name", () => {
    expect(deriveSalt(SECRET, "a@b")).toMatch(/^[./0-9A-Za-z]{16}$/);
    expect(deriveSalt(SECRET, "a@b")).not.toBe(deriveSalt(SECRET, "a@c"));
    expect(deriveSalt(SECRET, "a@b")).not.toBe(deriveSalt(SECRET + "x", "a@b"));
  });

  it("accepts the ready hash shapes and refuses others without quoting them", () => {
    const good = [
      "$1$saltsalt$qjXMvbEw8oaL.CzflDugX/",
      "$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZF8/7PRr/",
      "$5$rounds=10000$saltstringsaltst$3xv.VbSHBb41AL9AvLeujZkZRBAwqFMz2.opqey6IcA",
      "$6$rounds=1400$anotherlongsalts$POfYwTEok97VWcjxIiSOjiykti.o/pQs.wPvMxQ6Fm7I6IoYN3CmLs66x9t0oSwbtEW7o7UmJEiDwGqd8p4ur1",
      "$y$j9T$F5Jx5fExrKuPp53xLKQ..1$X3DX6M94c7o.9agCG9G317fhZg9SqC.5i5rd.RhAtQ7",
    ];
    for (const hash of good) expect(hashShapeProblem(hash)).toBeUndefined();
    const secretLooking = "MySecretPassw0rd";
    let message = "";
    try {
      buildAuthCdb([{ user: "u@x", hash: secretLooking }, { user: "v@x", hash: "$6$abc$short" }]);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('user "u@x": hash is not a crypt hash');
    expect(message).toContain('user "v@x": hash starts like $6$ SHA-512 but is not shaped like one');
    expect(message).not.toContain(secretLooking);
  });

  it("refuses what qmail-smtpd would misparse, naming user and field, never the password", () => {
    const password = "s3cr3t-Pa55";
    const bad: AuthUser[] = [
      { user: "a@x", password, env: { "A,B": "1" } },
      { user: "b@x", password, env: { "A=B": "1" } },
      { user: "c@x", password, env: { 'A"': "1" } },
      { user: "d@x", password, env: { A: 'say "hi"' } },
      { user: "e@x", password, env: { A: "line\nbreak" } },
      { user: "f\n@x", password },
      { user: "g:x", password },
      { user: "h@x", password: "with\u0000nul" + password },
      { user: "i@x", password, expires: "next tuesday" },
      { user: "j@x" },
      { user: "k@x", password, hash: "$1$saltsalt$qjXMvbEw8oaL.CzflDugX/" },
      { user: "a@x", password },
    ];
    let error: AuthSourceError | undefined;
    try {
      buildAuthCdb(bad, { saltSecret: SECRET });
    } catch (err) {
      error = err as AuthSourceError;
    }
    expect(error).toBeInstanceOf(AuthSourceError);
    const text = error!.message;
    expect(text).toContain('user "a@x": variable name "A,B" contains a comma');
    expect(text).toContain('user "b@x": variable name "A=B" contains \'=\'');
    expect(text).toContain('user "c@x": variable name "A\\"" contains a quote');
    expect(text).toContain('user "d@x": value of A contains a double quote');
    expect(text).toContain('user "e@x": value of A contains a line break');
    expect(text).toContain('user "f\\n@x": user name contains a line break');
    expect(text).toContain("user \"g:x\": user name contains ':'");
    expect(text).toContain('user "h@x": plain password contains a line break, NUL');
    expect(text).toContain('user "i@x": expiry "next tuesday" is not unix seconds');
    expect(text).toContain('user "j@x": has neither a hash nor a plain password');
    expect(text).toContain('user "k@x": has both a hash and a plain password');
    expect(text).toContain('user "a@x": user is listed more than once');
    expect(text).not.toContain(password);
  });

  it("needs a salt secret of at least 16 bytes for plain passwords only", () => {
    expect(() => buildAuthCdb([{ user: "a@x", password: "pw" }])).toThrow(/salt secret of at least 16 bytes \(none given\)/);
    expect(() => buildAuthCdb([{ user: "a@x", password: "pw" }], { saltSecret: "short" })).toThrow(/got 5/);
    expect(() => buildAuthCdb([{ user: "a@x", hash: "$1$saltsalt$qjXMvbEw8oaL.CzflDugX/" }])).not.toThrow();
  });

  it("takes expiry as unix seconds, Date, YYYY-MM-DD or ISO time with zone", () => {
    expect(parseExpiry(1800000000)).toBe(1800000000);
    expect(parseExpiry("1800000000")).toBe(1800000000);
    expect(parseExpiry("2027-01-31")).toBe(Date.UTC(2027, 0, 31) / 1000);
    expect(parseExpiry("2027-01-31T12:00:00+02:00")).toBe(Date.UTC(2027, 0, 31, 10) / 1000);
    expect(parseExpiry(new Date(Date.UTC(2027, 0, 1)))).toBe(Date.UTC(2027, 0, 1) / 1000);
    expect(parseExpiry("2027-02-30")).toMatch(/not unix seconds/);
    expect(parseExpiry("2027-01-31T12:00:00")).toMatch(/with a zone/);
    expect(parseExpiry(-5)).toMatch(/not a whole number/);
  });
});

describe("users file", () => {
  it("parses USER:ATTRIBUTE:VALUE lines, plain passwords verbatim", () => {
    const { users, lineOf } = parseAuthSource(
      "# users\n\nbob@x:plain: spaced: pass \nbob@x:env:A=1=2\nalice@x:hash:$1$saltsalt$qjXMvbEw8oaL.CzflDugX/\nbob@x:expires:2027-01-31\n",
    );
    expect(users).toEqual([
      { user: "bob@x", password: " spaced: pass ", env: { A: "1=2" }, expires: "2027-01-31" },
      { user: "alice@x", hash: "$1$saltsalt$qjXMvbEw8oaL.CzflDugX/" },
    ]);
    expect(lineOf(users[1])).toBe(5);
  });

  it("reports bad lines by number without echoing passwords", () => {
    const password = "TopSecret!";
    let message = "";
    try {
      parseAuthSource(`bob@x:plain:${password}\nbob@x:plain:${password}\nbob@x:pass:${password}\n${password}\ncarol@x:plain:${password}\r\n`);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('line 2: user "bob@x": second plain password line');
    expect(message).toContain('line 3: user "bob@x": unknown attribute');
    expect(message).toContain("line 4: expected USER:ATTRIBUTE:VALUE");
    expect(message).toContain('line 5: user "carol@x": plain password line ends in a carriage return');
    expect(message).not.toContain(password);
  });

  it("carries line numbers into build errors", () => {
    const { users, lineOf } = parseAuthSource("ok@x:hash:$1$saltsalt$qjXMvbEw8oaL.CzflDugX/\nbad@x:env:A=\"q\"\nbad@x:hash:$1$saltsalt$qjXMvbEw8oaL.CzflDugX/\n");
    expect(() => buildAuthCdb(users, {}, lineOf)).toThrow(/line 2: user "bad@x": value of A contains a double quote/);
  });

  it("names the line of the attribute at fault, not the user's first line", () => {
    const { users, lineOf } = parseAuthSource(
      [
        "bob@x:plain:pw",
        "alice@x:hash:$1$saltsalt$qjXMvbEw8oaL.CzflDugX/",
        "bob@x:expires:2020-13-45",
        "alice@x:env:BAD NAME=1",
        "carol@x:env:OK=1",
        "carol@x:hash:not-a-hash",
        "carol@x:env:Q=\"",
      ].join("\n") + "\n",
    );
    let message = "";
    try {
      buildAuthCdb(users, { saltSecret: SECRET }, lineOf);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('line 3: user "bob@x": expiry "2020-13-45"');
    expect(message).toContain('line 4: user "alice@x": variable name "BAD NAME"');
    expect(message).toContain('line 6: user "carol@x": hash is not a crypt hash');
    expect(message).toContain('line 7: user "carol@x": value of Q contains a double quote');
  });
});
