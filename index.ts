// The qmail-fleet Pulumi program: read the stack's fleet, check it, and make
// every mailhub match it.
import { Fleet } from "./components/fleet";
import { loadStackFleet } from "./components/stack-config";
import { pruneBuildFiles } from "./provider/build-files";

pruneBuildFiles();
const { config, plan, privateKey } = loadStackFleet();
const fleet = new Fleet("fleet", {
  plan,
  privateKey,
  rollout: config.rollout,
});

/** Per host: its address, each service's listen address and banner, and the files it holds. */
export const hosts = fleet.summary;
