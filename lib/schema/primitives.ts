// Value types shared by the option schema. Every string that reaches a run
// script goes through `scriptText`, so a newline or NUL can never split a
// line of the generated shell; everything else is shell-quoted at render time.
import { z } from "zod";

/** Characters that would break a generated script even inside single quotes. */
const SCRIPT_BREAKING = /[\n\r\0]/;

/** Any text that will appear in a script: no newline, carriage return or NUL. */
export function scriptText(what = "this value") {
  return z
    .string()
    .refine((s) => !SCRIPT_BREAKING.test(s), {
      message: `${what} must not contain a newline, carriage return or NUL byte: put it on one line`,
    });
}

/** Non-empty script text. */
export function nonEmptyText(what = "this value") {
  return scriptText(what).min(1, { message: `${what} must not be empty` });
}

/** An absolute path on the host, e.g. /var/qmail/control/validrcptto.cdb. */
export function absolutePath(what = "this path") {
  return scriptText(what)
    .refine((s) => s.startsWith("/"), { message: `${what} must be an absolute path (start with /)` })
    .refine((s) => !s.split("/").includes(".."), { message: `${what} must not contain '..'` });
}

/** A program: an absolute path, or a bare name looked up in the script's PATH. */
export function programPath(what = "this program") {
  return nonEmptyText(what).refine((s) => s.startsWith("/") || /^[A-Za-z0-9._+-]+$/.test(s), {
    message: `${what} must be an absolute path or a plain program name found in PATH (no spaces or relative directories)`,
  });
}

export function integer(min: number, max: number, what = "this value") {
  return z
    .number({ error: `${what} must be a number` })
    .int({ message: `${what} must be a whole number` })
    .min(min, { message: `${what} must be between ${min} and ${max}` })
    .max(max, { message: `${what} must be between ${min} and ${max}` });
}

export const tcpPort = () => integer(1, 65535, "the port");

/** A system user or group name as useradd accepts it. */
export function accountName(what = "the user") {
  return z.string().regex(/^[a-z_][a-z0-9_-]*\$?$/, {
    message: `${what} must be a system account name (lower case letters, digits, '_' and '-')`,
  });
}

/** A name that becomes part of an environment variable, e.g. RELAYCLIENT. */
export function envName(what = "the variable name") {
  return z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, {
    message: `${what} must be an environment variable name (letters, digits and '_', not starting with a digit)`,
  });
}

/** Directory names under the supervise and service roots. */
export const serviceName = () =>
  z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, {
    message: "the service name must use only a-z, 0-9, '_' and '-' (it becomes a directory name)",
  });

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export function isIPv4(s: string): boolean {
  return IPV4.test(s);
}

/** The address tcpserver binds: `0` for every address, an IPv4 or an IPv6 address. */
export const listenAddress = () =>
  z.string({ error: "ip is required: the address to listen on, or \"0\" for every address" }).refine(
    (s) => s === "0" || isIPv4(s) || z.ipv6().safeParse(s).success,
    { message: "ip must be an IPv4 or IPv6 address, or \"0\" for every address" },
  );

/** True for addresses only this machine can reach. */
export function isLoopback(ip: string): boolean {
  return ip.startsWith("127.") || ip === "::1";
}
