import { createRequire } from 'node:module';

/**
 * `require` for dependencies loaded at their first use instead of at import: `csv-parse` and
 * `csv-stringify` only for CSV traces. Every process that imports `@stb/core` (each `stb`
 * command, a `runBench` child, each worker thread) loaded them before its work began; with
 * `piscina` in `@stb/bench` (issue 16: start-up is part of the runner's CPU per query), importing
 * both packages then cost 353 ms of CPU against 327 (medians of 7 alternating pairs). Works in
 * both builds: tsup gives the ESM one `__filename`.
 */
export const lazyRequire = createRequire(__filename);
