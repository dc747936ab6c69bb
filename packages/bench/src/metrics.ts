import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type * as PromClient from 'prom-client';
import type { Counter, Gauge, Registry } from 'prom-client';
import { StbError } from '@stb/core';
import { FastHistogram } from './internal/fast-histogram';
import { lazyRequire } from './internal/lazy-require';

let promClient: typeof PromClient | undefined;
/**
 * prom-client, loaded on first use: a run without metrics (a library caller without a registry,
 * `stb bench --no-metrics`) never loads it, nor its dependencies (@opentelemetry/api among them).
 * Loading `@stb/bench` and the libpq addon took 0.42–0.48 s of CPU without it against 0.46–0.50 s
 * (issue 16, docs/benchmarking.md).
 */
function prom(): typeof PromClient {
  promClient ??= lazyRequire('prom-client') as typeof PromClient;
  return promClient;
}

/** Latency buckets, seconds (0.1 ms … 10 s). */
export const LATENCY_BUCKETS_SECONDS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
  0.5, 1, 2.5, 5, 10,
];

/** Names of every metric the runner exports (the Grafana dashboard may use only these). */
export const BENCH_METRIC_NAMES = [
  'stb_bench_query_duration_seconds',
  'stb_bench_query_service_seconds',
  'stb_bench_queries_total',
  'stb_bench_errors_total',
  'stb_bench_schedule_lag_seconds',
  'stb_bench_in_flight_queries',
  'stb_bench_active_sessions',
  'stb_bench_reconnects_total',
  'stb_bench_worker_crashes_total',
  'stb_bench_client_cpu_seconds_total',
  'stb_bench_client_busy_ratio',
  'stb_bench_client_cpu_wait_ratio',
] as const;

/** A new, empty prom-client registry (never the global default), for callers without prom-client. */
export function createMetricsRegistry(): Registry {
  const { Registry } = prom();
  return new Registry();
}

/**
 * A histogram the runner records into once per query. Label sets are bound once (`labels`);
 * observing costs a bucket search, not prom-client's per-call label hashing. Renders as a
 * standard Prometheus histogram on the registry it was created on.
 */
export interface BenchHistogram {
  /** The series for these label values (in the metric's label order). */
  labels(...values: string[]): { observe(value: number): void };
  observe(value: number): void;
}

/** The runner's Prometheus metrics, registered on a caller-owned registry. */
export interface BenchMetrics {
  /** Latency from the intended start (the coordinated-omission-safe figure). */
  readonly duration: BenchHistogram;
  /** Service time, sent → completed. */
  readonly service: BenchHistogram;
  readonly queries: Counter<'template' | 'query_type' | 'outcome'>;
  readonly errors: Counter<'template' | 'code'>;
  readonly scheduleLag: BenchHistogram;
  readonly inFlight: Gauge;
  readonly activeSessions: Gauge;
  readonly reconnects: Counter;
  readonly workerCrashes: Counter;
  /** CPU (user + system) of the runner process since the workload started, seconds. */
  readonly clientCpu: Counter;
  /** The busiest runner thread's event-loop utilisation over the last second (0–1). */
  readonly clientBusy: Gauge;
  /**
   * The longest share of the last second a runner thread was ready to run but waited for a CPU
   * (0–1; Linux only: never set where the kernel does not tell).
   */
  readonly clientCpuWait: Gauge;
}

/**
 * Registers the runner's metrics on `registry` (never the global default).
 * @example
 * const registry = new Registry();
 * const metrics = createBenchMetrics(registry);
 */
