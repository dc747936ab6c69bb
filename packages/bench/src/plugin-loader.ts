import { PluginError, pluginExports } from '@stb/core';
import type { DbPlugin } from './db-plugin';
import type { PluginDescriptor } from './target';

/**
 * Imports the DB plugin a descriptor names (in a piscina worker or the main thread), through
 * {@link loadPluginModule}.
 * @throws PluginError `STB_PLUGIN_NOT_FOUND` or `STB_PLUGIN_INVALID`.
 */
export async function loadDbPlugin(
  descriptor: Pick<PluginDescriptor, 'module' | 'exportName' | 'name'>,
): Promise<DbPlugin> {
  let mod: Record<string, unknown>;
  try {
    mod = (await loadPluginModule(descriptor.module)) as typeof mod;
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

/** The built-in plugins' module names (`resolveTarget`: `@stb/bench/db/<name>`). */
const BUILT_IN_PLUGIN = /^@stb\/bench\/db\/[a-z0-9-]+$/;

/**
 * Loads a plugin module. Run from a CommonJS build (the `stb` binary, `dist/worker.cjs`), which
 * already holds @stb/core's CommonJS build, a built-in plugin is required and shares it; `import()`
 * would load the plugin's ESM build with a second @stb/core and zod (issue 16: ~240 ms of CPU per
 * piscina worker, half of a worker's start). The `stb bench` process's inline executor loads its
 * plugin here too: `stb bench` of a 2,000-statement trace through `pg-native` used 0.62 s of CPU
 * against 0.775 s when it imported (medians of 8 alternating pairs, `/usr/bin/time`, 2026-12-06).
 * Other modules are imported (they may be ESM only).
 */
function loadPluginModule(specifier: string): Promise<unknown> {
  // `module` is CommonJS's own (undefined in the ESM build, which imports as before)
  const cjs = typeof module === 'object' ? module : undefined;
  if (cjs && BUILT_IN_PLUGIN.test(specifier))
    return Promise.resolve().then(() => cjs.require(specifier) as unknown);
  return import(specifier);
}
