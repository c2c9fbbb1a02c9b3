// The qmail resource provider's gRPC service: the engine's side of the
// conversation (configure, check, diff, create, read, update, delete), with
// property values turned into plain objects for HostConfigurationProvider.
//
// @pulumi/pulumi's provider.main serves the same protocol, but drops the
// provider's configuration (where the SSH key is held, once per fleet) and
// any per-property diff, so this service is written against the same
// generated protocol stubs instead.
import * as grpc from "@grpc/grpc-js";
import * as emptyproto from "google-protobuf/google/protobuf/empty_pb";
import * as structproto from "google-protobuf/google/protobuf/struct_pb";
import * as plugproto from "@pulumi/pulumi/proto/plugin_pb";
import * as provproto from "@pulumi/pulumi/proto/provider_pb";
import * as provrpc from "@pulumi/pulumi/proto/provider_grpc_pb";
import { engineLog } from "./engine-log";
import { HostConfigurationProvider } from "./host-configuration";
import { reveal } from "./properties";
import { ConnectionPool } from "./ssh-connection";
import { HOST_CONFIGURATION_TYPE, type ProviderArgs } from "./types";

type Callback<T> = (error: grpc.ServiceError | null, value?: T) => void;
type Call<T> = { request: T };

const KIND = {
  add: provproto.PropertyDiff.Kind.ADD,
  delete: provproto.PropertyDiff.Kind.DELETE,
  update: provproto.PropertyDiff.Kind.UPDATE,
};

/** Large enough for any state this provider keeps; cdb bytes never travel here. */
export const MAX_MESSAGE_BYTES = 512 * 1024 * 1024;

