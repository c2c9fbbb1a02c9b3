// Which files a service reads when it starts, reduced to one hash per part:
// when the hash changes, that part (the service or its log) must restart.
import { createHash } from "node:crypto";
import type { HostPlan, ManagedFile, ServicePlan } from "../lib/host-plan";

export interface RestartTrigger {
  hash: string;
  /** True when a secret file (an SSL key) feeds the hash: then the hash is kept secret too. */
  secret: boolean;
}

export function restartTrigger(plan: HostPlan, service: ServicePlan, part: "service" | "log"): RestartTrigger {
  const files = plan.files
    .filter((file) => file.restarts.some((r) => r.service === service.name && r.part === part))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const hash = createHash("sha256");
  for (const file of files) hash.update(`${file.path}\0${fileHash(file)}\n`);
  return { hash: hash.digest("hex"), secret: files.some((file) => file.secret) };
}

function fileHash(file: ManagedFile): string {
  return createHash("sha256").update(file.content).digest("hex");
}
