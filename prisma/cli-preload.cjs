// Preloaded (node -r) into the Prisma CLI by src/db/migrate.ts and prisma/generate.ts.
//
// The WebAssembly schema engine (Prisma 6.19) races `SELECT pg_advisory_lock(72707369)` against
// a 10 s timer that it never clears, so on PostgreSQL every `migrate deploy` finishes its work in
// well under a second and then keeps the process alive for 10 s. Timers created from inside the
// wasm engine are unref'd here: while the lock query is pending its socket keeps the process
// alive, so the timeout still fires when it should; it just no longer delays exit.
'use strict';
const originalSetTimeout = global.setTimeout;
global.setTimeout = function setTimeout(callback, ms, ...args) {
  const timer = originalSetTimeout.call(this, callback, ms, ...args);
  if (typeof ms === 'number' && ms >= 1000 && typeof timer?.unref === 'function') {
    const stack = new Error().stack ?? '';
    if (stack.includes('wasm://')) timer.unref();
  }
  return timer;
};
