// The Pulumi program (Pulumi.yaml's `main`): index.ts, run as the JavaScript
// `npm ci` (or `npm run build`) compiles into dist/, so no TypeScript compiler
// loads on every run. This file stays at the project's root because the
// engine runs a program, and the provider, in the directory of its main file:
// the stack file's relative paths (validRcptTo.files, knownHostsFile) and the
// build directory (.qmail-fleet/build) are relative to the project.
"use strict";
// The SDK takes a stack trace for every resource (its source position) and
// every promise it tracks, and Pulumi's runner maps each frame through the
// source maps (source-map-support): a fifth of the program's CPU before the
// first host is reached. V8's own traces name dist/*.js, beside their maps.
Error.prepareStackTrace = undefined;
module.exports = require("./dist/index.js");
