import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PluginError } from '@stb/core';
import { hmmModel } from './models/hmm';
import { markovModel } from './models/markov';
import type { AnySequenceModel } from './sequence-model';
import { isSequenceModel } from './sequence-model';

/**
 * Model kinds that live in separate packages, so that `-m <kind>` without the package installed
 * tells the user what to install.
 */
export const KNOWN_MODEL_PACKAGES: Readonly<Record<string, string>> = {
  lstm: '@stb/model-lstm',
};

/** A set of sequence models by name. */
export interface ModelRegistry {
  /** Adds a model; replaces one of the same name. */
  register(plugin: AnySequenceModel): void;
  /**
   * The model of that name.
   * @throws PluginError `STB_PLUGIN_NOT_FOUND` listing the known models and how to load a package.
   */
  get(name: string): AnySequenceModel;
  /** The model of that name, or undefined. */
  find(name: string): AnySequenceModel | undefined;
  has(name: string): boolean;
  /** Registered models, in registration order. */
  list(): AnySequenceModel[];
}

/** The built-in sequence models: `markov` and `hmm`. */
export function builtinModels(): AnySequenceModel[] {
  return [markovModel, hmmModel];
}

/**
 * Creates a registry holding `plugins` (default: the built-in `markov` and `hmm`).
 * @example
 * const registry = createModelRegistry();
 * await loadModelPackage(registry, '@stb/model-lstm');
 * const model = registry.get('lstm');
 */
export function createModelRegistry(
  plugins: Iterable<AnySequenceModel> = builtinModels(),
): ModelRegistry {
  const byName = new Map<string, AnySequenceModel>();
  const registry: ModelRegistry = {
    register(plugin) {
      if (!isSequenceModel(plugin)) {
        throw new PluginError(
          'STB_PLUGIN_INVALID',
          `[stb] [models] Cannot register \`${String((plugin as { name?: unknown } | null)?.name)}\`: not a sequence model (needs kind \`model\`, apiVersion 1, options, fit and createSampler). Fix the plugin definition.`,
          {
            pluginKind: 'model',
            pluginName: String((plugin as { name?: unknown } | null)?.name),
          },
        );
      }
      byName.set(plugin.name, plugin);
    },
    get(name) {
      const plugin = byName.get(name);
      if (plugin) return plugin;
      const known = [...byName.keys()].map((n) => `\`${n}\``).join(', ');
      const pkg = KNOWN_MODEL_PACKAGES[name];
      const hint = pkg
        ? `The \`${name}\` model lives in \`${pkg}\`: run \`npm install ${pkg}\` and pass \`--model-package ${pkg}\`.`
        : `Known models: ${known || '(none)'}. Load a third-party model with \`--model-package <package>\`.`;
      throw new PluginError(
        'STB_PLUGIN_NOT_FOUND',
        `[stb] [models] Unknown sequence model \`${name}\`. ${hint}`,
        {
          pluginKind: 'model',
          pluginName: name,
          details: {
            known: [...byName.keys()],
            ...(pkg ? { package: pkg } : {}),
          },
        },
      );
    },
    find(name) {
      return byName.get(name);
    },
    has(name) {
      return byName.has(name);
    },
    list() {
      return [...byName.values()];
    },
  };
  for (const p of plugins) registry.register(p);
  return registry;
}

/** Options of {@link loadModelPackage}. */
export interface LoadModelPackageOptions {
  /** Directory to resolve the package from (default `process.cwd()`). */
  from?: string | undefined;
}

/**
 * Imports a model package and registers its sequence models: the module's `plugin` export (or
 * every entry of its `plugins` array). A path (`./my-model.js`) is resolved against `from`.
 * @returns the registered models.
 * @throws PluginError `STB_PLUGIN_DEPENDENCY_MISSING` (with the `npm install` command) when the
 * package is not installed, `STB_PLUGIN_INVALID` when it exports no sequence model.
 */
export async function loadModelPackage(
  registry: ModelRegistry,
  packageName: string,
  options: LoadModelPackageOptions = {},
): Promise<AnySequenceModel[]> {
  const from = resolve(options.from ?? process.cwd());
  const isPath = packageName.startsWith('.') || isAbsolute(packageName);
  let resolved: string;
  try {
    resolved = isPath
      ? resolve(from, packageName)
      : resolvePackage(packageName, from);
    if (isPath && !existsSync(resolved)) throw notFound(packageName);
  } catch (err) {
    throw new PluginError(
      'STB_PLUGIN_DEPENDENCY_MISSING',
      isPath
        ? `[stb] [models] Model module \`${packageName}\` not found from ${from}. Check the path.`
        : `[stb] [models] Model package \`${packageName}\` is not installed (resolved from ${from}). Run \`npm install ${packageName}\`.`,
      { pluginKind: 'model', pluginName: packageName, cause: err },
    );
  }
  let mod: Record<string, unknown>;
  try {
    const specifier =
      process.platform === 'win32' ? pathToFileURL(resolved).href : resolved;
    mod = (await import(specifier)) as Record<string, unknown>;
  } catch (err) {
    const missing = (err as { code?: string }).code;
    throw new PluginError(
      missing === 'ERR_MODULE_NOT_FOUND' || missing === 'MODULE_NOT_FOUND'
        ? 'STB_PLUGIN_DEPENDENCY_MISSING'
        : 'STB_PLUGIN_INVALID',
      `[stb] [models] Cannot load model package \`${packageName}\`: ${(err as Error).message}. Reinstall it with \`npm install ${packageName}\`.`,
      { pluginKind: 'model', pluginName: packageName, cause: err },
    );
  }
  const candidates = exportedPlugins(mod);
  const models = candidates.filter(isSequenceModel);
  if (candidates.length === 0 || models.length !== candidates.length) {
    throw new PluginError(
      'STB_PLUGIN_INVALID',
      `[stb] [models] Package \`${packageName}\` does not export a sequence model as \`plugin\` (or a \`plugins\` array). Export \`plugin = defineSequenceModel({...})\`.`,
      { pluginKind: 'model', pluginName: packageName },
    );
  }
  for (const m of models) registry.register(m);
  return models;
}

function exportedPlugins(mod: Record<string, unknown>): unknown[] {
  const out: unknown[] = [];
  const scopes = [mod, mod['default']].filter(
    (s): s is Record<string, unknown> => typeof s === 'object' && s !== null,
  );
  for (const scope of scopes) {
    if (scope['plugin'] !== undefined) out.push(scope['plugin']);
    const list = scope['plugins'];
    if (Array.isArray(list)) out.push(...(list as unknown[]));
    if (out.length > 0) break;
  }
  return out;
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
