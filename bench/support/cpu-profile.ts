import * as fs from "node:fs";
import * as path from "node:path";

// Node 20 refuses --cpu-prof in NODE_OPTIONS, and the engine starts the
// program and the provider itself: a preload (--require is allowed there)
// runs the same V8 profiler in each node process and writes its profile at exit.
export const CPU_PROF_DIR_VARIABLE = "QMAIL_FLEET_BENCH_CPU_PROF_DIR";
const CPU_PROF_PRELOAD = `"use strict";
const dir = process.env.${CPU_PROF_DIR_VARIABLE};
if (dir) {
  const inspector = require("node:inspector");
  const fs = require("node:fs");
  const path = require("node:path");
  const session = new inspector.Session();
  session.connect();
  session.post("Profiler.enable");
  session.post("Profiler.start");
  process.on("exit", () => {
    // An in-process session answers at once, so this runs before the process ends.
    session.post("Profiler.stop", (error, result) => {
      if (error) return;
      const args = process.argv.slice(1).join(" ");
      const what = args.includes("provider/main.js") ? "provider" : args.includes("cmd/run") ? "program" : path.basename(process.argv[1] || "node");
      fs.writeFileSync(path.join(dir, what + "-" + process.pid + ".cpuprofile"), JSON.stringify(result.profile));
    });
  });
}
`;

export function cpuProfilePreload(dir: string): string {
  // .cjs: a package.json of type "module" above DIR must not make node read it as an ES module.
  const file = path.join(dir, "cpu-prof-preload.cjs");
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(file, CPU_PROF_PRELOAD);
  return file;
}
