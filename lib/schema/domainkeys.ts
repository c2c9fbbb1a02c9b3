// Domainkeys add-on patch (applied after the combined patch): verify incoming
// mail and sign mail from authenticated users.
import { z } from "zod";
import { option } from "./descriptor";
import { nonEmptyText, pathProblem } from "./primitives";

export const domainKeysOptions = {
  enabled: option({
    schema: z.boolean().default(true),
    doc: "Check and sign Domainkeys (DOMAINKEYS=1). Default: true when the domainKeys object is given.",
    becomes: { env: "DOMAINKEYS" },
    sample: false,
    sampleContext: { domainKeys: {} },
  }),
  verify: option({
    schema: nonEmptyText("domainKeys.verify")
      .regex(/^[A-Za-z]+$/, { message: "domainKeys.verify must be the patch's result letters, e.g. DEGIJKfh" })
      .optional(),
    doc: "How each verification result is handled, as the patch's result letters (DKVERIFY), e.g. DEGIJKfh. Default: the patch's.",
    becomes: { env: "DKVERIFY" },
    sample: "DEGIJKfh",
  }),
  sign: option({
    schema: nonEmptyText("domainKeys.sign")
      .superRefine((s, ctx) => {
        const problem = pathProblem(s, "domainKeys.sign");
        if (problem) ctx.addIssue({ code: "custom", message: problem });
      })
      .optional(),
    doc: "Where the signing keys are, '%' standing for the domain (DKSIGN), e.g. /etc/domainkeys/%/default. Default: no signing.",
    becomes: { env: "DKSIGN" },
    sample: "/etc/domainkeys/%/default",
  }),
};
