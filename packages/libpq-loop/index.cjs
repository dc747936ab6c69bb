'use strict';
// The compiled addon. node-gyp builds it when the package is installed, which needs libpq's
// headers (Debian/Ubuntu: libpq-dev; pg_config on the PATH) and a C++ compiler.
let addon;
try {
  addon = require('./build/Release/stb_libpq_loop.node');
} catch (err) {
  const reason = String((err && err.message) || err).split('\n')[0];
  const e = new Error(
    `@stb/libpq-loop is installed but its addon did not load (${reason}). Building it needs libpq's headers (Debian/Ubuntu: apt install libpq-dev) and a C++ compiler; then run \`npm rebuild @stb/libpq-loop\`.`,
    { cause: err },
  );
  e.code = 'STB_NATIVE_NOT_BUILT';
  throw e;
}
// named, so that ESM `import { Conn } from '@stb/libpq-loop'` sees them
exports.Conn = addon.Conn;
exports.libpqVersion = addon.libpqVersion;
exports.loopThreadName = addon.loopThreadName;
exports.wireStamped = addon.wireStamped;
exports.wakeLeads = addon.wakeLeads;
exports.timedWaits = addon.timedWaits;
exports.realtimeSwitches = addon.realtimeSwitches;
exports.realtimeRefused = addon.realtimeRefused;
exports.spinBudget = addon.spinBudget;
exports.loopSlice = addon.loopSlice;
