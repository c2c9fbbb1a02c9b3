// Files the config names on the machine that runs qmail-fleet (ssh.knownHostsFile,
// ssh.privateKeyFile, validRcptTo.files, tcpRules files): `~/` is the user's
// home directory, and a relative path is relative to the stack file's
// directory, which is also the project directory `pulumi up` runs in. The CLI
// and the Pulumi program resolve them with this one function.
import { homedir } from "node:os";
import { isAbsolute, resolve } from "node:path";

export function resolveLocalPath(path: string, baseDir: string): string {
  if (path === "~") return homedir();
  if (path.startsWith("~/")) return resolve(homedir(), path.slice(2));
  return isAbsolute(path) ? path : resolve(baseDir, path);
}
