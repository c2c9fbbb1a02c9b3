// runScriptMeaning: what a run script runs, compared by meaning, not text.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { meaningDifferences, meaningSummary, runScriptMeaning, RunScriptError, sameMeaning } from "../../../lib/import/run-script-meaning";
import { corpusEntries } from "../../import/corpus";
import { canonicalText } from "../../../lib/import/script-value";

const meaning = runScriptMeaning;

describe("the corpus", () => {
  for (const entry of corpusEntries()) {
    it(`${entry.id}: run ends in qmail-smtpd, log/run in multilog`, () => {
      const run = meaning(fs.readFileSync(path.join(entry.dir, "run"), "utf8"));
      const last = run.chain[run.chain.length - 1];
      expect(path.basename(meaningSummary(run).chain.at(-1)![0])).toBe("qmail-smtpd");
      expect(last.args.length === 0 || last.args.length === 3).toBe(true);
      const server = run.chain.find((stage) => stage.operands);
      expect(server?.operands?.map((v) => v.segments.join(""))).toEqual(["192.0.2.25", String(entry.port)]);
      const log = meaning(fs.readFileSync(path.join(entry.dir, "log", "run"), "utf8"));
      expect(path.basename(meaningSummary(log).chain.at(-1)![0])).toBe("multilog");
    });
  }
});

describe("same meaning, different text", () => {
  const base = `#!/bin/sh
exec 2>&1
export PATH=/var/qmail/bin:/usr/bin:/bin
QMAILDUID=$(id -u qmaild) || exit 111
NOFILESGID=$(id -g qmaild) || exit 111
LOCAL=$(head -n 1 /var/qmail/control/me) || exit 111
export DATABYTES=1000000
export SMTPGREETING='mx.example.com ready'
exec tcpserver -v -R -H -c 30 -l "$LOCAL" -u "$QMAILDUID" -g "$NOFILESGID" 192.0.2.1 25 \\
    rblsmtpd -b -r zen.spamhaus.org \\
    qmail-smtpd
`;
  const variants: Record<string, string> = {
    "backquotes, head -1, set-then-export, grouped and glued flags, port by name": `#!/bin/sh
# written by hand
PATH=/var/qmail/bin:/usr/bin:/bin; export PATH
QMAILDUID=\`id -u qmaild\`
NOFILESGID=\`id -g qmaild\`
LOCAL=\`head -1 /var/qmail/control/me\`
DATABYTES=1000000
SMTPGREETING="mx.example.com ready"
export DATABYTES SMTPGREETING
exec tcpserver -vRH -c30 -l "$LOCAL" -u $QMAILDUID -g $NOFILESGID 192.0.2.1 smtp rblsmtpd -b -r zen.spamhaus.org qmail-smtpd 2>&1
`,
    "variables for the address and program, defaults spelt out": `#!/bin/sh
exec 2>&1
PATH="/var/qmail/bin:/usr/bin:/bin"
export PATH
IP=192.0.2.1
SMTPD=qmail-smtpd
export DATABYTES="1000000" SMTPGREETING="mx.example.com ready"
exec tcpserver -Q -v -h -H -R -c 30 -l "$(head -n1 /var/qmail/control/me)" -u "$(id -u qmaild)" -g "$(id -g qmaild)" "$IP" 25 rblsmtpd -B -b -t 60 -r zen.spamhaus.org $SMTPD
`,
    "settings through env on the exec": `#!/bin/sh
exec 2>&1
export PATH=/var/qmail/bin:/usr/bin:/bin
exec env DATABYTES=1000000 'SMTPGREETING=mx.example.com ready' tcpserver -v -R -H -c 30 -l "$(head -1 /var/qmail/control/me)" -u \`id -u qmaild\` -g \`id -g qmaild\` 192.0.2.1 25 rblsmtpd -b -r zen.spamhaus.org qmail-smtpd
`,
  };
  for (const [name, text] of Object.entries(variants)) {
    it(name, () => {
      expect(meaningDifferences(meaning(base), meaning(text))).toEqual([]);
      expect(sameMeaning(meaning(base), meaning(text))).toBe(true);
    });
  }

  it("an id written as a number equals its lookup once the host's ids are known", () => {
    const numeric = base.replace('-u "$QMAILDUID" -g "$NOFILESGID"', "-u 7791 -g 2108");
    expect(sameMeaning(meaning(base), meaning(numeric))).toBe(false);
    const facts = { users: { qmaild: { uid: "7791", gid: "2108" } } };
    expect(sameMeaning(meaning(base, { facts }), meaning(numeric, { facts }))).toBe(true);
  });

  it("the local name written out equals control/me's first line once the file is known", () => {
    const written = base.replace("LOCAL=$(head -n 1 /var/qmail/control/me) || exit 111", "LOCAL=mx.example.com");
    expect(sameMeaning(meaning(base), meaning(written))).toBe(false);
    const facts = { files: { "/var/qmail/control/me": "mx.example.com\nignored\n" } };
    expect(sameMeaning(meaning(base, { facts }), meaning(written, { facts }))).toBe(true);
  });
});