export function providerService(version: string, engineAddress?: string) {
  let config: ProviderArgs = {};
  const pool = new ConnectionPool(() => config.privateKey);
  const hosts = new HostConfigurationProvider(pool, engineLog(engineAddress));

  /** Runs a handler, turning a thrown error into the message the engine prints. */
  const serve = <Req, Res>(handler: (request: Req) => Promise<Res> | Res) => (call: Call<Req>, callback: Callback<Res>) => {
    Promise.resolve()
      .then(() => handler(call.request))
      .then(
        (value) => callback(null, value),
        (error: Error) => callback({ name: "Error", message: error.message, details: error.message, code: grpc.status.UNKNOWN, metadata: new grpc.Metadata() }),
      );
  };

  const ofType = (urn: string) => {
    const type = urn.split("::")[2]?.split("$").pop();
    if (type !== HOST_CONFIGURATION_TYPE) throw new Error(`the qmail provider has no resource type ${type}`);
  };

  const toStruct = (value: Record<string, unknown>) => structproto.Struct.fromJavaScript(value as Record<string, structproto.JavaScriptValue>);
  const fromStruct = (value: structproto.Struct | undefined) => (value?.toJavaScript() ?? {}) as Record<string, unknown>;

  return {
    getPluginInfo: serve(() => new plugproto.PluginInfo().setVersion(version)),
    getSchema: serve(() => new provproto.GetSchemaResponse().setSchema(JSON.stringify({ name: "qmail", version }))),

    // The provider's own inputs are kept as given (the key stays a secret);
    // a new key changes the provider in place, never the hosts' resources.
    checkConfig: serve((req: provproto.CheckRequest) => new provproto.CheckResponse().setInputs(req.getNews())),
    diffConfig: serve((req: provproto.DiffRequest) => {
      const changed = JSON.stringify(reveal(fromStruct(req.getOlds()))) !== JSON.stringify(reveal(fromStruct(req.getNews())));
      return new provproto.DiffResponse().setChanges(
        changed ? provproto.DiffResponse.DiffChanges.DIFF_SOME : provproto.DiffResponse.DiffChanges.DIFF_NONE,
      );
    }),
    configure: serve((req: provproto.ConfigureRequest) => {
      const args = reveal<Record<string, unknown>>(fromStruct(req.getArgs()));
      const privateKey = args.privateKey ?? req.getVariablesMap().get("qmail:config:privateKey");
      config = { privateKey: typeof privateKey === "string" && privateKey !== "" ? privateKey : undefined };
      return new provproto.ConfigureResponse().setAcceptsecrets(true).setSupportspreview(false);
    }),

    check: serve(async (req: provproto.CheckRequest) => {
      ofType(req.getUrn());
      const { inputs, failures } = await hosts.check(req.getUrn(), fromStruct(req.getOlds()), fromStruct(req.getNews()));
      const response = new provproto.CheckResponse().setInputs(toStruct(inputs));
      response.setFailuresList(failures.map((f) => new provproto.CheckFailure().setProperty(f.property).setReason(f.reason)));
      return response;
    }),
    diff: serve((req: provproto.DiffRequest) => {
      ofType(req.getUrn());
      const result = hosts.diff(fromStruct(req.getOlds()), fromStruct(req.getNews()));
      const response = new provproto.DiffResponse().setChanges(
        result.changes === undefined
          ? provproto.DiffResponse.DiffChanges.DIFF_UNKNOWN
          : result.changes
            ? provproto.DiffResponse.DiffChanges.DIFF_SOME
            : provproto.DiffResponse.DiffChanges.DIFF_NONE,
      );
      response.setDiffsList([...new Set(result.detailedDiff.map((c) => c.path.split(/[.[]/)[0]))]);
      response.setHasdetaileddiff(true);
      const detailed = response.getDetaileddiffMap();
      for (const change of result.detailedDiff)
        detailed.set(change.path, new provproto.PropertyDiff().setKind(KIND[change.kind]).setInputdiff(true));
      return response;
    }),
    create: serve(async (req: provproto.CreateRequest) => {
      ofType(req.getUrn());
      const { id, outs } = await hosts.create(req.getUrn(), fromStruct(req.getProperties()));
      return new provproto.CreateResponse().setId(id).setProperties(toStruct(outs));
    }),
    read: serve(async (req: provproto.ReadRequest) => {
      ofType(req.getUrn());
      const { id, props, inputs } = await hosts.read(req.getId(), fromStruct(req.getProperties()));
      return new provproto.ReadResponse().setId(id).setProperties(toStruct(props)).setInputs(toStruct(inputs));
    }),
    update: serve(async (req: provproto.UpdateRequest) => {
      ofType(req.getUrn());
      const outs = await hosts.update(req.getUrn(), fromStruct(req.getOlds()), fromStruct(req.getNews()));
      return new provproto.UpdateResponse().setProperties(toStruct(outs));
    }),
    delete: serve(async (req: provproto.DeleteRequest) => {
      ofType(req.getUrn());
      await hosts.delete(fromStruct(req.getProperties()));
      return new emptyproto.Empty();
    }),
    cancel: serve(() => {
      pool.closeAll();
      return new emptyproto.Empty();
    }),
    attach: serve(() => new emptyproto.Empty()),
    /** Closes every host connection (the engine is done with this provider). */
    close: () => pool.closeAll(),
  };
}

/** Serves the provider on a local port and prints it, as the engine expects of a plugin. */
export async function serveProvider(version: string, engineAddress?: string): Promise<void> {
  const service = providerService(version, engineAddress);
  const server = new grpc.Server({
    "grpc.max_receive_message_length": MAX_MESSAGE_BYTES,
    "grpc.max_send_message_length": MAX_MESSAGE_BYTES,
  });
  const { close, ...methods } = service;
  server.addService(provrpc.ResourceProviderService, methods as unknown as grpc.UntypedServiceImplementation);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  process.stdout.write(`${port}\n`);

  // The engine ends its plugins when it is done; if it dies instead (kill -9),
  // this process must not live on holding SSH sessions to every host.
  const parent = process.ppid;
  const watch = setInterval(() => {
    if (process.ppid !== parent) {
      close();
      process.exit(1);
    }
  }, 500);
  watch.unref();
  for (const signal of ["SIGTERM", "SIGINT"] as const)
    process.on(signal, () => {
      close();
      server.forceShutdown();
      process.exit(0);
    });
}
