// The pack as `npm ci` compiles it (from policy/pack.ts into dist/), run like
// the stack-file program: no TypeScript compiler or type check in every preview.
module.exports = require("../dist/policy/pack");
