// The service's `log/run`: multilog as the log user, writing to ./main.
import type { HostConfig, ServiceConfig } from "../config";
import { generatedHeader } from "./header";
import { programFlags } from "./option-values";
import { shellQuote } from "./shell-quote";

export function renderLogScript(service: ServiceConfig, host: HostConfig): string {
  const { log } = service;
  return [
    "#!/bin/sh",
    ...generatedHeader("Log script", service, host),
    "",
    `PATH=${shellQuote(service.path)}`,
    "export PATH",
    "",
    `exec setuidgid ${shellQuote(log.user)} ${shellQuote(log.program)} ${[...programFlags("multilog", service), "./main"].join(" ")}`,
    "",
  ].join("\n");
}
