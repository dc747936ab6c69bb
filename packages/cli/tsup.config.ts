import { defineConfig } from 'tsup';

export default defineConfig({
  // `src/cli.ts` is the `stb` binary (dist/cli.js, ESM, shebang kept by tsup).
  entry: ['src/index.ts', 'src/cli.ts'],
  format: ['esm', 'cjs'],
  dts: { entry: 'src/index.ts' },
  clean: true,
  shims: true,
  sourcemap: true,
  target: 'node20',
});
