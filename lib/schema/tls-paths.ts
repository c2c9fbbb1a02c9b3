// Where a service reads its certificate.
import type { ServiceConfig } from "./service";
import { DEFAULT_CERTIFICATE_FILE } from "./shared-files";

/** The certificate file a service reads, or undefined when it uses no TLS. */
export function certificatePathOf(service: Pick<ServiceConfig, "ssl" | "denyTls" | "certificateFile" | "qmailDir">): string | undefined {
  if (service.ssl) return service.certificateFile;
  if (service.denyTls) return undefined;
  return service.certificateFile ?? `${service.qmailDir}/${DEFAULT_CERTIFICATE_FILE}`;
}
