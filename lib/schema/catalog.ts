// The table of every option, in the order the run script presents them.
// The service schema and the renderer both walk this list.
import type { OptionDescriptor, OptionTable } from "./descriptor";
import { authOptions } from "./auth";
import { basicOptions } from "./basic";
import { domainKeysOptions } from "./domainkeys";
import { jgreylistOptions } from "./jgreylist";
import { limitsOptions } from "./limits";
import { listenerOptions } from "./listener";
import { logOptions } from "./log";
import { qmailScannerOptions } from "./qmail-scanner";
import { rblsmtpdOptions } from "./rblsmtpd";
import { recordioOptions } from "./recordio";
import { simscanOptions } from "./simscan";
import { smtpdOptions } from "./smtpd";
import { spfOptions } from "./spf";
import { validRcptToOptions } from "./validrcptto";

export interface OptionSection {
  /** Stable identifier, for renderers that add lines of their own to a section. */
  id: string;
  /** The nested object holding the options (`rblsmtpd: {...}`), or null for top-level service fields. */
  group: string | null;
  /** Heading of the section in the run script. */
  title: string;
  /** True when the group is an add-on: absent (or enabled: false) means off. */
  toggled: boolean;
  options: OptionTable;
}

export const OPTION_SECTIONS: readonly OptionSection[] = [
  { id: "basic", group: null, title: "PATH, service user, local host name", toggled: false, options: basicOptions },
  { id: "listener", group: null, title: "tcpserver / sslserver", toggled: false, options: listenerOptions },
  { id: "limits", group: "limits", title: "tcpserver limits patch", toggled: false, options: limitsOptions },
  { id: "rblsmtpd", group: "rblsmtpd", title: "rblsmtpd", toggled: true, options: rblsmtpdOptions },
  { id: "jgreylist", group: "jgreylist", title: "jgreylist", toggled: true, options: jgreylistOptions },
  { id: "recordio", group: "recordio", title: "recordio", toggled: true, options: recordioOptions },
  { id: "smtpd", group: null, title: "qmail-smtpd", toggled: false, options: smtpdOptions },
  { id: "auth", group: "auth", title: "AUTH", toggled: false, options: authOptions },
  { id: "validRcptTo", group: "validRcptTo", title: "validrcptto.cdb", toggled: false, options: validRcptToOptions },
  { id: "spf", group: "spf", title: "SPF", toggled: false, options: spfOptions },
  { id: "domainKeys", group: "domainKeys", title: "Domainkeys", toggled: true, options: domainKeysOptions },
  { id: "simscan", group: "simscan", title: "simscan", toggled: true, options: simscanOptions },
  { id: "qmailScanner", group: "qmailScanner", title: "qmail-scanner", toggled: true, options: qmailScannerOptions },
  { id: "log", group: "log", title: "log service", toggled: false, options: logOptions },
];

export interface CatalogEntry {
  section: OptionSection;
  key: string;
  /** Dotted name as written in a config, e.g. `jgreylist.holdTime`. */
  name: string;
  descriptor: OptionDescriptor;
}

let flat: readonly CatalogEntry[] | undefined;

/** Every option, flat, in script order (made once: the renderer asks for it per program and service). */
export function allOptions(): CatalogEntry[] {
  flat ??= OPTION_SECTIONS.flatMap((section) =>
    Object.entries(section.options).map(([key, descriptor]) => ({
      section,
      key,
      name: section.group ? `${section.group}.${key}` : key,
      descriptor,
    })),
  );
  return [...flat];
}

/** The group object of a service, or undefined when a toggled group is off. */
export function activeGroup(service: Record<string, unknown>, section: OptionSection): Record<string, unknown> | undefined {
  if (section.group === null) return service;
  const group = service[section.group] as Record<string, unknown> | undefined;
  if (!group) return undefined;
  if (section.toggled && group.enabled === false) return undefined;
  return group;
}
