import type { BenchResult } from './bench-result';

/**
 * When a benchmark result's figures are the load generator's rather than the database's (issue
 * 16): the thresholds `stb bench`'s summary names the client by, and `stb compare` warns by.
 * Measurements behind each threshold: docs/benchmarking.md.
 */

/** Above this share of the mean latency, schedule lag makes the figures the client's. */
export const CLIENT_BOUND_LAG_SHARE = 0.2;

/**
 * Above this share of the run a runner thread was busy (its event-loop utilisation), the client is
 * the bottleneck: the thread had at most 15 % of the run left to wait for answers, so the
 * throughput (closed loop) or the start times (replay, open loop) are the load generator's.
 * Measured: `pg-lean` point-select closed loops that ran 0.63–0.68× pgbench while the plugin alone
 * ran 0.74–0.9× were 0.89–0.93 busy (0.98 with the `postgres` plugin); pg_sleep loops stay under
 * 0.5.
 */
export const CLIENT_BOUND_BUSY_SHARE = 0.85;

/**
 * At or above this share of the run a runner thread spent ready to run but waiting for a CPU
 * (`client.cpuWaitShare`), other work held the cores, and the runner's start times and reads
 * waited for it. Measured: 5,000 statements/s replayed against a PostgreSQL on the same 2 cores,
 * 0.09–0.14 of the run with the machine otherwise idle (lag p99 about 0.4–0.7 ms) and about 0.2–0.4
 * with a build running beside it (lag p99 0.7–4 ms).
 */
export const CLIENT_CPU_WAIT_SHARE = 0.1;

/**
 * The share (0..1) of the mean latency that is schedule lag, or undefined without a schedule
 * (closed loop) or measurements.
 */
export function lagShare(result: BenchResult): number | undefined {
  const lag = result.scheduleLagMs;
  const lat = result.overall.latencyMs;
  if (lag === undefined || lag.count === 0 || !(lat.mean > 0)) return undefined;
  return Math.min(1, lag.mean / lat.mean);
}

/** One sign that the client limited a run, with its share (0–1). */
export interface ClientLimit {
  /** `lag`: of the mean latency; `busy`: of the run, busiest runner thread; `cpu-wait`: of the run. */
  readonly kind: 'lag' | 'busy' | 'cpu-wait';
  readonly share: number;
}

/**
 * Every sign in `result` that the load generator, not the database, set its figures: schedule lag
 * above {@link CLIENT_BOUND_LAG_SHARE} of the mean latency, a runner thread busy above
 * {@link CLIENT_BOUND_BUSY_SHARE} of the run, or one waiting for a CPU at least
 * {@link CLIENT_CPU_WAIT_SHARE} of it. Empty when none, when the result predates the fields, and
 * for a run that ran no statement (its threads' shares are then their start-up's).
 * @example
 * for (const l of clientLimits(result)) console.warn(`${l.kind}: ${Math.round(l.share * 100)}%`);
 */
export function clientLimits(result: BenchResult): ClientLimit[] {
  const out: ClientLimit[] = [];
  const lag = lagShare(result);
  if (lag !== undefined && lag > CLIENT_BOUND_LAG_SHARE)
    out.push({ kind: 'lag', share: lag });
  // a run that ran nothing (stopped while starting) has only its start-up to share out: no sign
  const c = result.client?.queries === 0 ? undefined : result.client;
  if (c !== undefined && c.busiestThreadShare > CLIENT_BOUND_BUSY_SHARE)
    out.push({ kind: 'busy', share: c.busiestThreadShare });
  if (c?.cpuWaitShare !== undefined && c.cpuWaitShare >= CLIENT_CPU_WAIT_SHARE)
    out.push({ kind: 'cpu-wait', share: c.cpuWaitShare });
  return out;
}

/** One sign in words, as `stb bench`'s summary and `stb compare` give it. */
function describe(l: ClientLimit): string {
  const pct = Math.round(l.share * 100);
  switch (l.kind) {
    case 'lag':
      return `schedule lag ${pct}% of the mean latency`;
    case 'busy':
      return `a runner thread busy ${pct}% of the run`;
    case 'cpu-wait':
      return `a runner thread waiting for a CPU ${pct}% of the run`;
  }
}

/**
 * A warning naming the run (`label`) and every sign that its client limited it, or undefined
 * when none: what `stb compare` and `stb validate --bench-*` say about a run before comparing it.
 * @example
 * const w = clientLimitWarning(result, 'after.json'); // "The client limited after.json (…)…"
 */
export function clientLimitWarning(
  result: BenchResult,
  label: string,
): string | undefined {
  const signs = clientLimits(result).map(describe);
  if (signs.length === 0) return undefined;
  return `The client limited ${label} (${signs.join('; ')}): its figures are partly the load generator's, so a difference may be the client's, not the database's. Give the runner cores of its own and re-run.`;
}
