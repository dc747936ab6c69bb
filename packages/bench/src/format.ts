import type { BenchResult, BenchStats } from '@stb/core';

const f = (x: number, d = 2): string => x.toFixed(d);

const opt = (x: number | undefined): string => (x === undefined ? '-' : f(x));

function row(name: string, type: string, s: BenchStats): string[] {
  const l = s.latencyMs;
  return [
    name,
    type,
    String(s.count),
    f(s.qps, 1),
    f(l.p50),
    f(l.p90),
    f(l.p99),
    f(l.p999),
    f(l.max),
    opt(s.serviceMs?.p50),
    opt(s.serviceMs?.p99),
    opt(s.scheduleLagMs?.p99),
    String(s.errors),
    `${Math.round(s.zeroRowShare * 100)}%`,
  ];
}

/** Above this share of the mean latency, schedule lag makes the figures the client's. */
export const CLIENT_BOUND_LAG_SHARE = 0.2;

/**
 * Above this share of the run a runner thread was busy (its event-loop utilisation), the summary
 * names the client as the bottleneck: the thread had at most 15 % of the run left to wait for
 * answers, so the throughput (closed loop) or the start times (replay, open loop) are the load
 * generator's. Measured (docs/benchmarking.md): `pg-lean` point-select closed loops that ran
 * 0.63–0.68× pgbench while the plugin alone ran 0.74–0.9× were 0.89–0.93 busy (0.98 with the
 * `postgres` plugin); pg_sleep loops stay under 0.5.
 */
export const CLIENT_BOUND_BUSY_SHARE = 0.85;

/**
 * At or above this share of the run a runner thread spent ready to run but waiting for a CPU
 * (`client.cpuWaitShare`), the summary says so: other work held the cores, and the runner's start
 * times and reads waited for it. Measured (docs/benchmarking.md): 5,000 statements/s replayed
 * against a PostgreSQL on the same 2 cores, 0.11 of the run with the machine otherwise idle (lag
 * p99 about 0.5 ms) and 0.4 with a build running beside it (lag p99 2–4 ms).
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

/**
 * Renders a result as a plain-text table (one row per template, then the total), for terminals.
 * @example
 * process.stderr.write(formatBenchResult(result));
 */
export function formatBenchResult(
  result: BenchResult,
  options: { maxTemplates?: number } = {},
): string {
  const head = [
    'template',
    'type',
    'count',
    'qps',
    'p50 ms',
    'p90 ms',
    'p99 ms',
    'p99.9 ms',
    'max ms',
    'svc p50',
    'svc p99',
    'lag p99',
    'errors',
    'zero rows',
  ];
  const rows = result.templates
    .slice(0, options.maxTemplates ?? 20)
    .map((t) => row(t.templateId, t.queryType, t));
  rows.push(row('total', '', result.overall));
  const widths = head.map((h, i) =>
    Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)),
  );
  const line = (cells: string[]): string =>
    cells
      .map((c, i) =>
        i < 2 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0),
      )
      .join('  ');
  const out = [line(head), ...rows.map(line)];
  const o = result.overall;
  out.push(
    '',
    `${result.status}${result.stopReason ? ` (${result.stopReason})` : ''}: ${o.count} queries in ${f(result.durationSeconds, 1)} s, ${f(o.qps, 1)} q/s, goodput ${f(o.goodput, 1)} q/s, ${o.errors} errors` +
      (Object.keys(o.errorsByClass).length > 0
        ? ` (${Object.entries(o.errorsByClass)
            .map(([k, v]) => `${k}: ${v}`)
            .join(', ')})`
        : ''),
  );
  out.push(
    result.mode === 'closed'
      ? 'latency columns: service time (closed loop); svc = sent → completed'
      : 'latency columns: from the intended start (lag + service, coordinated-omission-safe); svc = sent → completed; lag = start − due',
  );
  if (result.scheduleLagMs)
    out.push(
      `schedule lag: p50 ${f(result.scheduleLagMs.p50, 3)} ms, p99 ${f(result.scheduleLagMs.p99, 3)} ms, max ${f(result.scheduleLagMs.max)} ms`,
    );
  const c = result.client;
  if (c)
    out.push(
      `client: ${f(c.cpuSeconds, 2)} CPU s for ${c.queries} queries (${f(c.cpuPerQueryUs, 1)} µs each, warm-up included); busiest of ${c.threads} runner thread${c.threads === 1 ? '' : 's'} ${Math.round(c.busiestThreadShare * 100)}% busy` +
        (c.cpuWaitShare === undefined
          ? ''
          : `; waited for a CPU ${Math.round(c.cpuWaitShare * 100)}% of the run`),
    );
  const share = lagShare(result);
  if (share !== undefined && share > CLIENT_BOUND_LAG_SHARE)
    out.push(
      `bottleneck: the client. Schedule lag is ${Math.round(share * 100)}% of the mean latency, so these latencies measure the load generator, not the database; read the service times (svc), or give the runner more CPU (fewer sessions per core, --workers, another machine).`,
    );
  else if (c && c.busiestThreadShare > CLIENT_BOUND_BUSY_SHARE)
    out.push(
      `bottleneck: the client. A runner thread was busy ${Math.round(c.busiestThreadShare * 100)}% of the run, so ${result.mode === 'closed' ? 'the throughput is the load generator’s, not the database’s' : 'statements may start late for want of its time'}; give the runner more CPU (--workers, fewer sessions per core, another machine) before reading these figures as the database’s.`,
    );
  if (c?.cpuWaitShare !== undefined && c.cpuWaitShare >= CLIENT_CPU_WAIT_SHARE)
    out.push(
      `cpu contention: a runner thread was ready to run but waited for a CPU ${Math.round(c.cpuWaitShare * 100)}% of the run. Other work held the cores (the database itself, if it runs on this machine), and for that time the runner could neither start statements nor read answers; give it cores of its own (taskset, another machine) before reading the lag and latencies as the database's.`,
    );
  if (result.faults.reconnects > 0 || result.faults.workerCrashes > 0)
    out.push(
      `faults: ${result.faults.reconnects} reconnects, ${result.faults.workerCrashes} worker crashes; sessions ${result.sessions.completed}/${result.sessions.total} completed, ${result.skipped.notRun} events not run`,
    );
  for (const w of result.faults.outages ?? [])
    out.push(
      `outage: target unreachable from ${w.start} (${f(w.startMs / 1000, 1)} s into the run) for ${f(w.durationMs / 1000, 1)} s${w.unresolved ? ' (still unreachable when the run ended)' : ''}, ${w.failedQueries} queries failed`,
    );
  const details = result.templates
    .flatMap((t) =>
      (t.errorDetails ?? []).map((d) => ({ id: t.templateId, ...d })),
    )
    .sort((a, b) => b.count - a.count)
    .slice(0, 5);
  for (const d of details)
    out.push(
      `errors: ${d.count} × template ${d.id}: ${d.code ? `${d.code} ` : ''}${d.message}`,
    );
  return out.join('\n') + '\n';
}
