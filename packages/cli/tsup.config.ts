import { defineConfig } from 'tsup';

export default defineConfig({
  // `src/cli.ts` is the `stb` binary (dist/cli.js, ESM, shebang kept by tsup).
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
