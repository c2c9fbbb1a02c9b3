// Forms an operator's run scripts use that change what runs: here-document
// bodies (data, not lines of the script), unset, ${VAR:=default}, readonly,
// and a setting joined to a check by && or ||.
import { describe, expect, it } from "vitest";
import { meaningSummary, runScriptMeaning } from "../../../lib/import/run-script-meaning";
import { canonicalText } from "../../../lib/import/script-value";

const SERVER = "exec tcpserver -u 7791 -g 2108 192.0.2.21 25 /var/qmail/bin/qmail-smtpd\n";
const environment = (script: string) => Object.fromEntries(meaningSummary(runScriptMeaning(script)).environment);
const chain = (script: string) => meaningSummary(runScriptMeaning(script)).chain;

describe("a here-document's body", () => {
  it("is data: an export or exec in it is not read, the exec after it is", () => {
    const script = `#!/bin/sh\ncat <<EOF\nIP=10.9.9.9\nexport DATABYTES=1\nexec tcpserver 10.8.8.8 2999 /bin/false\nEOF\n${SERVER}`;
    const meaning = runScriptMeaning(script);
    expect(environment(script)).toEqual({});
    expect(meaningSummary(meaning).chain[0]).toContain("192.0.2.21");
    expect(meaning.chain[0].line).toBe(7);
    expect(meaning.notes.map((note) => note.line)).toEqual([2]);
  });

  it("with <<- ends at a tab-indented delimiter, and a quoted delimiter is the word without quotes", () => {
    const script = `#!/bin/sh\nexec 2>&1\n\tcat <<-'END'\n\texec tcpserver 10.7.7.7 99 /bin/false\n\tEND\n${SERVER}`;
    expect(chain(script)[0]).toContain("192.0.2.21");
    expect(runScriptMeaning(script).chain[0].line).toBe(6);
  });

  it("without <<- a tab-indented delimiter does not end it", () => {
    const script = `#!/bin/sh\ncat <<EOF\n\tEOF\nexport DATABYTES=1\nEOF\n${SERVER}`;
    expect(environment(script)).toEqual({});
  });

  it("inside an if block is skipped too", () => {
    const script = `#!/bin/sh\nif [ -f x ]; then\n  cat <<EOF\nfi\nEOF\nfi\n${SERVER}`;
    expect(chain(script)[0]).toContain("192.0.2.21");
  });

  it("without its delimiter line is refused with the line it opens on", () => {
    expect(() => runScriptMeaning(`#!/bin/sh\ncat <<EOF\nx\n${SERVER}`)).toThrow(/line 2: .*here-document opened at line 2 has no closing 'EOF' line/);
  });
});

describe("unset", () => {
  it("removes the variable from that line on", () => {
    const script = `#!/bin/sh\nSPFBEHAVIOR=3; export SPFBEHAVIOR\nDATABYTES=5000000; export DATABYTES\nunset SPFBEHAVIOR\n${SERVER}`;
    const meaning = runScriptMeaning(script);
    expect(environment(script)).toEqual({ DATABYTES: "5000000" });
    expect(meaning.variables.has("SPFBEHAVIOR")).toBe(false);
    expect(meaning.notes).toEqual([]);
  });

  it("with -v and several names; a later $NAME is empty and PATH from svscan is removed", () => {
    const script = `#!/bin/sh\nexport A=1 B=2 C=3\nunset -v A B PATH\nexport D="x$A"\n${SERVER}`;
    expect(environment(script)).toEqual({ C: "3", D: "x", PATH: null });
  });

  it("then set again is a new variable, exported only by a new export", () => {
    expect(environment(`#!/bin/sh\nexport A=1\nunset A\nA=2\n${SERVER}`)).toEqual({});
    expect(environment(`#!/bin/sh\nexport A=1\nunset A\nexport A=2\n${SERVER}`)).toEqual({ A: "2" });
  });

  it("env -u NAME on the exec removes it", () => {
    expect(environment(`#!/bin/sh\nexport A=1\nexec env -u A tcpserver 192.0.2.21 25 qmail-smtpd\n`)).toEqual({ A: null });
  });
});

