import type { MessagePort } from 'node:worker_threads';
import { parsePluginOptions, serializeError } from '@stb/core';
import type { Protocol } from './db-plugin';
import { Executor } from './internal/executor';
import type { FromExecutor, ToExecutor } from './internal/wire';
import { loadDbPlugin } from './plugin-loader';
import type { PluginDescriptor } from './target';

/** The task a piscina worker runs: one long-lived executor fed over `port`. */
export interface WorkerTask {
  port: MessagePort;
  descriptor: PluginDescriptor;
  protocol: Protocol;
  connections: number;
  closed: boolean;
  reconnectTimeoutMs: number;
  failFast: boolean;
  spinMs?: number;
  stopGraceMs?: number;
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
      connect: () => plugin.connect(options, { protocol: task.protocol }),
      connections: task.connections,
      closed: task.closed,
      reconnectTimeoutMs: task.reconnectTimeoutMs,
      failFast: task.failFast,
      ...(task.spinMs !== undefined ? { spinMs: task.spinMs } : {}),
      ...(task.stopGraceMs !== undefined
        ? { stopGraceMs: task.stopGraceMs }
        : {}),
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
    const e = serializeError(err);
    post({ type: 'failed', error: { code: e.code, message: e.message } });
  }
}
