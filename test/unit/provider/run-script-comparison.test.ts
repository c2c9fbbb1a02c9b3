// Whether a declared script runs what the host's runs: an if block whose
// then-branch the reading takes is an assumption, never proof of sameness.
import { describe, expect, it } from "vitest";
import { whatRunsDifferently } from "../../../provider/run-script-comparison";

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
