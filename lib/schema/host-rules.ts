// Rules about one host as a whole, after its services are merged: the paths
// its services write, read and link (which must not collide with each other,
// with qmail's own files or with the system's, whatever the files hold), the
// addresses and ports they listen on (compared after normalizing), and the
// host's own directories. Pure.
import { certificatePathOf } from "./tls-paths";
import type { ServiceConfig } from "./service";
import { isActive } from "./service-rules";
import { isIPv6Listen, normalizeIp } from "./primitives";

export interface HostFinding {
  /** Index of the service to blame, or undefined for the host itself. */
  service?: number;
  /** Relative to the service (or to the host when `service` is undefined). */
  path: Array<string | number>;
  message: string;
}

export interface HostPaths {
  name: string;
  qmailDir: string;
  serviceDir: string;
  superviseDir: string;
  sshPort: number;
}

/** What a path is to a service: written by qmail-fleet, read by a program, or made as a directory. */
interface PathUse {
  path: string;
  role: string;
  /** Uses of one role may share a path (two services reading one auth.cdb); two roles may not. */
  shareable: boolean;
  kind: "file" | "directory" | "link";
  service?: number;
  field: Array<string | number>;
  /** Who owns it, for messages: "service 'smtpd' (auth.cdbFile)". */
  by: string;
}

/** qmail's own directories under its qmail directory: nothing of a service's belongs there. */
const QMAIL_DIRS = ["bin", "boot", "doc", "man", "queue", "users", "alias"];

/** Files of qmail's control directory that qmail itself reads, each in its own format. */
const QMAIL_CONTROL_FILES = new Set([
  "badhelo", "badmailfrom", "badmailto", "badrcptto", "bouncefrom", "bouncehost", "concurrencyincoming", "concurrencylocal",
  "concurrencyremote", "databytes", "defaultdomain", "defaulthost", "doublebouncehost", "doublebounceto", "envnoathost", "helohost",
  "idhost", "localiphost", "locals", "me", "morercpthosts", "morercpthosts.cdb", "mfcheck", "percenthack", "plusdomain", "qmqpservers",
  "queuelifetime", "rcpthosts", "smtpgreeting", "smtproutes", "spfbehavior", "spfexp", "spfguess", "spfrules", "timeoutconnect",
  "timeoutremote", "timeoutsmtpd", "tlsclientciphers", "tlsserverciphers", "virtualdomains", "dh1024.pem", "dh512.pem", "rsa512.pem",
]);

/** System directories no service file may be, and no jgreylist directory may be or contain. */
const SYSTEM_DIRS = new Set([
  "/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib32", "/lib64", "/libx32", "/media", "/mnt", "/opt", "/proc", "/root",
  "/run", "/sbin", "/srv", "/sys", "/tmp", "/usr", "/usr/bin", "/usr/sbin", "/usr/lib", "/usr/lib64", "/usr/local", "/usr/local/bin",
  "/usr/local/sbin", "/usr/local/lib", "/usr/share", "/var", "/var/lib", "/var/log", "/var/run", "/var/tmp", "/var/spool", "/var/mail",
  "/etc/ssh", "/etc/sudoers.d", "/etc/systemd", "/etc/init.d", "/etc/cron.d", "/etc/ssl", "/etc/ssl/private", "/etc/ssl/certs",
]);

