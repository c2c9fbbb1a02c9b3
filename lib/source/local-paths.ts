// Files the config names on the machine that runs qmail-fleet (ssh.knownHostsFile,
// ssh.privateKeyFile, validRcptTo.files, tcpRules files): `~/` is the user's
// home directory, and a relative path is relative to the stack file's
// directory, which is also the project directory `pulumi up` runs in. The CLI
// and the Pulumi program resolve them with this one function.
import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";
import { homedir } from "node:os";
import { isAbsolute, resolve } from "node:path";

export function resolveLocalPath(path: string, baseDir: string): string {
  if (path === "~") return homedir();
  if (path.startsWith("~/")) return resolve(homedir(), path.slice(2));
  return isAbsolute(path) ? path : resolve(baseDir, path);
}

/** The largest local file a config may name: a validrcptto list of some ten million addresses. */
export const MAX_LOCAL_FILE_BYTES = 512 * 1024 * 1024;

/**
 * Reads a local file the config names, refusing what is not a regular file
 * (a device such as /dev/zero, a FIFO, a directory) and stopping past
 * `maxBytes`, so no path in a config can make the reader wait or fill memory.
 */
export function readLocalFile(path: string, maxBytes = MAX_LOCAL_FILE_BYTES): Buffer {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const stat = fstatSync(fd);
    if (stat.isDirectory()) throw Object.assign(new Error("it is a directory"), { code: "EISDIR" });
    if (!stat.isFile()) throw Object.assign(new Error("it is not a regular file (a device, a pipe or a socket)"), { code: "ENOTREG" });
    if (stat.size > maxBytes) throw Object.assign(new Error(`it is ${stat.size} bytes, more than the ${maxBytes} a config may name`), { code: "EFBIG" });
    const chunks: Buffer[] = [];
    let total = 0;
    const chunk = Buffer.alloc(1024 * 1024);
    for (;;) {
      const read = readSync(fd, chunk, 0, chunk.length, null);
      if (read === 0) break;
      total += read;
      if (total > maxBytes) throw Object.assign(new Error(`it is more than the ${maxBytes} bytes a config may name`), { code: "EFBIG" });
      chunks.push(Buffer.from(chunk.subarray(0, read)));
    }
    return Buffer.concat(chunks, total);
  } finally {
    closeSync(fd);
  }
}

/** Why a local file could not be read, in words: "no such file", "permission denied", ... */
export function describeReadError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return "no such file";
  if (code === "EACCES") return "permission denied";
  if (code === "EISDIR") return "it is a directory";
  if (code === "ENOTDIR") return "a directory on its path is a file";
  if (code === "EIO") return "the system cannot read it (i/o error)";
  return (error as Error).message;
}
