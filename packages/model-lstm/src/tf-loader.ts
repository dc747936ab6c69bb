import { dirname, sep } from 'node:path';
import { createRequire } from 'node:module';
import { PluginError } from '@stb/core';
import type * as Tf from '@tensorflow/tfjs';

/** The TensorFlow.js namespace, as this package uses it. */
export type TfModule = typeof Tf;

/** Training backends: `wasm` (default, fast) or `cpu` (pure JavaScript, 3–10× slower). */
export type TfBackendName = 'wasm' | 'cpu';

/**
 * Directory (with trailing separator) holding the `.wasm` binaries of the installed
 * `@tensorflow/tfjs-backend-wasm`, resolved from this module's own location so that it works from
 * the monorepo, from the built `dist` (ESM or CJS) and from a project that installed this package.
 * `__filename` exists under CommonJS and is shimmed by tsup in the ESM build.
 */
export function wasmBinaryDirectory(): string {
  const req = createRequire(__filename);
  const main = req.resolve('@tensorflow/tfjs-backend-wasm');
  return dirname(main) + sep;
}

/**
 * Imports TensorFlow.js and activates `backend`. For `wasm`, points the backend at the binaries in
 * the installed package first. TensorFlow.js keeps one global engine per process, so this switches
 * the backend for every tfjs user in the process.
 * @throws PluginError `STB_PLUGIN_DEPENDENCY_MISSING` when tfjs or the wasm backend cannot load.
 */
export async function loadTf(backend: TfBackendName): Promise<TfModule> {
  let tf: TfModule;
  try {
    tf = await import('@tensorflow/tfjs');
    if (backend === 'wasm') {
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      try {
        wasm.setWasmPaths(wasmBinaryDirectory());
      } catch (err) {
        // Already initialised (by an earlier fit, or by another copy of this package): keep it.
        if (!/already initialized/i.test((err as Error).message)) throw err;
      }
    }
  } catch (err) {
    throw new PluginError(
      'STB_PLUGIN_DEPENDENCY_MISSING',
      `[stb] [model:lstm] Cannot load TensorFlow.js (${(err as Error).message}). Reinstall with \`npm install @stb/model-lstm\` (it brings @tensorflow/tfjs and @tensorflow/tfjs-backend-wasm).`,
      { pluginKind: 'model', pluginName: 'lstm', cause: err },
    );
  }
  const ok = await tf.setBackend(backend).catch(() => false);
  if (!ok || tf.getBackend() !== backend) {
    throw new PluginError(
      'STB_PLUGIN_DEPENDENCY_MISSING',
      `[stb] [model:lstm] The TensorFlow.js \`${backend}\` backend failed to initialise. Use \`backend: 'cpu'\` or reinstall @tensorflow/tfjs-backend-wasm.`,
      { pluginKind: 'model', pluginName: 'lstm', details: { backend } },
    );
  }
  return tf;
}
