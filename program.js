// The Pulumi program (Pulumi.yaml's `main`): index.ts, run as the JavaScript
// `npm ci` (or `npm run build`) compiles into dist/, so no TypeScript compiler
// loads on every run. This file stays at the project's root because the
// engine runs a program, and the provider, in the directory of its main file:
// the stack file's relative paths (validRcptTo.files, knownHostsFile) and the
// build directory (.qmail-fleet/build) are relative to the project.
"use strict";
module.exports = require("./dist/index.js");
