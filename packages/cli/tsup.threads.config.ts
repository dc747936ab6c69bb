import { defineConfig } from 'tsup';

/**
 * The threads of `stb parse --workers`, built after tsup.config.ts (whose `clean` would remove
 * them): `src/log-worker.ts`, the parse thread (dist/log-worker.cjs), and `src/extract-worker.ts`,
 * an extraction thread of `--workers 2` and more (dist/extract-worker.cjs). CommonJS only (the
 * ESM builds cost each thread about 0.2 s more CPU to load, docs/extraction.md).
 *
 * Each is one file with `@stb/core`, `@stb/parser`, `@stb/extractor` and zod inside: a thread
 * then compiles one script instead of resolving and loading each package and each of zod's
 * files (its locales among them). `--workers 2`, alternating pairs on an AMD EPYC (2026-12-05,
 * medians): a 1 MB log 0.97 against 1.08 CPU s (8 pairs); the 100 MiB pgbench log 3.045 against
 * 3.255 s wall and 5.40 against 5.74 CPU s (6 pairs, 5 faster); the 1 GiB log 24.85 against
 * 25.23 s (3 pairs, all faster), peak RSS 300–302 against 311–321 MB. libpg-query (its
 * WebAssembly file sits beside its script) and node-sql-parser stay outside, loaded at first use;
 * they are this package's dependencies too, so they resolve from here.
 */
export default defineConfig({
  entry: ['src/log-worker.ts', 'src/extract-worker.ts', 'src/range-worker.ts'],
  format: ['cjs'],
  clean: false,
  shims: true,
  sourcemap: true,
  target: 'node20',
  noExternal: [/^@stb\//, 'zod'],
  external: ['libpg-query', 'node-sql-parser'],
});
