// Whether a declared script runs what the host's runs: an if block whose
// then-branch the reading takes is an assumption, never proof of sameness.
import { describe, expect, it } from "vitest";
import { factsNeeded, lookupsNotYetMade, whatRunsDifferently } from "../../../provider/run-script-comparison";

const DIR = "/var/qmail/supervise/smtpd";
const declared = "#!/bin/sh\nexec 2>&1\nVALIDRCPTTO_CDB=/var/qmail/control/validrcptto.cdb\nexport VALIDRCPTTO_CDB\nexec tcpserver -v -R -u 7791 -g 2108 0 25 /var/qmail/bin/qmail-smtpd\n";

describe("whatRunsDifferently", () => {
  it("a variable set in an if block on the host is not taken as the same as the declared one", () => {
    const onHost = "#!/bin/sh\nexec 2>&1\nif [ -f /var/qmail/control/validrcptto.cdb ]; then\n  VALIDRCPTTO_CDB=/var/qmail/control/validrcptto.cdb; export VALIDRCPTTO_CDB\nfi\nexec tcpserver -v -R -u 7791 -g 2108 0 25 /var/qmail/bin/qmail-smtpd\n";
    expect(whatRunsDifferently(onHost, declared, DIR)).toEqual([
      "the script on the host, line 3: an if block that sets VALIDRCPTTO_CDB (a conditional variable assignment): its condition is not evaluated, so what it sets is not known",
    ]);
  });

  it("the same settings written another way are the same", () => {
    const onHost = "#!/bin/sh\nexec 2>&1\nexport VALIDRCPTTO_CDB=/var/qmail/control/validrcptto.cdb\nexec tcpserver -vR -u 7791 -g 2108 0 25 /var/qmail/bin/qmail-smtpd\n";
    expect(whatRunsDifferently(onHost, declared, DIR)).toEqual([]);
  });
});

describe("a setting written out at the program's default runs the same as one left out", () => {
  const LOG = `${DIR}/log`;
  const logScript = (multilog: string) => `#!/bin/sh\nPATH=/usr/bin:/bin\nexport PATH\nexec setuidgid qmaill multilog ${multilog}\n`;

  it("multilog's s99999 and n10 are its defaults", () => {
    expect(whatRunsDifferently(logScript("t ./main"), logScript("t s99999 n10 ./main"), LOG)).toEqual([]);
    expect(whatRunsDifferently(logScript("t n10 s099999 ./main"), logScript("t ./main"), LOG)).toEqual([]);
  });

  it("a size or number after the last directory applies to nothing", () => {
    expect(whatRunsDifferently(logScript("t ./main s5000 n3"), logScript("t ./main"), LOG)).toEqual([]);
  });

  it("a setting other than the default, or one that moves to another directory, is a difference", () => {
    expect(whatRunsDifferently(logScript("t s1000000 ./main"), logScript("t ./main"), LOG)).toEqual([
      "exec chain: setuidgid qmaill | multilog t s1000000 ./main → setuidgid qmaill | multilog t ./main",
    ]);
    // s1000 applies to both directories in the first, only to ./a in the second.
    expect(whatRunsDifferently(logScript("s1000 ./a ./b"), logScript("s1000 ./a s99999 ./b"), LOG)).toHaveLength(1);
    expect(whatRunsDifferently(logScript("n5 ./a"), logScript("n6 ./a"), LOG)).toHaveLength(1);
  });

  it("tcpserver's -d (its documented default) and a count written with a leading zero", () => {
    const run = (options: string) => `#!/bin/sh\nexec tcpserver ${options} -u 7791 -g 2108 0 25 /var/qmail/bin/qmail-smtpd\n`;
    expect(whatRunsDifferently(run("-v -R"), run("-v -R -d"), DIR)).toEqual([]);
    expect(whatRunsDifferently(run("-v -R -c 30"), run("-v -R -c 030"), DIR)).toEqual([]);
    expect(whatRunsDifferently(run("-v -R"), run("-v -R -D"), DIR)).toHaveLength(1);
  });
});

describe("a variable the program does not get", () => {
  const withEnvdir = "#!/bin/sh\nexec 2>&1\nexec envdir ./env tcpserver -v -R -u 7791 -g 2108 0 25 /var/qmail/bin/qmail-smtpd\n";
  const without = "#!/bin/sh\nexec 2>&1\nexec tcpserver -v -R -u 7791 -g 2108 0 25 /var/qmail/bin/qmail-smtpd\n";

  it("removed by an empty envdir file is the same as never set", () => {
    const facts = { envdirs: { [`${DIR}/env`]: { LOGMFROM: null } } };
    expect(whatRunsDifferently(withEnvdir, without, DIR, facts)).toEqual([]);
  });

  it("PATH removed is not svscan's PATH, and a value is not absent", () => {
    expect(whatRunsDifferently(withEnvdir, without, DIR, { envdirs: { [`${DIR}/env`]: { PATH: null } } })).toEqual(["PATH: (removed) → (not set)"]);
    expect(whatRunsDifferently(withEnvdir, without, DIR, { envdirs: { [`${DIR}/env`]: { LOGMFROM: "1" } } })).toEqual(['LOGMFROM: "1" → (not set)']);
  });
});

describe("a settings file the host's script sources", () => {
  const sourcing = "#!/bin/sh\nexec 2>&1\n. /var/qmail/control/conf-rocks\nexec tcpserver -v -R -u 7791 -g 2108 0 25 /var/qmail/bin/qmail-smtpd\n";
  const settingsInScript = "#!/bin/sh\nexec 2>&1\nexport DATABYTES=2000000\nexport MAXRCPT=100\nexec tcpserver -v -R -u 7791 -g 2108 0 25 /var/qmail/bin/qmail-smtpd\n";
  const conf = "DATABYTES=2000000\nexport DATABYTES\nMAXRCPT=100; export MAXRCPT\n";

  it("is among the facts the take-over reads, with what its settings look up once its text is known", () => {
    const scripts = [{ text: sourcing.replace(". /var", ". ../../control/x\n. /var"), runsIn: DIR }];
    const asked = factsNeeded(scripts);
    expect(asked.files).toEqual(["/var/qmail/control/conf-rocks", "/var/qmail/control/x"]);
    const known = { files: { "/var/qmail/control/conf-rocks": "MAXSMTPD=`cat /var/qmail/control/concurrencyincoming`\nexport MAXSMTPD\n" } };
    expect(lookupsNotYetMade(factsNeeded(scripts, known), asked)).toEqual({ users: [], files: ["/var/qmail/control/concurrencyincoming"], envdirs: [] });
  });

  it("whose values equal the declared script's runs the same: no restart", () => {
    expect(whatRunsDifferently(sourcing, settingsInScript, DIR, { files: { "/var/qmail/control/conf-rocks": conf } })).toEqual([]);
    expect(whatRunsDifferently(sourcing, settingsInScript, DIR, { files: { "/var/qmail/control/conf-rocks": conf.replace("100", "50") } })).toEqual([
      expect.stringContaining("MAXRCPT"),
    ]);
  });
});
