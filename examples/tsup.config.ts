import { defineConfig } from 'tsup';

// Each example is a program: built to dist/<example>/<file>.js (ESM) and run with plain `node`.
// Dependencies stay external, so the same files also run against packed packages.
export default defineConfig({
  entry: {
    '01-compose-library/main': '01-compose-library/main.ts',
    '02-validate-gate/main': '02-validate-gate/main.ts',
    '03-bench-custom-plugin/main': '03-bench-custom-plugin/main.ts',
    '03-bench-custom-plugin/tagged-postgres':
      '03-bench-custom-plugin/tagged-postgres.ts',
  },
  format: ['esm'],
  splitting: false,
  clean: true,
  sourcemap: true,
  target: 'node20',
});
