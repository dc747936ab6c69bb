import { PluginError, importPluginModule, pluginExports } from '@stb/core';
import type { AnyLogFormat } from './detect';
import { builtinLogFormats } from './formats/builtin';

/** Options of {@link loadFormatPackage}. */
export interface LoadFormatPackageOptions {
  /** Directory to resolve the package from (default `process.cwd()`). */
  from?: string | undefined;
}

function isLogFormat(p: unknown): p is AnyLogFormat {
  const f = p as Partial<AnyLogFormat> | null;
  return (
    typeof f === 'object' &&
    f !== null &&
    f.kind === 'log-format' &&
    typeof f.parse === 'function' &&
    (f.dialect === 'postgres' || f.dialect === 'mysql')
  );
}

/**
 * Imports a log-format plugin package (CLI `--format-package`): its `plugin` export or `plugins`
 * array, as for models and DB plugins (core's `importPluginModule` and `pluginExports`). A path
 * (`./my-format.js`) is resolved against `from`.
 * @returns the package's formats.
 * @throws PluginError `STB_PLUGIN_DEPENDENCY_MISSING` (with the `npm install` command) when the
 * package is not installed, `STB_PLUGIN_INVALID` when it exports no log format.
 * @example
 * const mine = await loadFormatPackage('stb-format-pgbouncer');
 * parseLogs(['pool.log'], { formats: withFormats(mine) });
 */
export async function loadFormatPackage(
  packageName: string,
  options: LoadFormatPackageOptions = {},
): Promise<AnyLogFormat[]> {
  const mod = await importPluginModule(packageName, 'log-format', {
    from: options.from,
  });
  const { all } = pluginExports(mod, 'log-format');
  const formats = all.filter(isLogFormat);
  if (all.length === 0 || formats.length !== all.length)
    throw new PluginError(
      'STB_PLUGIN_INVALID',
      `[stb] [parser] Package \`${packageName}\` does not export a log format as \`plugin\` (or a \`plugins\` array). Export \`plugin = defineLogFormat({...})\`.`,
      { pluginKind: 'log-format', pluginName: packageName },
    );
  return formats;
}

/**
 * The formats to detect among: `extra` first (a loaded format replaces a built-in of the same
 * name), then the built-in ones.
 */
export function withFormats(
  extra: readonly AnyLogFormat[],
): readonly AnyLogFormat[] {
  if (extra.length === 0) return builtinLogFormats;
  const names = new Set(extra.map((f) => f.name));
  return [...extra, ...builtinLogFormats.filter((f) => !names.has(f.name))];
}
