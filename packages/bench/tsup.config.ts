import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    worker: 'src/worker.ts',
    'db/postgres': 'src/db/postgres.ts',
    'db/mysql': 'src/db/mysql.ts',
    'db/sqlite': 'src/db/sqlite.ts',
    'db/pglite': 'src/db/pglite.ts',
    'db/knex': 'src/db/knex.ts',
    'db/pg-lean': 'src/db/pg-lean.ts',
    'db/mysql-lean': 'src/db/mysql-lean.ts',
    'db/pg-native': 'src/db/pg-native.ts',
  },
  // the addon package is loaded at run time, where it is installed
  external: ['@stb/libpq-loop'],
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  shims: true,
  sourcemap: true,
  target: 'node20',
});
