// Reads one host's services (each /service/* link, its run and log/run, the
// files their options point at) and turns them into a stack config: YAML with
// comments, every line the config cannot express listed as a warning with its
// file and line, everything else kept.
import * as path from "node:path";
import { parseFleetConfig } from "../config";
import { buildTcpRules, type TcpRule } from "../cdb/tcprules";
import { dumpAuth, dumpTcpRules, dumpValidRcptTo } from "../cdb/dump";
import { buildValidRcptTo } from "../cdb/validrcptto";
import { runScriptMeaning, RunScriptError, type HostFacts } from "./run-script-meaning";
import { importService, ImportError, type ImportWarning } from "./service-import";
import type { HostSource } from "./host-source";
import { filesSourced } from "./script-value";
import { commented, toYaml, type YamlNode, type YamlObject } from "./yaml-writer";

export interface ImportOptions {
  /** Name of the host in the config. */
  hostName: string;
  /** Address SSH connects to, as written into the config. */
  address: string;
  /** The pinned key line, or a known_hosts file the config names instead. */
  hostKey?: string;
  knownHostsFile?: string;
  /** svscan's directory; default: the first of /service, /etc/service, /var/service that exists. */
  serviceDir?: string;
  /** Base name of side files the config refers to (the validrcptto list), e.g. `mx1`. */
  sideFilePrefix?: string;
}

export interface SideFile {
  /** Name relative to the config file. */
  name: string;
  bytes: Buffer;
  mode: number;
}

export interface HostImport {
  /** The stack file text (`config:` with `qmail-fleet:` keys). */
  yaml: string;
  /** The config as data (keys without the project prefix), as the loader reads it. */
  raw: Record<string, unknown>;
  warnings: ImportWarning[];
  sideFiles: SideFile[];
}

const SERVICE_DIRS = ["/service", "/etc/service", "/var/service"];

function accountsOf(passwd: string | undefined): Record<string, { uid: string; gid: string }> {
  const accounts: Record<string, { uid: string; gid: string }> = {};
  for (const line of (passwd ?? "").split("\n")) {
    const [name, , uid, gid] = line.split(":");
    if (name && /^[0-9]+$/.test(uid ?? "") && /^[0-9]+$/.test(gid ?? "")) accounts[name] = { uid, gid };
  }
  return accounts;
}

/** Group names by numeric id, from /etc/group. */
function groupsOf(group: string | undefined): Record<string, string> {
  const groups: Record<string, string> = {};
  for (const line of (group ?? "").split("\n")) {
    const [name, , gid] = line.split(":");
    if (name && /^[0-9]+$/.test(gid ?? "") && groups[gid] === undefined) groups[gid] = name;
  }
  return groups;
}

/**
 * Files the run and log scripts read through $(cat ...) or $(head ...), and
 * their envdirs, read from the host as facts in one batch. Not control/me:
 * its lookup maps onto the default local name.
 */
