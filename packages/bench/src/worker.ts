import type { MessagePort } from 'node:worker_threads';
import { parsePluginOptions, serializeError } from '@stb/core';
import type { Protocol } from './db-plugin';
import { Executor } from './internal/executor';
import type { ExecutorSettings } from './internal/executor';
import type { FromExecutor, ToExecutor } from './internal/wire';
import { guardedConnect } from './internal/plugin-deadline';
import { loadDbPlugin } from './plugin-loader';
import type { PluginDescriptor } from './target';

/** The task a piscina worker runs: one long-lived executor fed over `port`. */
export interface WorkerTask {
  port: MessagePort;
  descriptor: PluginDescriptor;
  protocol: Protocol;
  /** The same settings an inline executor gets. */
  settings: ExecutorSettings;
}

/** piscina entry: runs an executor until the main thread ends or stops it. */
export default async function benchWorker(task: WorkerTask): Promise<void> {
  const { port } = task;
  const post = (m: FromExecutor, transfer?: ArrayBuffer[]): void =>
    port.postMessage(m, transfer);
  try {
    const plugin = await loadDbPlugin(task.descriptor);
    const options = parsePluginOptions(plugin, task.descriptor.options);
    const exec = new Executor({
      ...task.settings,
      connect: guardedConnect(
        plugin,
        () =>
          plugin.connect(options, {
            protocol: task.protocol,
            timed: !task.settings.closed,
          }),
        task.settings,
      ),
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
