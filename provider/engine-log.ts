// Messages from the provider to the person running `pulumi up`, shown under
// the resource they concern: a host rolled back within rollout.maxFailures is
// a warning there, not an error.
import * as grpc from "@grpc/grpc-js";
import * as engproto from "@pulumi/pulumi/proto/engine_pb";
import * as engrpc from "@pulumi/pulumi/proto/engine_grpc_pb";

export type EngineLog = (urn: string, message: string) => Promise<void>;

/** A warning logger talking to the engine at `address`; one that writes to stderr when there is none. */
export function engineWarnings(address: string | undefined): EngineLog {
  if (!address) return async (_urn, message) => void process.stderr.write(`warning: ${message}\n`);
  const client = new engrpc.EngineClient(address, grpc.credentials.createInsecure());
  return (urn, message) =>
    new Promise((resolve) => {
      const request = new engproto.LogRequest().setSeverity(engproto.LogSeverity.WARNING).setMessage(message).setUrn(urn);
      client.log(request, () => resolve());
    });
}
