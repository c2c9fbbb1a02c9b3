// A service whose program dies at start is restarted by supervise every
// second: any one svstat shows it "up 0 seconds" or "down 0 seconds", which
// alone cannot be told from a service restarted a moment ago on purpose. So a
// refresh that finds a service (or its log) started or stopped within the
// last few seconds reads it again, twice, a little later: a service restarted
// once (by an update, or by a single crash) is found on the same process in
// the later readings; one in a restart loop has changed again in both. Pure
// apart from the readings handed in.
import type { ObservedService, ObservedSupervise } from "./host-operations";

/** A part started or stopped at most this many seconds ago is read again. */
export const RECENT_SECONDS = 3;
/** How long to wait between the readings: longer than supervise's one-second pause between restarts. */
export const READING_INTERVAL_MS = 2000;
/** Later readings in which a part must have changed again to count as restarting. */
const CHANGES_FOR_A_LOOP = 2;

/** Services to read again: a part that started or went down moments ago (not one kept down by a down file). */
export function recentlyStarted(services: Map<string, ObservedService>): string[] {
  const recent = (part: ObservedSupervise) => part.supervised && part.age !== undefined && part.age <= RECENT_SECONDS;
  return [...services]
    .filter(([, found]) => !found.downFile && (recent(found.service) || recent(found.log)))
    .map(([name]) => name)
    .sort();
}

/**
 * The services that restarted again and again over the readings (oldest
 * first): the service or its log went up or down, or came up on another
 * process, since the reading before, in at least two of the later readings.
 */
export function restartingServices(readings: Array<Map<string, ObservedService>>): Set<string> {
  const restarting = new Set<string>();
  for (const name of readings[0]?.keys() ?? []) {
    const parts = (pick: (found: ObservedService) => ObservedSupervise) =>
      readings.map((reading) => reading.get(name)).filter((found): found is ObservedService => found !== undefined).map(pick);
    if ([parts((found) => found.service), parts((found) => found.log)].some((states) => changes(states) >= CHANGES_FOR_A_LOOP)) restarting.add(name);
  }
  return restarting;
}

function changes(states: ObservedSupervise[]): number {
  let count = 0;
  for (let i = 1; i < states.length; i++) {
    const [before, after] = [states[i - 1], states[i]];
    if (!after.supervised) continue;
    const changed =
      before.up !== after.up ||
      (after.up && before.pid !== after.pid) ||
      // Down since another time (a second of slack: the start is read off a whole-second clock).
      (!after.up && before.downSince !== undefined && after.downSince !== undefined && Math.abs(after.downSince - before.downSince) > 1);
    if (changed) count++;
  }
  return count;
}
