// How the benchmarks print their figures.
import * as os from "node:os";

export const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
export const count = (n: number) => n.toLocaleString("en-US");
export const mib = (bytes: number) => `${(bytes / 1048576).toFixed(0)} MiB`;
export const secs = (s: number) => `${s.toFixed(2)} s`;
export const cpu = (s: number | undefined) => (s === undefined ? "n/a" : `${s.toFixed(1)} s`);
export const verdict = (ok: boolean) => (ok ? "ok" : "MISSED");
export const loadavg = () => os.loadavg().map((l) => l.toFixed(2)).join(" ");
export const progress = (line: string) => process.stderr.write(`  [${new Date().toISOString().slice(11, 19)}] ${line}\n`);
