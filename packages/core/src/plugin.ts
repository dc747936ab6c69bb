import type { z } from 'zod';
import { PluginError } from './errors';

/** Plugin kinds. */
export type PluginKind = 'log-format' | 'model' | 'db';

/** What every plugin has. Capabilities are flags or optional methods, never `instanceof`. */
export interface PluginBase<TOptions> {
  readonly kind: PluginKind;
  /** kebab-case, unique within its kind. */
  readonly name: string;
  /** Bump = breaking change to the plugin interface. */
  readonly apiVersion: 1;
  /** Options schema; hosts run `safeParse` and raise `STB_PLUGIN_OPTIONS_INVALID` on failure. */
  readonly options: z.ZodType<TOptions>;
  /** One-line description for `--help` and docs. */
  readonly description?: string;
  /** Optional peer libraries the plugin imports lazily, for docs and the dependency meta-test. */
  readonly dependencies?: readonly string[];
}

/**
 * Validates plugin options with the plugin's schema.
 * @throws PluginError `STB_PLUGIN_OPTIONS_INVALID` listing every issue.
 */
export function parsePluginOptions<TOptions>(
  plugin: Pick<PluginBase<TOptions>, 'kind' | 'name' | 'options'>,
  input: unknown,
): TOptions {
  const r = plugin.options.safeParse(input ?? {});
  if (r.success) return r.data;
  const issues = r.error.issues.map(
    (i) => `${i.path.join('.') || '(root)'}: ${i.message}`,
  );
  throw new PluginError(
    'STB_PLUGIN_OPTIONS_INVALID',
    `[stb] [${plugin.kind}:${plugin.name}] Invalid options: ${issues.join('; ')}. Check the plugin's documented options.`,
    { pluginKind: plugin.kind, pluginName: plugin.name, details: { issues } },
  );
}

/** Checks that a loaded module export looks like a plugin of the expected kind. */
export function isPlugin(
  value: unknown,
  kind?: PluginKind,
): value is PluginBase<unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const p = value as Partial<PluginBase<unknown>>;
  return (
    typeof p.name === 'string' &&
    p.apiVersion === 1 &&
    typeof p.kind === 'string' &&
    (kind === undefined || p.kind === kind) &&
    typeof p.options === 'object'
  );
}
