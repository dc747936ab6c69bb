import { PluginError, importPluginModule, pluginExports } from '@stb/core';
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
  const mod = await importPluginModule(packageName, 'model', {
    from: options.from,
  });
  const { all } = pluginExports(mod, 'model');
  const models = all.filter(isSequenceModel);
  if (all.length === 0 || models.length !== all.length) {
    throw new PluginError(
      'STB_PLUGIN_INVALID',
      `[stb] [models] Package \`${packageName}\` does not export a sequence model as \`plugin\` (or a \`plugins\` array). Export \`plugin = defineSequenceModel({...})\`.`,
      { pluginKind: 'model', pluginName: packageName },
    );
  }
  for (const m of models) registry.register(m);
  return models;
}
