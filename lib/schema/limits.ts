// The "tcpserver limits" patch: refuse connections when the machine is busy
// or one address/network holds too many. Stock tcpserver ignores these.
import { option } from "./descriptor";
import { integer, smtpText } from "./primitives";

/** An SMTP reply tcpserver sends as it is: a 4xx or 5xx code, a space, text; one line. */
const dieMessage = (what: string) =>
  smtpText(what, 510, `${what.split(".").pop()}: "421 Service temporarily unavailable"`).refine((s) => /^[45][0-9][0-9]( |$)/.test(s), {
    message: `${what} must start with an SMTP error code and a space, for example "421 Service temporarily unavailable" (tcpserver sends it as it is)`,
  });

export const limitsOptions = {
  maxLoad: option({
    schema: integer(1, 100000, "limits.maxLoad", 750).optional(),
    doc: "Refuse connections while the 1-minute load average × 100 is above this (MAXLOAD=750 is load 7.5). Default: no limit.",
    becomes: { env: "MAXLOAD" },
    sample: 750,
  }),
  maxConnectionsPerIp: option({
    schema: integer(1, 10000, "limits.maxConnectionsPerIp", 5).optional(),
    doc: "Most connections at once from one IP address (MAXCONNIP). Default: no limit.",
    becomes: { env: "MAXCONNIP" },
    sample: 5,
  }),
  maxConnectionsPerClassC: option({
    schema: integer(1, 10000, "limits.maxConnectionsPerClassC", 15).optional(),
    doc: "Most connections at once from one /24 network (MAXCONNC). Default: no limit.",
    becomes: { env: "MAXCONNC" },
    sample: 15,
  }),
  dieMessage: option({
    schema: dieMessage("limits.dieMessage").optional(),
    doc: "SMTP answer when any limit refuses a client (DIEMSG), e.g. \"421 Service temporarily unavailable\"; written as is ($LOCAL is not expanded). Default: the patch's.",
    becomes: { env: "DIEMSG" },
    sample: "421 Service temporarily unavailable",
  }),
  dieMessageMaxLoad: option({
    schema: dieMessage("limits.dieMessageMaxLoad").optional(),
    doc: "SMTP answer when MAXLOAD refuses a client (DIEMSG_MAXLOAD). Default: dieMessage.",
    becomes: { env: "DIEMSG_MAXLOAD" },
    sample: "421 Server busy, try again later.",
  }),
  dieMessageMaxConnectionsPerIp: option({
    schema: dieMessage("limits.dieMessageMaxConnectionsPerIp").optional(),
    doc: "SMTP answer when MAXCONNIP refuses a client (DIEMSG_MAXCONNIP). Default: dieMessage.",
    becomes: { env: "DIEMSG_MAXCONNIP" },
    sample: "421 Too many connections from your IP.",
  }),
  dieMessageMaxConnectionsPerClassC: option({
    schema: dieMessage("limits.dieMessageMaxConnectionsPerClassC").optional(),
    doc: "SMTP answer when MAXCONNC refuses a client (DIEMSG_MAXCONNC). Default: dieMessage.",
    becomes: { env: "DIEMSG_MAXCONNC" },
    sample: "421 Too many connections from your network.",
  }),
};