async function factsFor(run: string, logRun: string | undefined, serviceDir: string, source: HostSource): Promise<HostFacts> {
  const readings = [runScriptMeaning(run, { serviceDir })];
  if (logRun !== undefined) {
    try {
      readings.push(runScriptMeaning(logRun, { serviceDir: `${serviceDir}/log` }));
    } catch (error) {
      if (!(error instanceof RunScriptError)) throw error; // importLog names what it cannot read
    }
  }
  const lookups = new Set<string>();
  const envdirs = new Set<string>();
  const collect = (value: { segments: Array<string | { kind: string; subject: string }> }) => {
    for (const segment of value.segments)
      if (typeof segment !== "string" && (segment.kind === "contents" || segment.kind === "firstLine") && !segment.subject.endsWith("/control/me")) lookups.add(segment.subject);
  };
  for (const [index, first] of readings.entries()) {
    for (const variable of first.variables.values()) collect(variable.value);
    for (const stage of first.chain) [stage.program, ...stage.args].forEach(collect);
    for (const dir of first.environmentFrom) envdirs.add(path.posix.join(index === 0 ? serviceDir : `${serviceDir}/log`, dir));
  }
  // Files the script sources (`. /var/qmail/control/conf-common`), and the lookups their settings make.
  const sourced = filesSourced(run, serviceDir);
  for (const file of sourced) lookups.add(file);
  if (lookups.size === 0 && envdirs.size === 0) return {};
  const batch = await source.readBatch({ files: [...lookups], dirs: [...envdirs] });
  if (sourced.length > 0) {
    // What the sourced settings look up (MAXCONN=`head -1 control/concurrencyincoming`), read in a second batch.
    const known: Record<string, string> = {};
    for (const [file, bytes] of batch.files) if (bytes) known[file] = bytes.toString("utf8");
    const more = new Set<string>();
    try {
      for (const variable of runScriptMeaning(run, { serviceDir, facts: { files: known } }).variables.values())
        for (const segment of variable.value.segments)
          if (typeof segment !== "string" && (segment.kind === "contents" || segment.kind === "firstLine") && !segment.subject.endsWith("/control/me") && !batch.files.has(segment.subject)) more.add(segment.subject);
    } catch (error) {
      if (!(error instanceof RunScriptError)) throw error;
    }
    if (more.size > 0) for (const [file, bytes] of (await source.readBatch({ files: [...more] })).files) batch.files.set(file, bytes);
  }
  const files: Record<string, string> = {};
  const absentFiles: string[] = [];
  for (const [file, bytes] of batch.files) {
    if (bytes) files[file] = bytes.toString("utf8");
    else absentFiles.push(file);
  }
  const envdirValues: Record<string, Record<string, string | null>> = {};
  for (const [dir, contents] of batch.dirs) {
    if (!contents) continue;
    const values: Record<string, string | null> = {};
    // envdir: the first line, trailing blanks cut, NUL as newline; an empty file removes the variable.
    for (const [name, bytes] of [...contents].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      values[name] = bytes.length === 0 ? null : bytes.toString("utf8").split("\n")[0].replace(/[ \t]+$/, "").replace(/\0/g, "\n");
    envdirValues[dir] = values;
  }
  return { files, envdirs: envdirValues, absentFiles };
}

/**
 * Rules from the source file beside the cdb when it holds the same rules (it
 * compiles to the same bytes, or to them once each rule's variables are in
 * name order, as qmail-fleet builds the cdb after taking it over), else from
 * the cdb. `source` tells whether that file exists: once imported, the stack
 * config is what builds the cdb.
 */
async function importRules(cdbPath: string, source: HostSource, warn: (w: ImportWarning) => void): Promise<{ rules: TcpRule[]; source?: string } | undefined> {
  const cdb = await source.read(cdbPath);
  if (!cdb) {
    warn({ file: cdbPath, line: 0, message: "the rules cdb tcpserver -x names is missing: no tcpRules imported for it (tcpserver refuses every client without -X)" });
    return undefined;
  }
  let rules: TcpRule[];
  try {
    rules = dumpTcpRules(cdb);
  } catch (error) {
    warn({ file: cdbPath, line: 0, message: `not imported: ${(error as Error).message}` });
    return undefined;
  }
  const sourcePath = cdbPath.replace(/\.cdb$/, "");
  const text = sourcePath !== cdbPath ? await source.read(sourcePath) : undefined;
  if (text) {
    try {
      const fromSource = rulesFromSource(text.toString("utf8"), rules);
      if (buildTcpRules(text).equals(cdb) || fromSource !== rules) rules = fromSource;
      else
        warn({
          file: sourcePath,
          line: 0,
          message: `holds other rules than ${cdbPath} (edited since the cdb was last built, by tcprules or by qmail-fleet from a stack config?): the rules are taken from the cdb, which is what tcpserver uses`,
        });
    } catch (error) {
      warn({ file: sourcePath, line: 0, message: `cannot be compiled (${(error as Error).message.split("\n")[0]}): the rules are taken from the cdb` });
    }
  }
  if (!buildTcpRules(rules).equals(cdb))
    warn({ file: cdbPath, line: 0, message: "some rules set their variables out of name order: the config rebuilds this cdb with the same rules, variables in name order (tcpserver reads it per connection: no restart)" });
  return { rules, ...(text ? { source: sourcePath } : {}) };
}

/** The source's rules as written (a range stays one rule), when they compile to the same records as the cdb's. */
function rulesFromSource(text: string, fromCdb: TcpRule[]): TcpRule[] {
  const rules: TcpRule[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.replace(/[ \t]+$/, "");
    if (line === "" || line.startsWith("#")) continue;
    const colon = line.indexOf(":");
    const address = line.slice(0, colon);
    const rest = line.slice(colon + 1);
    const action = rest.startsWith("deny") ? "deny" : "allow";
    const env: Record<string, string> = {};
    let vars = rest.slice(action.length);
    while (vars.startsWith(",")) {
      const match = /^,([^=,]+)=(.)/.exec(vars);
      if (!match) return fromCdb;
      const end = vars.indexOf(match[2], match[0].length);
      if (end < 0) return fromCdb;
      env[match[1]] = vars.slice(match[0].length, end);
      vars = vars.slice(end + 1);
    }
    if (vars !== "") return fromCdb;
    rules.push({ address, action, ...(Object.keys(env).length > 0 ? { env } : {}) });
  }
  // Rendering sorts each rule's variables; keep the source only when that gives the same cdb.
  return buildTcpRules(rules).equals(buildTcpRules(fromCdb)) ? rules : fromCdb;
}

export async function importHost(source: HostSource, options: ImportOptions): Promise<HostImport> {
  const warnings: ImportWarning[] = [];
  const warn = (warning: ImportWarning) => warnings.push(warning);
  let serviceDir = options.serviceDir;
  if (!serviceDir) {
    for (const candidate of SERVICE_DIRS) if ((await source.list(candidate)) !== undefined) { serviceDir = candidate; break; }
    if (!serviceDir) throw new ImportError(`${source.name}: none of ${SERVICE_DIRS.join(", ")} exists: give --service-dir`);
  }
  const links = await source.list(serviceDir);
  if (!links) throw new ImportError(`${source.name}: ${serviceDir} cannot be read`);
  const idFiles = await source.readBatch({ files: ["/etc/passwd", "/etc/group"] });
  const accounts = accountsOf(idFiles.files.get("/etc/passwd")?.toString("utf8"));
  const groups = groupsOf(idFiles.files.get("/etc/group")?.toString("utf8"));
  // The host's qmail directory: the one most services read control/me from (else run qmail-smtpd from).
  const read = await readServices(source, serviceDir, links, accounts, groups, "/var/qmail", warn);
  const hints = read.flatMap((s) => (s.imported?.qmailDirHint ? [s.imported.qmailDirHint] : []));
  const qmailDir = mostCommon(hints.filter((h) => h.from === "control/me").map((h) => h.dir)) ?? mostCommon(hints.map((h) => h.dir)) ?? "/var/qmail";
  const services_ = qmailDir === "/var/qmail" ? read : await readServices(source, serviceDir, links, accounts, groups, qmailDir, () => undefined);

  const services: YamlNode[] = [];
  const serviceFields: Array<Record<string, unknown>> = [];
  const superviseDirs: string[] = [];
  const references = { accessRules: new Set<string>(), validRcptTo: new Set<string>(), authCdb: new Set<string>(), certificates: new Set<string>() };
  let scriptLines = 0;
  for (const { name, link, dir, imported } of services_) {
    if (!imported) continue;
    // Lines of the service's own files; a host fact (a group /etc/group does not name) counts with the other warnings.
    scriptLines += imported.warnings.filter((w) => w.file.startsWith(`${dir}/`)).length;
    if (!/^[a-z0-9][a-z0-9_-]*$/.test(name)) warn({ file: link, line: 0, message: `the name ${name} is not a valid service name in the config: rename it` });
    warnings.push(...imported.warnings);
    superviseDirs.push(path.posix.dirname(dir));
    const refs = imported.references;
    if (refs.accessRules) references.accessRules.add(refs.accessRules);
    if (refs.validRcptTo) references.validRcptTo.add(refs.validRcptTo);
    if (refs.authCdb) references.authCdb.add(refs.authCdb);
    if (refs.certificateFile) references.certificates.add(refs.certificateFile);
    serviceFields.push(imported.fields);
    const notes = imported.warnings.map((w) => `${w.file}:${w.line}: ${w.message}`);
    services.push(commented(notes.length > 0 ? ["Not carried over (see the warnings):", ...notes.map((n) => `  ${n}`)] : [], imported.fields as YamlObject));
  }

  // Host paths: where the service links and supervise directories are.
  const host: YamlObject = { name: options.hostName, address: options.address };
  host.ssh = options.hostKey ? { hostKey: options.hostKey } : { knownHostsFile: options.knownHostsFile ?? "~/.ssh/known_hosts" };
  if (qmailDir !== "/var/qmail") host.qmailDir = qmailDir;
  if (serviceDir !== "/service") host.serviceDir = serviceDir;
  const supervise = mostCommon(superviseDirs);
  if (supervise && supervise !== `${qmailDir}/supervise`) host.superviseDir = supervise;
  for (const [index, dir] of superviseDirs.entries())
    if (dir !== (supervise ?? dir)) warn({ file: `${serviceDir}/${String(serviceFields[index]?.name)}`, line: 0, message: `its directory is under ${dir}, not ${supervise}: the rendered service lives under superviseDir` });
  host.services = services;

  const raw: Record<string, unknown> = {};
  const document: YamlObject = {};
  const sideFiles: SideFile[] = [];
  const prefix = options.sideFilePrefix ?? options.hostName;

  // The files the options point at.
  const tcpRules: Record<string, unknown> = {};
  const tcpRulesNodes: YamlObject = {};
  for (const cdbPath of [...references.accessRules].sort()) {
    const imported = await importRules(cdbPath, source, warn);
    if (!imported) continue;
    tcpRules[cdbPath] = { rules: imported.rules };
    // After the take-over the stack config builds the cdb: an edit of the old source no longer reaches tcpserver.
    tcpRulesNodes[cdbPath] = commented(
      imported.source ? [`${cdbPath} is built from these rules, no longer from ${imported.source}: edit them here`] : [],
      { rules: imported.rules as unknown as YamlNode },
    );
  }
  const validRcptTo = [...references.validRcptTo].sort();
  if (validRcptTo.length > 1) warn({ file: validRcptTo[1], line: 0, message: `a second validrcptto.cdb: the config has one list for every service; only ${validRcptTo[0]} is imported` });
  if (validRcptTo.length > 0) {
    const cdb = await source.read(validRcptTo[0]);
    if (!cdb) warn({ file: validRcptTo[0], line: 0, message: "missing on the host: no validRcptTo entries imported" });
    else {
      try {
        const entries = dumpValidRcptTo(cdb);
        const name = `${prefix}-validrcptto.txt`;
        const list = Buffer.from(entries.map((e) => `${e}\n`).join(""));
        sideFiles.push({ name, bytes: list, mode: 0o644 });
        // The config builds the cdb from the list, keys sorted; a host's cdb written in another order differs in bytes only.
        if (!buildValidRcptTo(list).equals(cdb))
          warn({
            file: validRcptTo[0],
            line: 0,
            message: `its keys are not in the order qmail-fleet writes them (a cdb built from an unsorted list, e.g. with cdb -c): the config rebuilds it from ${name} in sorted order; same ${entries.length} addresses, other bytes, so pulumi up replaces the file`,
          });
        document["qmail-fleet:validRcptTo"] = commented([`${entries.length} entries of ${validRcptTo[0]}, one per line in ${name}`], { files: [name] });
        raw.validRcptTo = { files: [name] };
      } catch (error) {
        warn({ file: validRcptTo[0], line: 0, message: `not imported: ${(error as Error).message}` });
      }
    }
  }
  const authCdbs = [...references.authCdb].sort();
  if (authCdbs.length > 1) warn({ file: authCdbs[1], line: 0, message: `a second auth.cdb: the config has one user list for every service; only ${authCdbs[0]} is imported` });
  if (authCdbs.length > 0) {
    const cdb = await source.read(authCdbs[0]);
    if (!cdb) warn({ file: authCdbs[0], line: 0, message: "missing on the host: no authUsers imported" });
    else {
      try {
        const users = dumpAuth(cdb).map((user) => ({ ...user }) as unknown as YamlObject);
        document["qmail-fleet:authUsers"] = commented(
          [
            `${users.length} users of ${authCdbs[0]}, hashes as they are. Keep them out of plain text:`,
            "move this list into a secret, e.g. pulumi config set --secret --path 'authUsers' < users.json",
          ],
          users,
        );
        raw.authUsers = users;
      } catch (error) {
        warn({ file: authCdbs[0], line: 0, message: `not imported: ${(error as Error).message}` });
      }
    }
  }
  for (const file of [...references.certificates].sort())
    warn({
      file,
      line: 0,
      message: `certificate and key stay as they are on the host (not read: the key is a secret). To let qmail-fleet manage them: pulumi config set sslCertificate < the chain; ssh ${options.address} cat the key file | pulumi config set --secret sslKey`,
    });
  if (Object.keys(tcpRules).length > 0) {
    document["qmail-fleet:tcpRules"] = commented(["tcprules of the services' accessRules, first match wins"], tcpRulesNodes);
    raw.tcpRules = tcpRules;
  }

  raw.hosts = [{ ...host, services: serviceFields }];
  const beforeCheck = warnings.length;
  acknowledgeHazards(raw, serviceFields, services, warn);
  const checkFindings = warnings.length - beforeCheck;
  document["qmail-fleet:hosts"] = [host];
  const notImported = services_.filter((service) => !service.imported).length;
  const header = importHeader(source.name, serviceDir, {
    imported: serviceFields.length,
    notImported,
    scriptLines,
    checkFindings,
    other: warnings.length - scriptLines - notImported - checkFindings,
  });
  const ordered: YamlObject = {};
  for (const key of ["qmail-fleet:tcpRules", "qmail-fleet:validRcptTo", "qmail-fleet:authUsers", "qmail-fleet:hosts"]) if (document[key]) ordered[key] = document[key];
  return { yaml: toYaml({ config: ordered }, header), raw, warnings, sideFiles };
}

/** The stack file's first lines: what was imported, and each kind of warning counted apart. */
function importHeader(
  sourceName: string,
  serviceDir: string,
  counts: { imported: number; notImported: number; scriptLines: number; checkFindings: number; other: number },
): string[] {
  const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
  return [
    `Imported by qmail-fleet import from ${sourceName} (${serviceDir}).`,
    `${plural(counts.imported, "service", "services")} imported${counts.notImported > 0 ? `, ${counts.notImported} not (refused: the import printed why)` : ""}.`,
    `${plural(counts.scriptLines, "line", "lines")} of their scripts could not be expressed: each is listed above its service.`,
    ...(counts.checkFindings > 0 ? [`${plural(counts.checkFindings, "finding", "findings")} of the config check (hazards acknowledged, what validate warns about, or to fix by hand): printed by the import.`] : []),
    ...(counts.other > 0 ? [`${plural(counts.other, "other warning", "other warnings")} (link names, directories, the files the options point at): printed by the import.`] : []),
    "Check with: npx qmail-fleet validate <this file>",
  ];
}

interface ReadService {
  name: string;
  link: string;
  dir: string;
  imported?: ReturnType<typeof importService>;
}

/** Each service link's scripts, imported against the host's qmail directory. */
async function readServices(
  source: HostSource,
  serviceDir: string,
  links: string[],
  accounts: Record<string, { uid: string; gid: string }>,
  groups: Record<string, string>,
  qmailDir: string,
  warn: (w: ImportWarning) => void,
): Promise<ReadService[]> {
  const out: ReadService[] = [];
  for (const name of links) {
    if (name.startsWith(".")) continue;
    const link = `${serviceDir}/${name}`;
    const target = await source.readLink(link);
    const dir = target === undefined ? link : await finalTarget(source, path.posix.resolve(serviceDir, target));
    if (target === undefined) warn({ file: link, line: 0, message: "a directory, not a link: qmail-fleet links /service entries to their supervise directory" });
    // Everything the service's directory holds that the import reads, in one batch.
    const scripts = await source.readBatch({ files: [`${dir}/run`, `${dir}/log/run`, `${dir}/down`, `${qmailDir}/control/me`] });
    const run = scripts.files.get(`${dir}/run`);
    if (!run) {
      warn({ file: `${dir}/run`, line: 0, message: "no run script: service not imported" });
      out.push({ name, link, dir });
      continue;
    }
    const logRun = scripts.files.get(`${dir}/log/run`);
    const runText = run.toString("utf8");
    try {
      const facts = await factsFor(runText, logRun?.toString("utf8"), dir, source);
      const me = scripts.files.get(`${qmailDir}/control/me`);
      const localName = me?.toString("utf8").split("\n")[0];
      const imported = importService({ name, dir, run: runText, ...(localName ? { localName } : {}), ...(logRun ? { logRun: logRun.toString("utf8") } : {}), hostQmailDir: qmailDir, facts, accounts, groups });
      out.push({ name, link, dir, imported });
      // Only a service the config will hold is started by pulumi up.
      if (scripts.files.get(`${dir}/down`) !== undefined)
        warn({ file: `${dir}/down`, line: 0, message: "the service is down on purpose (a down file): pulumi up removes the down file and starts the service; leave the service out of the config if it must stay down" });
    } catch (error) {
      if (!(error instanceof Error) || error.name === "TypeError" || error.name === "RangeError") throw error;
      // The file and line go in front of the warning; the message need not say them again.
      const named = new RegExp(`^(?:${escapeRegExp(`${dir}/run`)}(?::([0-9]+))?|line ([0-9]+)): `).exec(error.message);
      const namedLine = named?.[1] ?? named?.[2];
      const line = error instanceof RunScriptError && error.line !== undefined ? error.line : namedLine !== undefined ? Number(namedLine) : undefined;
      warn({ file: `${dir}/run`, line: line ?? 0, message: `service not imported: ${named ? error.message.slice(named[0].length) : error.message}` });
      out.push({ name, link, dir });
    }
  }
  return out;
}

/** Where a chain of links ends (a /service link to another link to the supervise directory); 8 links at most. */
async function finalTarget(source: HostSource, file: string): Promise<string> {
  for (let depth = 0; depth < 8; depth++) {
    const next = await source.readLink(file);
    if (next === undefined) return file;
    file = path.posix.resolve(path.posix.dirname(file), next);
  }
  return file;
}

/** A service that runs with a hazard today keeps running with it: acknowledged, and said so. */
function acknowledgeHazards(raw: Record<string, unknown>, serviceFields: Array<Record<string, unknown>>, services: YamlNode[], warn: (w: ImportWarning) => void): void {
  const parsed = parseFleetConfig(raw, {});
  for (const error of parsed.ok ? [] : parsed.errors) {
    const match = /^hosts\[0\]\.services\[(\d+)\][^:]*$/.exec(error.path);
    const hazard = /^hazard ([a-z-]+):/.exec(error.message);
    if (match && hazard) {
      const index = Number(match[1]);
      const fields = serviceFields[index];
      const list = ((fields.acknowledge ??= []) as string[]);
      if (!list.includes(hazard[1])) list.push(hazard[1]);
      const node = services[index] as { comments: string[] };
      node.comments.unshift(`It runs like this today: hazard ${hazard[1]} acknowledged so the import changes nothing. Review it.`);
      warn({ file: `service ${String(fields.name)}`, line: 0, message: `${error.message.replace(/; change it, or accept.*$/, "")}: acknowledged in the imported config; review it` });
    } else warn({ file: "the imported config", line: 0, message: `does not validate, fix it by hand: ${error.path}: ${error.message}` });
  }
  // What `qmail-fleet validate` would warn about the config as written; the hazards acknowledged above are said already.
  const checked = parseFleetConfig(raw, {});
  if (checked.ok)
    for (const warning of checked.warnings.filter((w) => !/^hazard [a-z-]+ \(acknowledged\)/.test(w.message)))
      warn({ file: warning.path, line: 0, message: `validate warns: ${warning.message}` });
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function mostCommon(values: string[]): string | undefined {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]?.[0];
}