/** Trees no file of a service may be in: the kernel's, the boot loader's, the system's programs and startup. */
const SYSTEM_TREES = ["/proc", "/sys", "/dev", "/boot", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/usr/bin", "/usr/sbin", "/usr/lib", "/etc/ssh", "/etc/sudoers.d", "/etc/systemd", "/etc/init.d", "/etc/cron.d", "/etc/pam.d"];

/** Files of the system a service file must never replace. */
const SYSTEM_FILES = new Set([
  "/etc/passwd", "/etc/shadow", "/etc/group", "/etc/gshadow", "/etc/sudoers", "/etc/hosts", "/etc/hostname", "/etc/resolv.conf",
  "/etc/fstab", "/etc/crontab", "/etc/nsswitch.conf", "/etc/login.defs", "/etc/profile", "/etc/environment", "/etc/shells",
  "/etc/mailname", "/etc/aliases",
]);

const within = (path: string, dir: string) => dir === "/" ? path !== "/" : path.startsWith(`${dir}/`);

/** The uses of paths by every service of a host. */
function pathUses(host: HostPaths, services: readonly ServiceConfig[]): PathUse[] {
  const uses: PathUse[] = [];
  services.forEach((s, service) => {
    const own = (field: Array<string | number>) => `${field.join(".")} of service '${s.name}'`;
    const dir = `${host.superviseDir}/${s.name}`;
    uses.push({ path: dir, role: "service directory", shareable: false, kind: "directory", service, field: ["name"], by: `service '${s.name}'` });
    uses.push({ path: `${host.serviceDir}/${s.name}`, role: "svscan link", shareable: false, kind: "link", service, field: ["name"], by: `service '${s.name}'` });
    if (isActive(s.jgreylist))
      uses.push({ path: s.jgreylist!.dir, role: "jgreylist directory", shareable: true, kind: "directory", service, field: ["jgreylist", "dir"], by: own(["jgreylist", "dir"]) });
    const certificate = certificatePathOf(s);
    if (certificate !== undefined)
      uses.push({
        path: certificate,
        role: "certificate file",
        shareable: true,
        kind: "file",
        service,
        field: ["certificateFile"],
        by: s.certificateFile ? own(["certificateFile"]) : `the default certificateFile of service '${s.name}'`,
      });
    if (s.ssl && s.keyFile && s.keyFile !== certificate)
      uses.push({ path: s.keyFile, role: "certificate file", shareable: true, kind: "file", service, field: ["keyFile"], by: own(["keyFile"]) });
    if (s.auth.method === "cdb" && s.auth.cdbFile)
      uses.push({ path: s.auth.cdbFile, role: "auth.cdb", shareable: true, kind: "file", service, field: ["auth", "cdbFile"], by: own(["auth", "cdbFile"]) });
    if (s.validRcptTo.cdbFile)
      uses.push({ path: s.validRcptTo.cdbFile, role: "validrcptto.cdb", shareable: true, kind: "file", service, field: ["validRcptTo", "cdbFile"], by: own(["validRcptTo", "cdbFile"]) });
    if (s.accessRules)
      uses.push({ path: s.accessRules, role: "tcprules cdb", shareable: true, kind: "file", service, field: ["accessRules"], by: own(["accessRules"]) });
  });
  return uses;
}

/** Collisions between the paths of a host's services, and with qmail's and the system's own. */
export function hostPathFindings(host: HostPaths, services: readonly ServiceConfig[]): HostFinding[] {
  const findings: HostFinding[] = [];
  const hostDirs: Array<[string, "qmailDir" | "serviceDir" | "superviseDir"]> = [
    [host.qmailDir, "qmailDir"],
    [host.serviceDir, "serviceDir"],
    [host.superviseDir, "superviseDir"],
  ];
  // The host's own directories.
  for (const [dir, field] of hostDirs)
    if (SYSTEM_DIRS.has(dir)) findings.push({ path: [field], message: `${field} ${dir} is a system directory: give qmail's own directory (for example /var/qmail${field === "serviceDir" ? " and /service" : ""})` });
  if (host.serviceDir === host.superviseDir)
    findings.push({ path: ["serviceDir"], message: `serviceDir and superviseDir are both ${host.serviceDir}: svscan would find each service's directory and its own link to it in one place; keep them apart (/service and /var/qmail/supervise)` });
  else if (within(host.serviceDir, host.superviseDir) || within(host.superviseDir, host.serviceDir))
    findings.push({ path: ["serviceDir"], message: `serviceDir ${host.serviceDir} and superviseDir ${host.superviseDir} are inside one another: svscan would start the service directories themselves; keep them apart` });
  if (host.superviseDir === host.qmailDir)
    findings.push({ path: ["superviseDir"], message: `superviseDir is qmail's own directory ${host.qmailDir}: a service named bin or control would replace qmail's; use ${host.qmailDir}/supervise` });
  if (within(host.qmailDir, host.serviceDir))
    findings.push({ path: ["qmailDir"], message: `qmailDir ${host.qmailDir} is inside serviceDir ${host.serviceDir}: svscan would take it for a service; keep them apart` });

  const all = pathUses(host, services);
  const uses: PathUse[] = [];
  for (const use of all) {
    const problem = qmailOrSystemCollision(use, host);
    if (problem) findings.push({ service: use.service, path: use.field, message: `${use.path} (${use.by}) ${problem}` });
    else uses.push(use);
  }
  // Between the uses: one path, one role; and no path inside another that is a file or link.
  const reported = new Set<string>();
  for (let later = 0; later < uses.length; later++) {
    for (let earlier = 0; earlier < later; earlier++) {
      const [a, b] = [uses[earlier], uses[later]];
      const blame = { service: b.service, path: b.field };
      const once = `${later}\0${a.path}`;
      if (reported.has(once)) continue;
      const before = findings.length;
      if (a.path === b.path) {
        if (a.role === b.role && a.shareable) continue;
        // Two services of one name: already refused as a duplicate name.
        if (a.role === b.role && services[a.service!].name === services[b.service!].name) continue;
        findings.push({
          ...blame,
          message: `${b.path} is the ${b.role} (${b.by}) and also the ${a.role} (${a.by}): ${consequence(a.role, b.role)}; give each its own path`,
        });
      } else if (within(b.path, a.path) && a.kind !== "directory")
        findings.push({ ...blame, message: `${b.path} (${b.by}) is inside ${a.path} (${a.by}), which is a file, not a directory: choose another path` });
      else if (within(a.path, b.path) && b.kind !== "directory")
        findings.push({ ...blame, message: `${b.path} (${b.by}) would need to be a directory for ${a.path} (${a.by}): choose another path` });
      else if (within(b.path, a.path) && a.role === "service directory" && b.service !== a.service)
        findings.push({ ...blame, message: `${b.path} (${b.by}) is inside the directory of service '${services[a.service!].name}', which qmail-fleet manages: choose a path outside ${a.path}` });
      else if (within(a.path, b.path) && b.role === "jgreylist directory")
        findings.push({ ...blame, message: `jgreylist directory ${b.path} (${b.by}) would hold ${a.path} (${a.by}), but it is made private to the service user (0700): choose a directory of its own` });
      else if (within(b.path, a.path) && a.role === "jgreylist directory")
        findings.push({ ...blame, message: `${b.path} (${b.by}) is inside the jgreylist directory ${a.path}, which jgreylist fills with files of its own: choose another path` });
      if (findings.length > before) reported.add(once);
    }
  }
  return findings;
}

function consequence(a: string, b: string): string {
  const roles = new Set([a, b]);
  if (roles.has("auth.cdb") && roles.has("validrcptto.cdb")) return "qmail-smtpd would look users and recipients up in one file";
  if (roles.has("certificate file")) return "sslserver or qmail-smtpd would read a file that is not a certificate";
  if (roles.has("jgreylist directory")) return "one path cannot be a directory and a file";
  return "one file cannot be both";
}

/** An address and port as one reads them: 192.0.2.10:25, [2001:db8::10]:25. */
const socketText = (ip: string, port: number) => (ip.includes(":") ? `[${ip}]:${port}` : `${ip}:${port}`);

/** Why a path of a service collides with qmail's or the system's own, or undefined. */
function qmailOrSystemCollision(use: PathUse, host: HostPaths): string | undefined {
  const { path } = use;
  const q = host.qmailDir;
  if (path === q)
    return use.kind === "directory" ? `is qmail's own directory: give the service a directory of its own, such as ${q}/jgreylist` : `is qmail's own directory: choose a file inside it, such as ${q}/control/<file>`;
  const qmailDir = QMAIL_DIRS.find((d) => path === `${q}/${d}` || within(path, `${q}/${d}`));
  if (qmailDir) return `is in qmail's own ${q}/${qmailDir}, where it would ${qmailDir === "queue" ? "corrupt the mail queue" : "replace qmail's files"}: choose another path, for example in ${q}/control`;
  if (path === `${q}/control`) return `is qmail's control directory itself: choose a file in it, such as ${q}/control/validrcptto.cdb`;
  if (path.startsWith(`${q}/control/`) && QMAIL_CONTROL_FILES.has(path.slice(q.length + 9)))
    return `is qmail's own control file ${path.slice(q.length + 1)}, which qmail reads in a format of its own: choose another name`;
  if (use.role !== "service directory" && use.role !== "svscan link") {
    if (path === host.superviseDir || path === host.serviceDir) return `is the host's ${path === host.serviceDir ? "serviceDir" : "superviseDir"}: choose another path`;
    if (within(path, host.serviceDir)) return `is inside serviceDir ${host.serviceDir}, where svscan takes every entry for a service: choose another path`;
  }
  if (SYSTEM_FILES.has(path)) return "is a file of the system that must never be replaced: choose another path";
  if (SYSTEM_DIRS.has(path)) return `is a system directory${use.kind === "directory" ? ", which would be made private to the service user" : ""}: choose a path of its own`;
  const tree = SYSTEM_TREES.find((t) => within(path, t));
  if (tree) return `is inside ${tree}, which belongs to the system: choose a path under ${q} or /etc instead`;
  return undefined;
}

/** Listening collisions (after normalizing the addresses), the SSH port, and what IPv6 needs. */
export function hostListenFindings(host: HostPaths, services: readonly ServiceConfig[]): { errors: HostFinding[]; warnings: HostFinding[] } {
  const errors: HostFinding[] = [];
  const warnings: HostFinding[] = [];
  services.forEach((s, index) => {
    if (s.port === host.sshPort)
      errors.push({
        service: index,
        path: ["port"],
        message: `port ${s.port} is the host's SSH port, which sshd holds: tcpserver could not listen and qmail-fleet would lose its way in; choose another port`,
      });
    if (isIPv6Listen(s.ip))
      warnings.push({
        service: index,
        path: ["ip"],
        message: `ip ${s.ip} is an IPv6 address: it needs a tcpserver built with IPv6 support (Debian's ucspi-tcp-ipv6); the plain ucspi-tcp tcpserver refuses it and the service would not start`,
      });
  });
  for (let later = 0; later < services.length; later++) {
    for (let earlier = 0; earlier < later; earlier++) {
      const [a, b] = [services[earlier], services[later]];
      if (a.port !== b.port) continue;
      const [na, nb] = [normalizeIp(a.ip), normalizeIp(b.ip)];
      if (na !== nb && na !== "any" && nb !== "any") continue;
      const why = na === "any" || nb === "any" ? ` (ip ${na === "any" ? a.ip : b.ip} takes the port on every address)` : a.ip !== b.ip ? ` (${a.ip} and ${b.ip} are one address)` : "";
      errors.push({
        service: later,
        path: ["port"],
        message: `services '${a.name}' (${socketText(a.ip, a.port)}) and '${b.name}' (${socketText(b.ip, b.port)}) collide${why}: give them different ports or distinct specific addresses`,
      });
    }
  }
  return { errors, warnings };
}
