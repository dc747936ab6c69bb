import type { MessagePort } from 'node:worker_threads';
import { parsePluginOptions, serializeError } from '@stb/core';
import type { Protocol } from './db-plugin';
import { Executor } from './internal/executor';
import type { ExecutorSettings } from './internal/executor';
import type { FromExecutor, ToExecutor } from './internal/wire';
import { loadDbPluginWith } from './plugin-loader';
import type { PluginDescriptor } from './target';

/** The task a piscina worker runs: one long-lived executor fed over `port`. */
export interface WorkerTask {
  port: MessagePort;
  descriptor: PluginDescriptor;
  protocol: Protocol;
  /** The same settings an inline executor gets. */
  settings: ExecutorSettings;
}

/** The built-in plugins' module names (`resolveTarget`: `@stb/bench/db/<name>`). */
const BUILT_IN_PLUGIN = /^@stb\/bench\/db\/[a-z0-9-]+$/;

/**
 * Loads a plugin module in the worker. The worker is CommonJS (`dist/worker.cjs`) and already
 * holds @stb/core's CommonJS build, so a built-in plugin is required and shares it; `import()`
 * would load the plugin's ESM build with a second @stb/core and zod (issue 16: ~240 ms of CPU
 * per worker, half of a worker's start). Other modules are imported (they may be ESM only).
 */
function loadPluginModule(specifier: string): Promise<unknown> {
  // `module` is CommonJS's own (undefined in the ESM build, which imports as before)
  const cjs = typeof module === 'object' ? module : undefined;
  if (cjs && BUILT_IN_PLUGIN.test(specifier))
    return Promise.resolve().then(() => cjs.require(specifier) as unknown);
  return import(specifier);
}

/** piscina entry: runs an executor until the main thread ends or stops it. */
export default async function benchWorker(task: WorkerTask): Promise<void> {
  const { port } = task;
  const post = (m: FromExecutor, transfer?: ArrayBuffer[]): void =>
    port.postMessage(m, transfer);
  try {
    const plugin = await loadDbPluginWith(task.descriptor, loadPluginModule);
    const options = parsePluginOptions(plugin, task.descriptor.options);
    const exec = new Executor({
      ...task.settings,
      connect: () => plugin.connect(options, { protocol: task.protocol }),
      sink: {
        batch: (m) => post(m, [m.buf.buffer as ArrayBuffer]),
        incident: (m) => post(m),
        starved: () => post({ type: 'starved' }),
      },
    });
    port.on('message', (m: ToExecutor) => exec.handle(m));
    await exec.preconnect();
    post({ type: 'ready' });
    const summary = await exec.done;
    post({ type: 'done', summary });
  } catch (err) {
    // the whole error crosses the thread: name, code, message, details and stack
    post({ type: 'failed', error: serializeError(err) });
  }
}
