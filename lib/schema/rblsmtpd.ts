// rblsmtpd (ucspi-tcp): refuse clients listed in DNS block lists before
// qmail-smtpd starts. Present means enabled.
import { z } from "zod";
import { option } from "./descriptor";
import { hostNameProblem, integer, programPath, smtpText } from "./primitives";

/** A DNS list zone, optionally `zone:message` (rblsmtpd's own message for an A-record list). */
const dnsZone = (what: string) =>
  z.string({ error: `${what} must be text, a DNS zone such as zen.spamhaus.org` }).superRefine((s, ctx) => {
    const url = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/:]*)/.exec(s);
    if (url)
      return void ctx.addIssue({
        code: "custom",
        message: `${what} '${s}' is a URL; rblsmtpd takes a DNS zone (it would read '${s.split(":")[0]}' as the zone and the rest as its message): write ${url[1] || "zen.spamhaus.org"}`,
      });
    const colon = s.indexOf(":");
    const zone = colon < 0 ? s : s.slice(0, colon);
    if (!zone.includes(".") && hostNameProblem(zone, what) === undefined)
      return void ctx.addIssue({ code: "custom", message: `${what} '${zone}' is not a DNS zone (a zone has a dot, such as zen.spamhaus.org): no client would ever be listed in it` });
    const problem = hostNameProblem(zone, what);
    if (problem) return void ctx.addIssue({ code: "custom", message: `${problem.replace(/a DNS name such as mx1\.example\.com/, "a DNS zone such as zen.spamhaus.org")}` });
    const message = colon < 0 ? "" : s.slice(colon + 1);
    if ([...message].some((c) => c < " " || c > "~"))
      ctx.addIssue({ code: "custom", message: `${what}: the message after ':' must be plain ASCII on one line` });
  });

/** RBLSMTPD / JGREYLIST text: empty, or an SMTP refusal text. */
export const overrideText = (what: string) => smtpText(what, 500, `${what.split(".").pop()}: ""`, { allowEmpty: true });

export const rblsmtpdOptions = {
  enabled: option({
    schema: z.boolean().default(true),
    doc: "Put rblsmtpd in the chain. Default: true when the rblsmtpd object is given (set false to switch off an inherited one).",
    becomes: { script: "rblsmtpd in the exec chain" },
    sample: false,
    sampleContext: { rblsmtpd: { blockLists: ["zen.spamhaus.org"] } },
  }),
  program: option({
    schema: programPath("rblsmtpd.program").default("rblsmtpd"),
    doc: "The rblsmtpd program. Default: rblsmtpd from PATH.",
    becomes: { script: "the program name in the exec chain" },
    sample: "/usr/local/bin/rblsmtpd",
    sampleContext: { rblsmtpd: { blockLists: ["zen.spamhaus.org"] } },
  }),
  override: option({
    schema: overrideText("rblsmtpd.override").optional(),
    doc: "RBLSMTPD: empty skips the lists for every client, text starting with '-' refuses everyone permanently with it, other text temporarily. Usually set per address in tcprules instead. Default: unset (check the lists).",
    becomes: { env: "RBLSMTPD" },
    sample: "",
    sampleContext: { rblsmtpd: { blockLists: ["zen.spamhaus.org"] } },
  }),
  // rblsmtpd acts on its options in order: settings first, then allow lists, then block lists.
  permanentReject: option({
    schema: z.boolean().default(false),
    doc: "Refuse listed clients with 553 (permanent) instead of 451 (rblsmtpd -b). Default: false.",
    becomes: { flag: "-b", program: "rblsmtpd" },
    sample: true,
    sampleContext: { rblsmtpd: { blockLists: ["zen.spamhaus.org"] } },
  }),
  blockOnDnsFailure: option({
    schema: z.boolean().default(false),
    doc: "Treat a failed DNS lookup as listed (rblsmtpd -c) instead of letting the client in (-C). Default: false.",
    becomes: { flag: "-c", program: "rblsmtpd" },
    sample: true,
    sampleContext: { rblsmtpd: { blockLists: ["zen.spamhaus.org"] } },
  }),
  timeout: option({
    schema: integer(0, 600, "rblsmtpd.timeout", 30).optional(),
    doc: "Seconds rblsmtpd keeps talking to a refused client before hanging up (rblsmtpd -t; 0: answer with the error at once). Default: rblsmtpd's 60.",
    becomes: { flag: "-t", program: "rblsmtpd" },
    sample: 30,
    sampleContext: { rblsmtpd: { blockLists: ["zen.spamhaus.org"] } },
  }),
  allowLists: option({
    schema: z.array(dnsZone("rblsmtpd.allowLists[]")).default([]),
    doc: "Zones whose listed clients skip the block lists (rblsmtpd -a, checked first; with -C a failed lookup here also lets the client in). Default: none.",
    becomes: { flag: "-a", program: "rblsmtpd" },
    sample: ["list.dnswl.org"],
    sampleContext: { rblsmtpd: { blockLists: ["zen.spamhaus.org"] } },
  }),
  blockLists: option({
    schema: z.array(dnsZone("rblsmtpd.blockLists[]")).default([]),
    doc: "Zones whose listed clients are refused (rblsmtpd -r, in order). Default: none.",
    becomes: { flag: "-r", program: "rblsmtpd" },
    sample: ["zen.spamhaus.org", "bl.spamcop.net"],
  }),
};
