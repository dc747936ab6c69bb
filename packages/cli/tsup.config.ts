import { defineConfig } from 'tsup';

export default defineConfig({
  // `src/cli.ts` is the `stb` binary: `bin` runs its CommonJS build, dist/cli.cjs (shebang kept by
  // tsup). The ESM build (dist/cli.js) runs the same program, but loading it and the packages'
  // ESM builds cost every command about 0.15 s more CPU at start (ESM module compilation, and
  // lexing every CommonJS dependency an ES module imports): `stb parse` of a 277 kB log pinned to
  // one core 0.79–0.88 s against 0.98–1.03 s, four alternating rounds (issue 19).
  // `src/log-worker.ts` is the parse thread of `stb parse --workers` (run as dist/log-worker.cjs),
  // `src/extract-worker.ts` an extraction thread of `--workers 2` and more (dist/extract-worker.cjs).
  entry: [
    'src/index.ts',
    'src/cli.ts',
    'src/log-worker.ts',
    'src/extract-worker.ts',
  ],
  format: ['esm', 'cjs'],
  dts: { entry: 'src/index.ts' },
  clean: true,
  shims: true,
  sourcemap: true,
  target: 'node20',
});
