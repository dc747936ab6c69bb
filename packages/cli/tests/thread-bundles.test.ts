import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';

// The threads of `stb parse --workers` run single-file bundles (tsup.threads.config.ts): a thread
// that required `@stb/*` or zod from node_modules would load them module by module again (the
// bundles saved 0.11 s of CPU for the two threads on a 1 MB log, docs/extraction.md). Build the CLI
// first.
const DIST = path.join(__dirname, '..', 'dist');
const OUTSIDE = new Set(['libpg-query', 'node-sql-parser']);

test.each(['log-worker.cjs', 'extract-worker.cjs'])(
  '%s loads only Node built-ins, libpg-query and node-sql-parser',
  (file) => {
    const code = readFileSync(path.join(DIST, file), 'utf8');
    const loaded = new Set<string>();
    for (const m of code.matchAll(/\b(?:require|import)\("([^"]+)"\)/g))
      loaded.add(m[1] as string);
    const builtins = new Set(builtinModules);
    const others = [...loaded].filter(
      (n) => !builtins.has(n.replace(/^node:/, '')),
    );
    // The MySQL parser is required by subpath at its first use.
    const packages = others.map((n) =>
      n.startsWith('node-sql-parser/') ? 'node-sql-parser' : n,
    );
    expect(packages.filter((n) => !OUTSIDE.has(n))).toEqual([]);
    expect(packages).toContain('libpg-query');
  },
);
