import { defineConfig } from 'tsup';

export default defineConfig({
  // `src/cli.ts` is the `stb` binary: `bin` runs its CommonJS build, dist/cli.cjs (shebang kept by
  // tsup). The ESM build (dist/cli.js) runs the same program, but loading it and the packages'
  // ESM builds (ESM module compilation, and lexing every CommonJS dependency an ES module imports)
  // cost `stb parse` of a 277 kB log, pinned to one core, 0.98–1.03 s against 0.79–0.88 s and about
  // 0.17 s more CPU, four alternating rounds (issue 19; other commands load the same way, not
  // measured).
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
