import { clientLimits } from '@stb/core';
import type { BenchResult, BenchStats, ClientLimit } from '@stb/core';

/** PostgreSQL plugins whose closed loop runs in JavaScript (the summary points to `pg-native`). */
const JS_PG_PLUGINS = new Set(['postgres', 'pg-lean']);

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
      `client: ${f(c.cpuSeconds, 2)} CPU s for ${c.queries} queries${c.queries > 0 ? ` (${f(c.cpuPerQueryUs, 1)} µs each, warm-up included)` : ''}; busiest of ${c.threads} runner thread${c.threads === 1 ? '' : 's'} ${Math.round(c.busiestThreadShare * 100)}% busy` +
        (c.cpuWaitShare === undefined
          ? ''
          : `; waited for a CPU ${Math.round(c.cpuWaitShare * 100)}% of the run`),
    );
  const limits = clientLimits(result);
  const pct = (kind: ClientLimit['kind']): number | undefined => {
    const l = limits.find((x) => x.kind === kind);
    return l === undefined ? undefined : Math.round(l.share * 100);
  };
  const lag = pct('lag');
  const busy = pct('busy');
  const wait = pct('cpu-wait');
  if (lag !== undefined)
    out.push(
      `bottleneck: the client. Schedule lag is ${lag}% of the mean latency, so these latencies measure the load generator, not the database; read the service times (svc), or give the runner more CPU (fewer sessions per core, --workers, another machine).`,
    );
  else if (busy !== undefined)
    out.push(
      `bottleneck: the client. A runner thread was busy ${busy}% of the run, so ${result.mode === 'closed' ? 'the throughput is the load generator’s, not the database’s' : 'statements may start late for want of its time'}; give the runner more CPU (--workers, fewer sessions per core, another machine) before reading these figures as the database’s.` +
        (result.mode === 'closed' &&
        JS_PG_PLUGINS.has(result.context.target.plugin)
          ? ' For PostgreSQL, --target postgres+native://… (the pg-native plugin, @stb/libpq-loop) runs the closed loop from native threads, with less client CPU per statement.'
          : ''),
    );
  if (wait !== undefined)
    out.push(
      `cpu contention: a runner thread was ready to run but waited for a CPU ${wait}% of the run. Other work held the cores (the database itself, if it runs on this machine), and for that time the runner could neither start statements nor read answers; give it cores of its own (taskset, another machine) before reading the lag and latencies as the database's.`,
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
