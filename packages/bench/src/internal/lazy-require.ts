import { createRequire } from 'node:module';

/**
 * `require` for dependencies loaded at their first use instead of at import: prom-client only
 * when a run records metrics (`metrics.ts`), piscina only when a run has worker threads (none by
 * default on a machine with fewer than 4 cores). Every process that imports `@stb/bench` loaded
 * piscina before its work began; with `@stb/core`'s CSV modules (issue 16: start-up is part of the
 * runner's CPU per query), importing both packages then cost 353 ms of CPU against 327 (medians
 * of 7 alternating pairs). Works in both builds: tsup gives the ESM one `__filename`.
 */
export const lazyRequire = createRequire(__filename);