describe("different meaning", () => {
  const base = `#!/bin/sh
export DATABYTES=1000000
exec tcpserver -v -R 0 25 rblsmtpd -r a.example -r b.example qmail-smtpd
`;
  const changes: Record<string, [string, string]> = {
    "an exported value": ["DATABYTES=1000000", "DATABYTES=2000000"],
    "a variable no longer exported": ["export DATABYTES=1000000", "DATABYTES=1000000"],
    "a flag": ["-v -R", "-v -H -R"],
    "the port": [" 25 ", " 26 "],
    "the order of block lists": ["-r a.example -r b.example", "-r b.example -r a.example"],
    "qmail-smtpd's arguments": ["qmail-smtpd\n", "qmail-smtpd mx /bin/vchkpw /bin/true\n"],
    "a program added to the chain": ["rblsmtpd", "recordio rblsmtpd"],
    "a limit": ["exec tcpserver", "exec softlimit -m 3000000 tcpserver"],
    "the environment cleared": ["exec tcpserver", "exec env -i tcpserver"],
  };
  for (const [name, [from, to]] of Object.entries(changes)) {
    it(name, () => {
      const changed = base.replace(from, to);
      expect(changed).not.toBe(base);
      expect(meaningDifferences(meaning(base), meaning(changed)).length).toBeGreaterThan(0);
    });
  }
});

describe("notes and errors", () => {
  it("names each line it does not evaluate", () => {
    const text = fs.readFileSync(path.join(__dirname, "../../import/18-unexpressible/run"), "utf8");
    const lines = meaning(text).notes.map((note) => note.line);
    expect(lines).toEqual([4, 8, 9, 13, 17]);
  });

  it("a variable set inside a case block is unknown, not taken from one branch", () => {
    const result = meaning("case $(hostname) in a) C=1 ;; *) C=2 ;; esac\nexec tcpserver -c \"$C\" 0 25 qmail-smtpd\n");
    expect(meaningSummary(result).chain[0]).toContain("$(C as set at line 1)");
  });

  it("envdir contents come from the facts, or stay named", () => {
    const text = "#!/bin/sh\nexec envdir ./env tcpserver 0 25 qmail-smtpd\n";
    expect(meaning(text).environmentFrom).toEqual(["./env"]);
    const known = meaning(text, { serviceDir: "/service/smtpd", facts: { envdirs: { "/service/smtpd/env": { DATABYTES: "5", OLD: null } } } });
    expect(meaningSummary(known).environment).toEqual([
      ["DATABYTES", "5"],
      ["OLD", null],
    ]);
  });

  it("a script without a final exec is refused", () => {
    expect(() => meaning("#!/bin/sh\necho starting\n")).toThrow(RunScriptError);
  });

  it("a server run as the last command without exec is read as the exec, and named", () => {
    const read = meaning("#!/bin/sh\ntcpserver 0 25 qmail-smtpd\n");
    expect(read.chain.map((stage) => canonicalText(stage.program))).toEqual(["tcpserver", "qmail-smtpd"]);
    expect(read.notes.map((n) => [n.line, n.reason])).toEqual([[2, "the server is run without exec: the shell stays the supervised process, so svc's signals reach the shell, not the server"]]);
  });

  it("a script with CRLF line endings cannot start, and is refused at line 1 as not running today", () => {
    const script = "#!/bin/sh\r\nexec 2>&1\r\nexec tcpserver -u 999 -g 995 0 25 /var/qmail/bin/qmail-smtpd\r\n";
    let error: unknown;
    try {
      meaning(script);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(RunScriptError);
    expect((error as RunScriptError).line).toBe(1);
    expect((error as Error).message).toMatch(/CRLF .*cannot start.*does not run on the host today/);
  });

  it("a server started in the background is not read as the exec (the script exits, supervise starts it again)", () => {
    expect(() => meaning("#!/bin/sh\ntcpserver 0 25 qmail-smtpd &\n")).toThrow(RunScriptError);
  });

  it("unbalanced quotes are refused with the line", () => {
    expect(() => meaning("#!/bin/sh\nexport A='x\n")).toThrow(/line 2/);
  });
});