export function createBenchMetrics(registry: Registry): BenchMetrics {
  const { Counter, Gauge } = prom();
  const registers = [registry];
  return {
    duration: new FastHistogram({
      name: 'stb_bench_query_duration_seconds',
      help: 'Query latency from the intended start (schedule or arrival time), seconds.',
      labelNames: ['template', 'query_type'],
      buckets: LATENCY_BUCKETS_SECONDS,
      registers,
    }),
    service: new FastHistogram({
      name: 'stb_bench_query_service_seconds',
      help: 'Query service time (sent to the database → completed), seconds: latency minus schedule lag.',
      labelNames: ['template', 'query_type'],
      buckets: LATENCY_BUCKETS_SECONDS,
      registers,
    }),
    queries: new Counter({
      name: 'stb_bench_queries_total',
      help: 'Queries executed, by template (top N, rest `other`), query type and outcome.',
      labelNames: ['template', 'query_type', 'outcome'],
      registers,
    }),
    errors: new Counter({
      name: 'stb_bench_errors_total',
      help: 'Failed queries by template and error class (SQLSTATE class, MySQL errno, connection).',
      labelNames: ['template', 'code'],
      registers,
    }),
    scheduleLag: new FastHistogram({
      name: 'stb_bench_schedule_lag_seconds',
      help: 'How late queries started against their schedule (replay and open modes), seconds.',
      buckets: LATENCY_BUCKETS_SECONDS,
      registers,
    }),
    inFlight: new Gauge({
      name: 'stb_bench_in_flight_queries',
      help: 'Queries sent and not yet answered.',
      registers,
    }),
    activeSessions: new Gauge({
      name: 'stb_bench_active_sessions',
      help: 'Trace sessions currently holding a connection.',
      registers,
    }),
    reconnects: new Counter({
      name: 'stb_bench_reconnects_total',
      help: 'Connections re-established after the server dropped them.',
      registers,
    }),
    workerCrashes: new Counter({
      name: 'stb_bench_worker_crashes_total',
      help: 'Worker threads that crashed.',
      registers,
    }),
    clientCpu: new Counter({
      name: 'stb_bench_client_cpu_seconds_total',
      help: 'CPU time (user + system) the runner process used since the workload started, seconds.',
      registers,
    }),
    clientBusy: new Gauge({
      name: 'stb_bench_client_busy_ratio',
      help: "Event-loop utilisation of the busiest runner thread (main thread or a worker) over the last second, 0-1. Above 0.85 the throughput is the load generator's, not the database's.",
      registers,
    }),
    clientCpuWait: new Gauge({
      name: 'stb_bench_client_cpu_wait_ratio',
      help: 'Longest share of the last second a runner thread was ready to run but waited for a CPU (Linux), 0-1: other work (the database, on the same machine) held the cores, so statements started and answers were read that much later.',
      registers,
    }),
  };
}

/** A running `/metrics` endpoint. */
export interface MetricsServer extends AsyncDisposable {
  /** `http://host:port/metrics` */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Serves `registry` on `http://host:port/metrics` (default 127.0.0.1:9091; port 0 picks a free port).
 * @throws StbError `STB_METRICS_SERVER_FAILED` when the port cannot be bound.
 */
export async function startMetricsServer(
  registry: Registry,
  options: { host?: string; port?: number } = {},
): Promise<MetricsServer> {
  const host = options.host ?? '127.0.0.1';
  const server: Server = createServer((req, res) => {
    if (req.url !== '/metrics' && !req.url?.startsWith('/metrics?')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    registry.metrics().then(
      (body) => {
        res.writeHead(200, { 'content-type': registry.contentType });
        res.end(body);
      },
      (err: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(String(err));
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) =>
      reject(
        new StbError(
          'STB_METRICS_SERVER_FAILED',
          `[stb] [bench] Cannot serve metrics on ${host}:${options.port ?? 9091}: ${err.message}. Choose another --metrics-port or --no-metrics.`,
          { cause: err, details: { host, port: options.port ?? 9091 } },
        ),
      ),
    );
    server.listen(options.port ?? 9091, host, () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
  const shown = host.includes(':') ? `[${host}]` : host;
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  };
  return {
    url: `http://${shown}:${port}/metrics`,
    port,
    close,
    [Symbol.asyncDispose]: close,
  };
}
