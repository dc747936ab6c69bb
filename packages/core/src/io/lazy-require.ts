import { createRequire } from 'node:module';

/**
 * `require` for dependencies loaded at their first use instead of at import: `csv-parse` and
 * `csv-stringify` only for CSV traces. Every process that imports `@stb/core` (each `stb`
 * command, a `runBench` child) paid about 20 ms of CPU for them before its work began (issue 16:
 * start-up is part of the runner's CPU per query). Works in both builds: tsup gives the ESM one
 * `__filename`.
 */
export const lazyRequire = createRequire(__filename);
