import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PluginError } from './errors';
import { isPlugin } from './plugin';
import type { PluginBase, PluginKind } from './plugin';

/**
 * The one export convention of plugin packages, for every kind (log formats, sequence models, DB
 * plugins): the module's `plugin` export, or every entry of its `plugins` array (also under
 * `default`, for CommonJS modules imported as ESM); a host that names an export (a DB target
 * config's `exportName`) reads that one. Only plugins of `kind` are returned; `all` is every
 * candidate export, so a host can tell "nothing exported" from "exports of another kind".
 * @example
 * const { plugins } = pluginExports(await import('my-formats'), 'log-format');
 */
export function pluginExports(
  mod: Record<string, unknown>,
  kind: PluginKind,
  exportName?: string,
): { plugins: PluginBase<unknown>[]; all: unknown[] } {
  const all: unknown[] = [];
  const scopes = [mod, mod['default']].filter(
    (s): s is Record<string, unknown> => typeof s === 'object' && s !== null,
  );
  for (const scope of scopes) {
    if (exportName !== undefined && exportName !== 'plugin') {
      if (scope[exportName] !== undefined) all.push(scope[exportName]);
    } else {
      if (scope['plugin'] !== undefined) all.push(scope['plugin']);
      const list = scope['plugins'];
      if (Array.isArray(list)) all.push(...(list as unknown[]));
    }
    if (all.length > 0) break;
  }
  return { plugins: all.filter((p) => isPlugin(p, kind)), all };
}

/** Options of {@link importPluginModule}. */
export interface ImportPluginModuleOptions {
  /** Directory to resolve package names and relative paths from (default `process.cwd()`). */
  from?: string | undefined;
}

const NOUN: Record<PluginKind, string> = {
  'log-format': 'log-format',
  model: 'model',
  db: 'DB plugin',
};
const OPTION: Record<PluginKind, string> = {
  'log-format': '--format-package',
  model: '--model-package',
  db: 'the target config `module`',
};

/**
 * Imports a plugin package (`my-formats`, `@scope/pkg`), a module path (`./my-model.js`, resolved
 * against `from`) or a `file:` URL, the same way for every plugin kind: a package name resolves
 * from `from` upwards through `node_modules`, preferring the package's ESM `import` entry.
 * @throws PluginError `STB_PLUGIN_DEPENDENCY_MISSING` (with the `npm install` command) when it
 * is not installed or a module it imports is missing, `STB_PLUGIN_INVALID` when importing it fails.
 */
export async function importPluginModule(
  specifier: string,
  kind: PluginKind,
  options: ImportPluginModuleOptions = {},
): Promise<Record<string, unknown>> {
  const from = resolve(options.from ?? process.cwd());
  const tag = `[stb] [${kind}]`;
  const isUrl = specifier.startsWith('file:');
  const isPath = !isUrl && (specifier.startsWith('.') || isAbsolute(specifier));
  let target: string;
  try {
    if (isUrl) target = specifier;
    else if (isPath) {
      target = resolve(from, specifier);
      if (!existsSync(target)) throw notFound(specifier);
    } else target = resolvePackage(specifier, from);
  } catch (err) {
    throw new PluginError(
      'STB_PLUGIN_DEPENDENCY_MISSING',
      isPath
        ? `${tag} ${NOUN[kind]} module \`${specifier}\` not found from ${from}. Check the path given to ${OPTION[kind]}.`
        : `${tag} ${NOUN[kind]} package \`${specifier}\` is not installed (resolved from ${from}). Run \`npm install ${specifier}\`.`,
      { pluginKind: kind, pluginName: specifier, cause: err },
    );
  }
  try {
    const url =
      isUrl || process.platform !== 'win32'
        ? target
        : pathToFileURL(target).href;
    return (await import(url)) as Record<string, unknown>;
  } catch (err) {
    const code = (err as { code?: string }).code;
    throw new PluginError(
      code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND'
        ? 'STB_PLUGIN_DEPENDENCY_MISSING'
        : 'STB_PLUGIN_INVALID',
      `${tag} Cannot load ${NOUN[kind]} package \`${specifier}\`: ${(err as Error).message}. Reinstall it with \`npm install ${specifier}\`.`,
      { pluginKind: kind, pluginName: specifier, cause: err },
    );
  }
}

function notFound(name: string): Error {
  const err = new Error(`Cannot find module '${name}'`);
  (err as { code?: string }).code = 'MODULE_NOT_FOUND';
  return err;
}

/** Resolves a package's entry from `from`, preferring its ESM `import` entry. */
function resolvePackage(name: string, from: string): string {
  let dir = from;
  for (;;) {
    const pkgDir = join(dir, 'node_modules', name);
    const manifest = join(pkgDir, 'package.json');
    if (existsSync(manifest)) {
      const entry = entryOf(
        JSON.parse(readFileSync(manifest, 'utf8')) as Record<string, unknown>,
      );
      if (entry) return join(pkgDir, entry);
      break;
    }
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return createRequire(join(from, '__stb_resolve__.cjs')).resolve(name);
}

function entryOf(pkg: Record<string, unknown>): string | undefined {
  let exp = pkg['exports'];
  if (typeof exp === 'object' && exp !== null && '.' in exp)
    exp = (exp as Record<string, unknown>)['.'];
  const pick = (v: unknown): string | undefined => {
    if (typeof v === 'string') return v;
    if (typeof v !== 'object' || v === null) return undefined;
    const o = v as Record<string, unknown>;
    return (
      pick(o['import']) ??
      pick(o['default']) ??
      pick(o['require']) ??
      pick(o['node'])
    );
  };
  return (
    pick(exp) ??
    (typeof pkg['module'] === 'string' ? pkg['module'] : undefined) ??
    (typeof pkg['main'] === 'string' ? pkg['main'] : undefined) ??
    'index.js'
  );
}
