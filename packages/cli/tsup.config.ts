import { defineConfig } from 'tsup';

export default defineConfig({
  // `src/cli.ts` is the `stb` binary: `bin` runs its CommonJS build, dist/cli.cjs (shebang kept by
  // tsup). The ESM build (dist/cli.js) runs the same program, but loading it and the packages'
  // ESM builds (ESM module compilation, and lexing every CommonJS dependency an ES module imports)
  // cost `stb parse` of a 277 kB log, pinned to one core, 0.98–1.03 s against 0.79–0.88 s and about
  // 0.17 s more CPU, four alternating rounds (issue 19; other commands load the same way, not
  // measured).
  // The threads of `stb parse --workers` are built by tsup.threads.config.ts, after this one.
  entry: ['src/index.ts', 'src/cli.ts'],
  format: ['esm', 'cjs'],
  dts: { entry: 'src/index.ts' },
  clean: true,
  shims: true,
  sourcemap: true,
  target: 'node20',
});
