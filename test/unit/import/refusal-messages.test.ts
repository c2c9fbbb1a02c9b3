// A script the import refuses says why by its line and what to do, not what
// the reading stumbled on afterwards.
import { describe, expect, it } from "vitest";
import { runScriptMeaning } from "../../../lib/import/run-script-meaning";

const DIR = "/var/qmail/supervise/smtpd";
const refusal = (script: string) => {
  try {
    runScriptMeaning(script, { serviceDir: DIR });
  } catch (error) {
    return (error as Error).message;
  }
  return "read without refusal";
};

describe("a line ending in a backslash followed by a space", () => {
  it("is named as a broken continuation, not as a server without an address", () => {
    const script = "#!/bin/sh\nexec 2>&1\nexec tcpserver -u 7791 -g 2108 -c 10 \\ \n  192.0.2.51 25 /var/qmail/bin/qmail-smtpd\n";
    const message = refusal(script);
    expect(message).toMatch(/^line 3: the line ends in a backslash followed by a space, so it does not continue on line 4/);
    expect(message).toContain("delete the blank after the backslash");
    expect(message).not.toContain("needs an address and a port");
  });

  it("an escaped backslash before the blank, or a backslash-newline, is not one", () => {
    expect(refusal("#!/bin/sh\nexec tcpserver -u 7791 -g 2108 0 25 \\\n  /var/qmail/bin/qmail-smtpd\n")).toBe("read without refusal");
    expect(refusal("#!/bin/sh\nexec tcpserver -u 7791 -g 2108 0 25 /var/qmail/bin/qmail-smtpd \\\\ \n# done\n")).toBe("read without refusal");
  });
});

describe("an exec inside an if/else", () => {
  it("is named with its lines, not as a script without an exec", () => {
    const script =
      "#!/bin/sh\nif [ -x /usr/local/bin/tcpserver ]; then\n  exec /usr/local/bin/tcpserver -u 7791 -g 2108 192.0.2.29 25 /var/qmail/bin/qmail-smtpd\nelse\n  exec tcpserver -c 5 -u 7791 -g 2108 192.0.2.29 26 /var/qmail/bin/qmail-smtpd\nfi\n";
    expect(refusal(script)).toBe(
      "line 2: the server's exec (lines 3, 5) is inside an if/else (lines 2-6) whose branches the import does not choose between: nothing to import; write the run script with the one exec the host runs as its last line, check that the service runs, then import it",
    );
  });

  it("a script with no exec anywhere keeps the plain refusal", () => {
    expect(refusal("#!/bin/sh\nif [ -x /bin/true ]; then\n  echo up\nfi\n/bin/true\n")).toMatch(/^the script has no final `exec` of a server/);
  });
});