describe("${VAR:=default}", () => {
  it("as a ': ' statement sets the default (the Debian layout)", () => {
    const script = `#!/bin/sh\n: \${IP:=192.0.2.10}\n: \${PORT:=smtp}\nexec tcpserver "$IP" "$PORT" qmail-smtpd\n`;
    const meaning = runScriptMeaning(script);
    expect(meaningSummary(meaning).chain[0]).toEqual(["tcpserver", "192.0.2.10", "25"]);
    expect(meaning.notes).toEqual([]);
  });

  it("in a word expands to the default and sets it; ${VAR=default} alike; a value set before stays", () => {
    const script = `#!/bin/sh\nB=7\nexport A="\${A:=1}" C="\${B=9}"\nexport D="$A$B"\n${SERVER}`;
    expect(environment(script)).toEqual({ A: "1", C: "7", D: "17" });
  });

  it("of a variable only the host can tell stays unknown, as ${VAR:-d} does", () => {
    const script = `#!/bin/sh\nX=$(hostname)\n: \${X:=d}\nexport X\n${SERVER}`;
    expect(environment(script).X).toBe(canonicalText(runScriptMeaning(`#!/bin/sh\nX=$(hostname)\nexport X="\${X:-d}"\n${SERVER}`).environment.get("X")!));
  });
});

describe("readonly", () => {
  it("NAME=value is an assignment, exported by a later export", () => {
    const script = `#!/bin/sh\nexec 2>&1\nreadonly DATABYTES=3000000\nexport DATABYTES\n${SERVER}`;
    expect(environment(script)).toEqual({ DATABYTES: "3000000" });
    expect(runScriptMeaning(script).notes).toEqual([]);
  });

  it("NAME after an assignment changes nothing; readonly PATH=... sets PATH", () => {
    expect(environment(`#!/bin/sh\nQ=/var/qmail\nreadonly Q\nreadonly PATH=/bin\nexport D=$Q\n${SERVER}`)).toEqual({ D: "/var/qmail", PATH: "/bin" });
  });
});

describe("a setting joined to a check by && or ||", () => {
  it("test -f FILE && VAR=value is taken as run, named by line with the assumption", () => {
    const script = `#!/bin/sh\nexec 2>&1\nSPFBEHAVIOR=3\ntest -f /etc/qmail/nospf && SPFBEHAVIOR=0\nexport SPFBEHAVIOR\n${SERVER}`;
    const meaning = runScriptMeaning(script);
    expect(environment(script)).toEqual({ SPFBEHAVIOR: "0" });
    expect(meaning.notes).toHaveLength(1);
    expect(meaning.notes[0]).toMatchObject({ line: 4, endLine: 4 });
    expect(meaning.notes[0].assumed).toMatch(/assumed the check succeeds, so SPFBEHAVIOR=0/);
  });

  it("[ ... ] && export VAR=... and || VAR=... alike (|| assumes the check fails)", () => {
    const script = `#!/bin/sh\n[ -f /x ] && export A=1\n[ -f /y ] ||\n  B=2\nexport B\n${SERVER}`;
    const meaning = runScriptMeaning(script);
    expect(environment(script)).toEqual({ A: "1", B: "2" });
    expect(meaning.notes.map((note) => [note.line, note.endLine])).toEqual([[2, 2], [3, 4]]);
    expect(meaning.notes[1].assumed).toMatch(/assumed the check fails, so B=2/);
  });

  it("a check on known values is evaluated, without a note", () => {
    const script = `#!/bin/sh\nM=1\n[ "$M" = 1 ] && export A=1\n[ "$M" = 2 ] && export B=1\n${SERVER}`;
    expect(environment(script)).toEqual({ A: "1" });
    expect(runScriptMeaning(script).notes).toEqual([]);
  });
});
