// The corpus of hand-written run scripts the importer must understand. Each
// entry is a directory holding what a host would have for one service:
//
//   run, log/run     the service's scripts (copy to <superviseDir>/<service>/)
//   env/             an envdir the run script reads, where the style has one
//   files/           other host files, at their host paths (files/var/qmail/control/tcp.smtp
//                    is /var/qmail/control/tcp.smtp); tcprules sources are compiled
//                    to the cdb named in `tcprules` before the service starts
//   README           one line naming the style
//
// Every script listens on CORPUS_ADDRESS; a test puts its own sandbox address
// in its place with scriptForAddress() before installing the script.
import * as fs from "node:fs";
import * as path from "node:path";

export const CORPUS_DIR = path.join(__dirname);

/** The address every corpus script listens on, replaced by a test's sandbox address. */
export const CORPUS_ADDRESS = "192.0.2.25";

export interface CorpusEntry {
  /** Directory name under test/import, e.g. `01-lwq-smtpd`. */
  id: string;
  /** Absolute path of the entry's directory. */
  dir: string;
  /** Name the service has on a host (its supervise directory and /service link). */
  service: string;
  /** Port the run script listens on. */
  port: number;
  /** The README line. */
  style: string;
  /** Programs of the chain that the sandbox does not have (no Debian package, no stand-in allowed). */
  needs: string[];
  /** tcprules sources (host paths) and the cdb each compiles to. */
  tcprules: Array<{ source: string; cdb: string }>;
  /** Host paths of every file under files/ (tcprules sources included). */
  files: string[];
}

interface EntryFacts {
  service: string;
  port: number;
  needs?: string[];
}

const ENTRIES: Record<string, EntryFacts> = {
  "01-lwq-smtpd": { service: "qmail-smtpd", port: 25 },
  "02-lwq-rblsmtpd": { service: "qmail-smtpd", port: 25 },
  "03-patch-script-mx": { service: "smtpd", port: 25 },
  "04-patch-script-submission": { service: "submission", port: 587 },
  "05-patch-script-authcdb": { service: "submission", port: 587 },
  "06-qmailtoaster-smtp": { service: "smtp", port: 25 },
  "07-qmailtoaster-submission": { service: "submission", port: 587 },
  "08-mail-toaster-smtpd": { service: "smtp", port: 25 },
  "09-mail-toaster-submission": { service: "submit", port: 587 },
  "10-envdir-chain": { service: "smtpd", port: 25 },
  "11-softlimit-setuidgid": { service: "smtpd", port: 25 },
  "12-rblsmtpd-lists": { service: "smtpd", port: 25 },
  "13-recordio-debug": { service: "smtpd-debug", port: 2525 },
  "14-sslserver-smtps": { service: "smtps", port: 465, needs: ["sslserver"] },
  "15-jgreylist": { service: "smtpd", port: 25, needs: ["jgreylist"] },
  "16-simscan-debug": { service: "smtpd", port: 25 },
  "17-qmail-scanner": { service: "smtpd", port: 25 },
  "18-unexpressible": { service: "smtpd", port: 25 },
  "19-tcpserver-limits": { service: "smtpd", port: 25 },
  "20-export-forms": { service: "smtpd", port: 25 },
  "21-variable-in-backquotes": { service: "smtpd", port: 2532 },
  "22-patch-script-export-loop": { service: "smtpd", port: 2525 },
};

function filesUnder(root: string, prefix = ""): string[] {
  if (!fs.existsSync(root)) return [];
  return fs
    .readdirSync(root, { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : 1))
    .flatMap((entry) =>
      entry.isDirectory() ? filesUnder(path.join(root, entry.name), `${prefix}/${entry.name}`) : [`${prefix}/${entry.name}`],
    );
}

/** Every corpus entry, in directory order. */
export function corpusEntries(): CorpusEntry[] {
  const ids = fs
    .readdirSync(CORPUS_DIR, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  return ids.map((id) => {
    const facts = ENTRIES[id];
    if (!facts) throw new Error(`test/import/${id} has no entry in test/import/corpus.ts`);
    const dir = path.join(CORPUS_DIR, id);
    const files = filesUnder(path.join(dir, "files"));
    return {
      id,
      dir,
      service: facts.service,
      port: facts.port,
      style: fs.readFileSync(path.join(dir, "README"), "utf8").trim(),
      needs: facts.needs ?? [],
      tcprules: files.filter((file) => /\/tcp\.[a-z]+$/.test(file)).map((source) => ({ source, cdb: `${source}.cdb` })),
      files,
    };
  });
}

/** A corpus script with the sandbox address in place of CORPUS_ADDRESS. */
export function scriptForAddress(text: string, address: string): string {
  return text.split(CORPUS_ADDRESS).join(address);
}

/**
 * A copy of a host's files holding the given entries, as `qmail-fleet import
 * --from-dir` reads it: ROOT/service/<service> links to
 * /var/qmail/supervise/<service>, the entries' files at their host paths,
 * each tcprules source compiled beside it, control/me (mx.corpus.test) and
 * ROOT/etc/passwd with qmaild, ROOT/etc/group with its group nofiles.
 * Entries with the same service name get a numbered suffix.
 */
export function writeHostCopy(root: string, entries: CorpusEntry[], compileRules: (source: Buffer) => Buffer, address = CORPUS_ADDRESS): Map<CorpusEntry, string> {
  const names = new Map<CorpusEntry, string>();
  const used = new Set<string>();
  fs.mkdirSync(path.join(root, "service"), { recursive: true });
  fs.mkdirSync(path.join(root, "etc"), { recursive: true });
  fs.mkdirSync(path.join(root, "var/qmail/control"), { recursive: true });
  fs.writeFileSync(path.join(root, "var/qmail/control/me"), "mx.corpus.test\n");
  fs.writeFileSync(path.join(root, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\nqmaild:x:7791:2108::/var/qmail:/usr/sbin/nologin\nqmaill:x:7792:2108::/var/qmail:/usr/sbin/nologin\n");
  fs.writeFileSync(path.join(root, "etc/group"), "root:x:0:\nnofiles:x:2108:\n");
  for (const entry of entries) {
    let name = entry.service;
    for (let n = 2; used.has(name); n++) name = `${entry.service}${n}`;
    used.add(name);
    names.set(entry, name);
    const dir = path.join(root, "var/qmail/supervise", name);
    fs.mkdirSync(path.join(dir, "log"), { recursive: true });
    fs.writeFileSync(path.join(dir, "run"), scriptForAddress(fs.readFileSync(path.join(entry.dir, "run"), "utf8"), address), { mode: 0o755 });
    fs.writeFileSync(path.join(dir, "log/run"), fs.readFileSync(path.join(entry.dir, "log/run")), { mode: 0o755 });
    const envDir = path.join(entry.dir, "env");
    if (fs.existsSync(envDir)) fs.cpSync(envDir, path.join(dir, "env"), { recursive: true });
    for (const file of entry.files) {
      fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
      fs.copyFileSync(path.join(entry.dir, "files", file), path.join(root, file));
    }
    for (const rules of entry.tcprules) fs.writeFileSync(path.join(root, rules.cdb), compileRules(fs.readFileSync(path.join(entry.dir, "files", rules.source))));
    fs.symlinkSync(`/var/qmail/supervise/${name}`, path.join(root, "service", name));
  }
  return names;
}
