// The service's `run`: explicit PATH, the settings as exported variables,
// ids looked up on the host, then one exec chain:
//   tcpserver|sslserver [rblsmtpd] [jgreylist] [recordio] qmail-smtpd [LOCAL CHECKPW TRUE]
import type { HostConfig, ServiceConfig } from "../config";
import { OPTION_SECTIONS, type OptionSection } from "../schema/catalog";
import { isActive } from "../schema/service-rules";
import { generatedHeader } from "./header";
import { exportLines, programFlags, sectionExports } from "./option-values";
import { shellQuote } from "./shell-quote";

/** Shell variable holding an id looked up on the host, e.g. QMAILDUID, NOFILESGID. */
export function idVariable(name: string, kind: "UID" | "GID"): string {
  return `${name.toUpperCase().replace(/[^A-Z0-9_]/g, "_")}${kind}`;
}

export function renderRunScript(service: ServiceConfig, host: HostConfig): string {
  const lines = ["#!/bin/sh", ...generatedHeader("Run script", service, host), "", "exec 2>&1", ""];
  for (const section of OPTION_SECTIONS) {
    const body = [...sectionExports(section, service).flatMap(exportLines), ...sectionExtras(section, service)];
    if (body.length > 0) lines.push(`# ${sectionTitle(section, service)}`, ...body, "");
  }
  lines.push(...execChain(service));
  return lines.join("\n") + "\n";
}

function sectionTitle(section: OptionSection, service: ServiceConfig): string {
  return section.id === "listener" ? (service.ssl ? "sslserver" : "tcpserver") : section.title;
}

/** Lines a section needs beyond its plain exports. */
function sectionExtras(section: OptionSection, service: ServiceConfig): string[] {
  switch (section.id) {
    case "basic": {
      const user = shellQuote(service.user);
      return [
        `${idVariable(service.user, "UID")}=$(id -u ${user}) || exit 111`,
        `${idVariable(service.group, "GID")}=$(id -g ${user}) || exit 111`,
        service.localHostName === undefined
          ? `LOCAL=$(head -n 1 ${shellQuote(`${service.qmailDir}/control/me`)}) || exit 111`
          : `LOCAL=${shellQuote(service.localHostName)}`,
      ];
    }
    case "listener":
      // sslserver reads its certificate and key from the environment; SSL=1 tells qmail-smtpd.
      if (!service.ssl || !service.certificateFile) return [];
      return (
        [
          ["SSL", "1"],
          ["CERTFILE", service.certificateFile],
          ["KEYFILE", service.keyFile ?? service.certificateFile],
        ] satisfies Array<[string, string]>
      ).flatMap(exportLines);
    case "smtpd":
      return !service.ssl && service.certificateFile ? exportLines(["TLS_SERVER_CERT", service.certificateFile]) : [];
    default:
      return [];
  }
}

function execChain(service: ServiceConfig): string[] {
  const server = [
    service.ssl ? "sslserver" : "tcpserver",
    // sslserver sets TCPREMOTEIP and the other TCP* variables, which rblsmtpd, jgreylist and qmail-smtpd read, only with -e.
    ...(service.ssl ? ["-e"] : []),
    ...programFlags("tcpserver", service),
    "-l",
    '"$LOCAL"',
    "-u",
    `"$${idVariable(service.user, "UID")}"`,
    "-g",
    `"$${idVariable(service.group, "GID")}"`,
    shellQuote(service.ip),
    String(service.port),
  ];
  const stages: string[][] = [server];
  if (isActive(service.rblsmtpd)) stages.push([shellQuote(service.rblsmtpd!.program), ...programFlags("rblsmtpd", service)]);
  if (isActive(service.jgreylist)) stages.push([shellQuote(service.jgreylist!.program)]);
  if (isActive(service.recordio)) stages.push([shellQuote(service.recordio!.program)]);
  const smtpd = [shellQuote(service.smtpdProgram)];
  if (service.auth.method === "checkpassword")
    smtpd.push('"$LOCAL"', shellQuote(service.auth.checkpasswordProgram!), shellQuote(service.auth.trueProgram));
  stages.push(smtpd);
  return stages.map((words, index) => {
    const text = (index === 0 ? "exec " : "    ") + words.join(" ");
    return index < stages.length - 1 ? `${text} \\` : text;
  });
}
