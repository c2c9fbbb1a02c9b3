// What a service's run script and shared files amount to for the house rules
// (lib/policy): whether it requires AUTH and TLS, which files it reads, and
// whether its tcprules let every client relay. Decided here, from the config,
// so that a policy never parses a script or a cdb. Pure: the only input beyond
// the config is the reader of a tcprules file.
import type { FleetConfig, ServiceConfig } from "./config";
import type { ServiceTraits } from "./host-plan";
import { relayForEveryClient, renderTcpRules } from "./cdb/tcprules";
import { certificatePathOf } from "./schema/tls-paths";

export function serviceTraits(service: ServiceConfig, config: FleetConfig, readFile: (path: string) => string | Buffer): ServiceTraits {
  const traits: ServiceTraits = {
    requiresAuth: service.auth.require,
    tls: service.ssl ? "wrapped" : service.denyTls ? "off" : service.forceTls ? "required" : "offered",
  };
  const certificateFile = certificatePathOf(service);
  if (certificateFile !== undefined) traits.certificateFile = certificateFile;
  if (service.auth.method === "cdb" && service.auth.cdbFile) traits.authCdb = service.auth.cdbFile;
  if (service.validRcptTo.cdbFile !== undefined) traits.validRcptToCdb = service.validRcptTo.cdbFile;
  if (service.accessRules !== undefined) {
    traits.accessRules = service.accessRules;
    const relays = relaysEveryClient(service.accessRules, service.lookupRemoteHost, config, readFile);
    if (relays !== undefined) traits.relaysEveryClient = relays;
  }
  return traits;
}

/** Whether the rules the config gives for `path` hand RELAYCLIENT to every client; undefined when the rules are the operator's. */
function relaysEveryClient(path: string, lookupRemoteHost: boolean, config: FleetConfig, readFile: (path: string) => string | Buffer): boolean | undefined {
  const sets = config.tcpRules ?? {};
  if (!Object.prototype.hasOwnProperty.call(sets, path)) return undefined;
  const set = sets[path];
  try {
    return relayForEveryClient(set.rules ? renderTcpRules(set.rules) : Buffer.from(readFile(set.file!)), lookupRemoteHost) !== undefined;
  } catch {
    return undefined; // unreadable or malformed rules are refused, with their source named, when planning builds them
  }
}
