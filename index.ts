// The qmail-fleet Pulumi program: the stack's fleet, through the library.
import { Fleet } from "./components/fleet";
import { loadStackFleet } from "./components/stack-config";

// The names this program has always deployed (Mailhub and HostConfiguration named by host): no prefix.
const fleet = new Fleet("fleet", { ...loadStackFleet(), mailhubNamePrefix: "" });

/** Per host: its address, each service's listen address and banner, and the files it holds. */
export const hosts = fleet.summary;
