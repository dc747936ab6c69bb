import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { StbError } from './errors';

/**
 * The built worker script of a package that runs a worker pool (piscina): `<file>` next to the
 * calling module when it runs from `dist/`, else `../dist/<file>` (running from `src/` under
 * ts-jest or ts-node, where only the build has a loadable worker). The CommonJS build
 * (`worker.cjs`) is the default: piscina loads a worker with `require()` first, and Node 20's
 * `require()` of an ES module can abort the whole process ("FATAL ERROR: v8::Module::IsGraphAsync
 * must be used on an instantiated module") when it races an `import()` of the same graph — it
 * killed a bench test run here once (nodejs/node#57126 reworks that race).
 * @param moduleDir the caller's `__dirname`.
 * @param pkg the package name, for the message (`@stb/bench`).
 * @throws StbError `STB_OPTIONS_INVALID` naming the package to build, or `workers: 0`.
 * @example
 * const filename = resolveWorkerFile(__dirname, '@stb/bench'); // …/bench/dist/worker.cjs
 */
export function resolveWorkerFile(
  moduleDir: string,
  pkg: string,
  file = 'worker.cjs',
): string {
  const tried = [join(moduleDir, file), join(moduleDir, '..', 'dist', file)];
  for (const f of tried) if (existsSync(f)) return f;
  throw new StbError(
    'STB_OPTIONS_INVALID',
    `[stb] [${pkg.replace(/^@stb\//, '')}] The worker script \`${file}\` is missing (looked in ${tried.join(' and ')}). Build ${pkg} (\`npx tsup\`) or run with \`workers: 0\`.`,
    { details: { package: pkg, tried } },
  );
}
