// Preloaded with `node --require` by qmail-fleet's language host, before the
// program and its @pulumi/pulumi start. The host does not pass the stack's
// configuration in the environment of execve, where Linux limits one string to
// 128 KiB: it writes the variables to a private file and names that file in
// QMAIL_FLEET_LANGHOST_ENV_FILE. This script sets them in process.env, which
// has no such limit, and removes the file at once (it holds decrypted secrets).
// It also takes itself out of process.execArgv, so that the program sees node
// started as Pulumi.yaml's nodeargs say and node processes the program forks
// do not load it again.
"use strict";
const fs = require("fs");

const fileVariable = "QMAIL_FLEET_LANGHOST_ENV_FILE";
const file = process.env[fileVariable];
delete process.env[fileVariable];

if (file) {
  let text;
  try {
    text = fs.readFileSync(file, "utf8");
  } finally {
    fs.rmSync(file, { force: true });
  }
  for (const [name, value] of Object.entries(JSON.parse(text))) {
    process.env[name] = String(value);
  }
}

for (let i = 0; i < process.execArgv.length - 1; i++) {
  if (process.execArgv[i] === "--require" && process.execArgv[i + 1] === __filename) {
    process.execArgv.splice(i, 2);
    break;
  }
}
