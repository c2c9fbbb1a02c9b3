// What the SupervisedService dynamic resource does: link a service into the
// svscan directory, restart it (or only its log) when something it reads at
// start changed, check it came up, and take it down cleanly when removed.
import type * as pulumi from "@pulumi/pulumi";
import {
  bringUp,
  ensureSymlink,
  inspectPath,
  serviceState,
  readBanner,
  restartService,
  teardownService,
  waitUntilUp,
} from "./host-operations";
import { withoutUndefined } from "./plain-props";
import type { Connection } from "./ssh-connection";

export interface SupervisedServiceProps {
  connection: Omit<Connection, "privateKey">;
  privateKey?: string;
  name: string;
  /** e.g. /var/qmail/supervise/smtpd */
  dir: string;
  /** e.g. /service/smtpd */
  link: string;
  listen: { ip: string; port: number };
  /** Read the SMTP banner after a start (not for SSL-wrapped services). */
  checkBanner: boolean;
  /** Hash of everything `run` reads at start: a change restarts the service. */
  serviceTrigger: string;
  /** Hash of log/run: a change restarts only the log service. */
  logTrigger: string;
  /** Output only, as last seen: the link's target ("" when missing) and whether supervise runs it. */
  linkTarget?: string;
  running?: boolean;
  /** Output only: the banner read at the last start. */
  banner?: string;
}

function connectionOf(props: SupervisedServiceProps): Connection {
  return { ...props.connection, privateKey: props.privateKey };
}

export async function diff(
  _id: string,
  olds: SupervisedServiceProps,
  news: SupervisedServiceProps,
): Promise<pulumi.dynamic.DiffResult> {
  const replaces = ["dir", "link"].filter((key) => olds[key as "dir"] !== news[key as "dir"]);
  const changes =
    replaces.length > 0 ||
    olds.serviceTrigger !== news.serviceTrigger ||
    olds.logTrigger !== news.logTrigger ||
    olds.linkTarget !== news.dir ||
    olds.running === false ||
    JSON.stringify(olds.listen) !== JSON.stringify(news.listen) ||
    olds.checkBanner !== news.checkBanner ||
    JSON.stringify(olds.connection) !== JSON.stringify(news.connection) ||
    (olds.privateKey ?? "") !== (news.privateKey ?? "");
  // A moved service must be gone before its successor takes the port.
  return { changes, replaces, deleteBeforeReplace: true };
}

async function healthCheck(connection: Connection, props: SupervisedServiceProps): Promise<string | undefined> {
  await waitUntilUp(connection, props.dir);
  await waitUntilUp(connection, `${props.dir}/log`);
  if (!props.checkBanner) return undefined;
  const banner = await readBanner(connection, props.listen.ip, props.listen.port);
  if (!banner.startsWith("220 ")) {
    throw new Error(
      `${props.connection.host}: service ${props.name} is up but answers ${JSON.stringify(banner)} on ` +
        `${props.listen.ip}:${props.listen.port} instead of a 220 banner; see ${props.dir}/log/main/current`,
    );
  }
  return banner;
}

export async function create(inputs: SupervisedServiceProps): Promise<pulumi.dynamic.CreateResult> {
  const connection = connectionOf(inputs);
  await ensureSymlink(connection, { path: inputs.link, target: inputs.dir });
  const banner = await healthCheck(connection, inputs);
  return {
    id: `${inputs.connection.host}:${inputs.name}`,
    outs: withoutUndefined({ ...inputs, linkTarget: inputs.dir, running: true, banner }),
  };
}

export async function update(
  _id: string,
  olds: SupervisedServiceProps,
  news: SupervisedServiceProps,
): Promise<pulumi.dynamic.UpdateResult> {
  const connection = connectionOf(news);
  let started = false;
  if (olds.linkTarget !== news.dir) {
    await ensureSymlink(connection, { path: news.link, target: news.dir });
    started = true;
  }
  // A newly linked service starts with the new run script; otherwise restart what changed.
  if (olds.running === false) await bringUp(connection, news.dir);
  if (!started && olds.serviceTrigger !== news.serviceTrigger) await restartService(connection, news.dir, "service");
  if (!started && olds.logTrigger !== news.logTrigger) await restartService(connection, news.dir, "log");
  const banner = await healthCheck(connection, news);
  return { outs: withoutUndefined({ ...news, linkTarget: news.dir, running: true, banner: banner ?? olds.banner }) };
}

export async function remove(_id: string, props: SupervisedServiceProps): Promise<void> {
  await teardownService(connectionOf(props), props.dir, props.link);
}

export async function read(id: string, props: SupervisedServiceProps): Promise<pulumi.dynamic.ReadResult> {
  const connection = connectionOf(props);
  const link = await inspectPath(connection, props.link);
  const current = {
    ...props,
    linkTarget: link.present && link.type === "symlink" ? (link.target ?? "") : "",
    running: (await serviceState(connection, props.dir)) === "up",
  };
  // linkTarget, running and banner are observations, not settings: outputs only.
  const { linkTarget: _link, running: _running, banner: _banner, ...inputs } = current;
  return { id, props: withoutUndefined(current), inputs: withoutUndefined(inputs) };
}
