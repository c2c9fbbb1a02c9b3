// Blocks the reading runs as the shell would, because every value they test
// is known: an if/elif/else on the script's own settings, and the combined
// patch script's loop that exports each listed variable that is set. Any
// other loop, or a condition only the host can tell, keeps its warning.
import { describe, expect, it } from "vitest";
import { runScriptMeaning } from "../../../lib/import/run-script-meaning";
import { canonicalText } from "../../../lib/import/script-value";

const exported = (run: string) =>
  Object.fromEntries([...runScriptMeaning(run).environment].map(([name, value]) => [name, value === null ? null : canonicalText(value)]));
const programs = (run: string) => runScriptMeaning(run).chain.map((stage) => canonicalText(stage.program));

describe("an if block on values the script sets", () => {
  const chooser = (ssl: string) => `#!/bin/sh
exec 2>&1
SSL=${ssl}
if [ "$SSL" = "1" ] ; then
    PROG="sslserver -e"
    CERTFILE=/var/qmail/control/servercert.pem ; export CERTFILE
elif [ "$SSL" = "2" ]; then
    PROG=echo
else
    PROG="tcpserver"
fi
exec $PROG -v -u 7791 -g 2108 0 2525 /var/qmail/bin/qmail-smtpd
`;

  it("takes the else branch when the test fails (SSL=0: tcpserver), with nothing left unread", () => {
    const meaning = runScriptMeaning(chooser("0"));
    expect(meaning.chain.map((stage) => canonicalText(stage.program))).toEqual(["tcpserver", "/var/qmail/bin/qmail-smtpd"]);
    expect(meaning.environment.has("CERTFILE")).toBe(false);
    expect(meaning.notes).toEqual([]);
  });

  it("takes the then branch when it holds (SSL=1: sslserver -e and its certificate)", () => {
    expect(programs(chooser("1"))).toEqual(["sslserver", "/var/qmail/bin/qmail-smtpd"]);
    expect(exported(chooser("1")).CERTFILE).toBe("/var/qmail/control/servercert.pem");
  });

  it("a condition only the host can tell is still named with what the import assumed", () => {
    const run = chooser("0").replace('[ "$SSL" = "1" ]', '[ -f /etc/ssl-on ]');
    expect(runScriptMeaning(run).notes.map((n) => n.line)).toEqual([4]);
  });
});

describe("a for loop that exports listed variables", () => {
  const patchLoop = `#!/bin/sh
exec 2>&1
GREETDELAY=5
DROP_PRE_GREET=1
FORCE_TLS=""
QUEUE=/var/qmail/bin/simscan
for V in GREETDELAY DROP_PRE_GREET FORCE_TLS \\
    NOT_SET_AT_ALL
do
    eval "X=\\\${$V:-}"
    if [ -n "$X" ] ; then export $V ; fi
done
exec tcpserver -v -u 7791 -g 2108 0 25 /var/qmail/bin/qmail-smtpd
`;

  it("exports each one the script set and left non-empty, as the combined patch's script does", () => {
    const meaning = runScriptMeaning(patchLoop);
    expect(Object.fromEntries([...meaning.environment].map(([n, v]) => [n, v && canonicalText(v)]))).toEqual({ GREETDELAY: "5", DROP_PRE_GREET: "1" });
    expect(meaning.notes).toEqual([]);
  });

  it("without the guard, exports every listed variable the script set", () => {
    const run = patchLoop.replace(/ {4}eval[^\n]*\n {4}if[^\n]*\n/, "    export $V\n");
    expect(Object.keys(exported(run)).sort()).toEqual(["DROP_PRE_GREET", "FORCE_TLS", "GREETDELAY"]);
  });

  it("[ -n ] && export, on one line, is the same loop", () => {
    const run = patchLoop.replace(/ {4}eval[^\n]*\n {4}if[^\n]*\n/, '    eval "X=\\${$V:-}"; [ -n "$X" ] && export $V\n');
    expect(Object.keys(exported(run)).sort()).toEqual(["DROP_PRE_GREET", "GREETDELAY"]);
  });

  it("any other loop keeps its warning", () => {
    const run = patchLoop.replace(/ {4}eval[^\n]*\n {4}if[^\n]*\n/, "    echo $V\n");
    const meaning = runScriptMeaning(run);
    expect(meaning.notes.map((n) => [n.line, n.reason])).toEqual([[7, "a for loop: not evaluated"]]);
    expect(meaning.environment.size).toBe(0);
  });
});
