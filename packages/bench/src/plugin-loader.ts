import { PluginError, pluginExports } from '@stb/core';
import type { DbPlugin } from './db-plugin';
import type { PluginDescriptor } from './target';

/**
 * Imports the DB plugin a descriptor names (in a worker or the main thread).
 * @throws PluginError `STB_PLUGIN_NOT_FOUND` or `STB_PLUGIN_INVALID`.
 */
export function loadDbPlugin(
  descriptor: Pick<PluginDescriptor, 'module' | 'exportName' | 'name'>,
): Promise<DbPlugin> {
  return loadDbPluginWith(descriptor, (specifier) => import(specifier));
}

/**
 * {@link loadDbPlugin} with the module loaded by `load` (the worker requires the built-in plugins,
 * see `worker.ts`); the same errors.
 */
export async function loadDbPluginWith(
  descriptor: Pick<PluginDescriptor, 'module' | 'exportName' | 'name'>,
  load: (specifier: string) => Promise<unknown>,
): Promise<DbPlugin> {
  let mod: Record<string, unknown>;
  try {
    mod = (await load(descriptor.module)) as Record<string, unknown>;
  } catch (err) {
    throw new PluginError(
      'STB_PLUGIN_NOT_FOUND',
      `[stb] [db:${descriptor.name}] Cannot import plugin module \`${descriptor.module}\`. Install it or check the target config.`,
      {
        cause: err,
        pluginKind: 'db',
        pluginName: descriptor.name,
        details: { module: descriptor.module },
      },
    );
  }
  // The export convention shared by every plugin kind (core's pluginExports); the module is
  // imported from here, so `@stb/bench/db/*` resolves in workers wherever the CLI runs.
  const p = pluginExports(mod, 'db', descriptor.exportName).plugins[0];
  if (p === undefined || typeof (p as DbPlugin).connect !== 'function')
    throw new PluginError(
      'STB_PLUGIN_INVALID',
      `[stb] [db:${descriptor.name}] Export \`${descriptor.exportName}\` of \`${descriptor.module}\` is not a DB plugin (kind 'db', apiVersion 1, connect()). Check the plugin.`,
      { pluginKind: 'db', pluginName: descriptor.name },
    );
  return p as DbPlugin;
}
