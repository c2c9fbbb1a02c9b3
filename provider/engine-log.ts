// Messages from the provider to the person running `pulumi up`, shown under
// the resource they concern: a host rolled back within rollout.maxFailures is
// a warning there, not an error; what taking over a host changes is info.
import * as grpc from "@grpc/grpc-js";
import * as engproto from "@pulumi/pulumi/proto/engine_pb";
import * as engrpc from "@pulumi/pulumi/proto/engine_grpc_pb";

export type EngineLog = (urn: string, message: string, severity: "warning" | "info") => Promise<void>;

const SEVERITY = { warning: engproto.LogSeverity.WARNING, info: engproto.LogSeverity.INFO };

/** A logger talking to the engine at `address`; one that writes to stderr when there is none. */
export function engineLog(address: string | undefined): EngineLog {
  if (!address) return async (_urn, message, severity) => void process.stderr.write(`${severity}: ${message}\n`);
  const client = new engrpc.EngineClient(address, grpc.credentials.createInsecure());
  return (urn, message, severity) =>
    new Promise((resolve) => {
      const request = new engproto.LogRequest().setSeverity(SEVERITY[severity]).setMessage(message).setUrn(urn);
      client.log(request, () => resolve());
    });
}
