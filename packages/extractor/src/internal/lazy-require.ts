import { createRequire } from 'node:module';

/**
 * `require` for dependencies loaded at their first use instead of at import: node-sql-parser's
 * MySQL build (about 34 ms of CPU to load) only for MySQL statements, piscina (about 27 ms) only
 * for extraction on a pool. Every thread that imports `@stb/extractor` paid for both before its
 * work began: the `stb` process, and each of `stb parse --workers`' threads (issue 19). Works in
 * both builds: tsup gives the ESM one `__filename`.
 */
export const lazyRequire = createRequire(__filename);
