import { MessageChannel } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import type { Piscina as PiscinaPool } from 'piscina';
import { StbError, rehydrateError } from '@stb/core';
import type { DbSession, Protocol } from '../db-plugin';
import type { PluginDescriptor } from '../target';
import type { WorkerTask } from '../worker';
import { Executor } from './executor';
import { lazyRequire } from './lazy-require';
import type { ExecutorSettings, ExecutorSink } from './executor';
import type {
  BatchMessage,
  ExecutorSummary,
  FromExecutor,
  IncidentMessage,
  LoopTime,
  ToExecutor,
  WireEvent,
} from './wire';

/**
 * One executor as the main thread sees it: the inline executor, or one piscina worker. The
 * dispatcher fills `buffer` and posts it; the runner's handlers keep the counters.
 */
export interface Lane {
  readonly index: number;
  /** Sends a message to the executor: every lane shares one function, which writes to `port`. */
  post(msg: ToExecutor): void;
  /** The executor's end: a worker's `MessagePort`, or the inline executor itself. */
  port: LanePort;
  /** Events waiting to be posted. */
  buffer: WireEvent[];
  /** Events handed to this lane. */
  sent: number;
  /** Events it reported finished (executed, skipped or dropped). */
  acked: number;
  /** Most events in flight (sent − acked) before the reader waits. */
  limit: number;
  /** Error classes by the lane's class index. */
  classes: string[];
  sessions: number;
  inFlight: number;
  active: number;
  crashed: boolean;
  /** The executor thread's event-loop time at its latest batch (null before the first). */
  loop: LoopTime | null;
  summary: ExecutorSummary | null;
  ready: Promise<void>;
  done: Promise<void>;
}

/** Where a lane's messages go (`MessagePort.postMessage`, `Executor.postMessage`). */
export interface LanePort {
  postMessage(msg: ToExecutor): void;
}

/** A lane before its executor exists: messages are dropped. */
const NO_PORT: LanePort = { postMessage: () => undefined };

/**
 * The `post` of every lane: one function for all lanes of all runs, so the runner's and the
 * dispatcher's calls to `lane.post` always reach the same target.
 */
function postToPort(this: Lane, msg: ToExecutor): void {
  this.port.postMessage(msg);
}

/** What a lane reports to the runner. */
export interface LaneHandlers {
  batch(lane: Lane, m: BatchMessage): void;
  incident(lane: Lane, m: IncidentMessage): void;
  /** The executor needs events beyond its window (see `ExecutorSink.starved`). */
  starved(lane: Lane): void;
  /** The executor failed to start or run (its whole error, rehydrated). */
  failed(lane: Lane, err: StbError): void;
  /** The worker thread died (an uncaught exception in a plugin, `process.exit`). */
  crashed(lane: Lane, message: string): void;
}

function newLane(index: number, windowEvents: number): Lane {
  return {
    index,
    post: postToPort,
    port: NO_PORT,
    buffer: [],
    sent: 0,
    acked: 0,
    limit: windowEvents,
    classes: [],
    sessions: 0,
    inFlight: 0,
    active: 0,
    crashed: false,
    loop: null,
    summary: null,
    ready: Promise.resolve(),
    done: Promise.resolve(),
  };
}

function sinkFor(lane: Lane, handlers: LaneHandlers): ExecutorSink {
  return {
    batch: (m) => handlers.batch(lane, m),
    incident: (m) => handlers.incident(lane, m),
    starved: () => handlers.starved(lane),
  };
}

/** Runs the executor on the main thread (workers: 0, single-connection targets). */
export function createInlineLane(o: {
  connect: () => Promise<DbSession>;
  /** The control connection, for targets that serve one connection. */
  shared?: DbSession;
  settings: ExecutorSettings;
  windowEvents: number;
  handlers: LaneHandlers;
}): Lane {
  const lane = newLane(0, o.windowEvents);
  const exec = new Executor({
    ...o.settings,
    connect: o.connect,
    sink: sinkFor(lane, o.handlers),
    ...(o.shared ? { shared: o.shared } : {}),
  });
  lane.port = exec;
  lane.ready = exec.preconnect();
  lane.done = exec.done.then((s) => {
    lane.summary = s;
  });
  return lane;
}

/** A set of piscina worker lanes; `close()` releases the ports and the pool. */
export interface WorkerLanes {
  readonly lanes: Lane[];
  close(): Promise<void>;
}

/** Starts `workers` piscina workers, each running one executor with its share of the connections. */
export function createWorkerLanes(o: {
  workers: number;
  workerFile: string;
  descriptor: PluginDescriptor;
  protocol: Protocol;
  settings: ExecutorSettings;
  windowEvents: number;
  handlers: LaneHandlers;
}): WorkerLanes {
  // required here, not imported at the top: only runs with worker threads use it (see
  // `lazyRequire`)
  const { Piscina } = lazyRequire('piscina') as { Piscina: typeof PiscinaPool };
  const pool = new Piscina({
    filename: o.workerFile,
    minThreads: o.workers,
    maxThreads: o.workers,
    idleTimeout: 1000,
    atomics: 'disabled',
    concurrentTasksPerWorker: 1,
  });
  const ports: MessagePort[] = [];
  const { connections } = o.settings;
  const lanes = Array.from({ length: o.workers }, (_, w) => {
    const lane = newLane(w, o.windowEvents);
    const { port1, port2 } = new MessageChannel();
    ports.push(port1);
    lane.port = port1;
    let readyResolve!: () => void;
    let readyReject!: (e: unknown) => void;
    lane.ready = new Promise((res, rej) => {
      readyResolve = res;
      readyReject = rej;
    });
    let doneResolve!: () => void;
    lane.done = new Promise((res) => (doneResolve = res));
    port1.on('message', (m: FromExecutor) => {
      switch (m.type) {
        case 'batch':
          o.handlers.batch(lane, m);
          break;
        case 'incident':
          o.handlers.incident(lane, m);
          break;
        case 'starved':
          o.handlers.starved(lane);
          break;
        case 'ready':
          readyResolve();
          break;
        case 'done':
          lane.summary = m.summary;
          doneResolve();
          break;
        case 'failed': {
          const err = rehydrateError(m.error);
          readyReject(err);
          lane.crashed = true;
          doneResolve();
          o.handlers.failed(lane, err);
          break;
        }
      }
    });
    const task: WorkerTask = {
      port: port2,
      descriptor: o.descriptor,
      protocol: o.protocol,
      settings: {
        ...o.settings,
        connections:
          Math.floor(connections / o.workers) +
          (w < connections % o.workers ? 1 : 0),
      },
    };
    pool.run(task, { transferList: [port2] as never }).catch((err: unknown) => {
      if (lane.summary !== null) return;
      lane.crashed = true;
      const msg = err instanceof Error ? err.message : String(err);
      readyReject(
        new StbError(
          'STB_WORKER_CRASHED',
          `[stb] [bench] Worker ${String(w)} crashed before the run: ${msg}.`,
          { cause: err },
        ),
      );
      doneResolve();
      o.handlers.crashed(lane, msg);
    });
    return lane;
  });
  return {
    lanes,
    async close() {
      for (const p of ports) p.close();
      await pool.destroy();
    },
  };
}
