// Trace I/O throughput and memory: write and read+validate 1,000,000 events as JSON Lines, CSV,
// gzip JSON Lines and whole-file JSON. Each case runs in a fresh child process so its peak RSS
// is its own; a 200k-event run of the JSON Lines cases shows memory is flat in the event count.
// Run: flock /tmp/stb-bench.lock node packages/core/bench/trace-io.bench.mjs [events]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  computeTemplateId,
  createTraceHeader,
  openTrace,
  readTraceRecords,
  withTemplateRecords,
  writeTrace,
} from '@stb/core';

const SELF = fileURLToPath(import.meta.url);
const MiB = 1024 * 1024;

/** pgbench-like events: 20 templates, 64 sessions, 3 typed parameters, durations. */
function makeData() {
  const templates = Array.from({ length: 20 }, (_, i) => {
    const text = `UPDATE pgbench_accounts_${i} SET abalance = abalance + $1 WHERE aid = $2 AND note = $3`;
    return {
      kind: 'template',
      id: computeTemplateId('postgres', text),
      text,
      queryType: 'UPDATE',
      tables: [`pgbench_accounts_${i}`],
      slots: [
        { type: 'int', column: 'abalance', context: 'SET' },
        { type: 'int', column: 'aid', context: '=' },
        { type: 'string', column: 'note', context: '=' },
      ],
    };
  });
  const byId = new Map(templates.map((t) => [t.id, t]));
  const header = createTraceHeader({
    dialect: 'postgres',
    source: { tool: 'bench' },
    createdAt: '2024-01-01T00:00:00.000Z',
  });
  function* events(n) {
    let t = 1_700_000_000_000_000;
    for (let i = 0; i < n; i++) {
      t += 37 + (i % 101);
      yield {
        kind: 'event',
        startUs: t,
        sessionId: `s${i % 64}`,
        templateId: templates[(i * 7) % 20].id,
        params: [
          { t: 'int', v: ((i * 2654435761) % 10007) - 5000 },
          { t: 'int', v: i % 100000 },
          { t: 'string', v: `note ${i % 997}` },
        ],
        durationUs: 50 + (i % 450),
      };
    }
  }
  return { header, byId, events };
}

/** Peak RSS: sampled on a timer and every 16k events. */
function rssSampler() {
  let peak = process.memoryUsage.rss();
  const sample = () => {
    const r = process.memoryUsage.rss();
    if (r > peak) peak = r;
  };
  const timer = setInterval(sample, 10);
  return { sample, stop: () => (clearInterval(timer), sample(), peak) };
}

async function runCase(op, file, n) {
  const { header, byId, events } = makeData();
  const rss = rssSampler();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let count = 0;
  if (op === 'write') {
    const s = await writeTrace(
      file,
      withTemplateRecords(header, events(n), (id) => byId.get(id)),
      { onProgress: rss.sample },
    );
    count = s.events;
  } else if (op === 'batches') {
    // what `stb bench` reads: the events in arrays, one per chunk
    const t = await openTrace(file, { onProgress: rss.sample });
    for await (const b of t.eventBatches) count += b.length;
  } else {
    for await (const r of readTraceRecords(file, { onProgress: rss.sample })) {
      if (r.kind === 'event') count++;
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const peak = rss.stop();
  if (count !== n)
    throw new Error(`${op} ${file}: ${count} events, expected ${n}`);
  process.stdout.write(
    `${JSON.stringify({ eventsPerSec: n / seconds, eventsPerCpuSec: n / cpuSeconds, peakRssMiB: peak / MiB, seconds })}\n`,
  );
}

function child(op, file, n) {
  const r = spawnSync(process.execPath, [SELF, '--case', op, file, String(n)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (r.status !== 0)
    throw new Error(`case ${op} ${file} failed (exit ${r.status})`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1));
}

async function main() {
  const n = Number(process.argv[2] ?? 1_000_000);
  const small = Math.round(n / 5);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'stb-bench-trace-io-'));
  const rows = [];
  const fmt = (x) => Math.round(x);
  const k = (x) => `${Math.round(x / 1000)}k`;
  try {
    const cases = [
      { label: 'JSONL', ext: 'stb.jsonl', write: '≥ 500000', read: '≥ 300000' },
      { label: 'JSONL gzip', ext: 'stb.jsonl.gz' },
      { label: 'CSV', ext: 'csv' },
      { label: 'JSON document', ext: 'json' },
    ];
    const peaks = {};
    for (const c of cases) {
      const file = path.join(dir, `t.${c.ext}`);
      for (const op of ['write', 'read']) {
        process.stderr.write(`[trace-io] ${c.label} ${op} ${n} events…\n`);
        const r = child(op, file, n);
        const what = op === 'write' ? 'write' : 'read+validate';
        const target = c[op] ? { target: c[op] } : {};
        rows.push({
          metric: `${c.label} ${what}, ${k(n)} events (wall clock)`,
          value: fmt(r.eventsPerSec),
          unit: 'events/s',
          ...target,
        });
        rows.push({
          metric: `${c.label} ${what}, ${k(n)} events (per CPU-second)`,
          value: fmt(r.eventsPerCpuSec),
          unit: 'events/CPU-s',
          ...target,
        });
        rows.push({
          metric: `${c.label} ${what}, ${k(n)} events: peak RSS`,
          value: fmt(r.peakRssMiB),
          unit: 'MiB',
        });
        peaks[`${c.label} ${op}`] = r.peakRssMiB;
      }
      if (c.label !== 'JSONL') continue;
      // openTrace(…).eventBatches on the same file: the path `stb bench` reads
      process.stderr.write(`[trace-io] JSONL eventBatches ${n} events…\n`);
      const b = child('batches', file, n);
      rows.push({
        metric: `JSONL read+validate as event arrays (openTrace().eventBatches, what stb bench reads), ${k(n)} events (wall clock)`,
        value: fmt(b.eventsPerSec),
        unit: 'events/s',
      });
      rows.push({
        metric: `JSONL read+validate as event arrays, ${k(n)} events (per CPU-second)`,
        value: fmt(b.eventsPerCpuSec),
        unit: 'events/CPU-s',
      });
      rows.push({
        metric: `JSONL read+validate as event arrays, ${k(n)} events: peak RSS`,
        value: fmt(b.peakRssMiB),
        unit: 'MiB',
      });
    }
    // Flat memory: the same JSONL cases at a fifth of the events.
    for (const op of ['write', 'read']) {
      const file = path.join(dir, `small.stb.jsonl`);
      process.stderr.write(`[trace-io] JSONL ${op} ${small} events…\n`);
      const r = child(op, file, small);
      const what = op === 'write' ? 'write' : 'read+validate';
      rows.push({
        metric: `JSONL ${what}, ${k(small)} events: peak RSS`,
        value: fmt(r.peakRssMiB),
        unit: 'MiB',
      });
      rows.push({
        metric: `JSONL ${what}: peak RSS ${k(n)} / ${k(small)} events`,
        value: Math.round((peaks[`JSONL ${op}`] / r.peakRssMiB) * 100) / 100,
        unit: 'ratio',
        target: '≈ 1 (flat)',
      });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(
    `${JSON.stringify({
      title: 'Trace I/O (@stb/core)',
      command: `node packages/core/bench/trace-io.bench.mjs${process.argv[2] ? ` ${process.argv[2]}` : ''}`,
      rows,
      notes:
        'Each case runs in a fresh Node process (one JS thread; gzip also uses the libuv thread pool). "Per CPU-second" divides by the process\'s user+system CPU time, the one-core throughput that the wall clock hides when other processes compete for the 2 cores. Write figures include generating the events. Read figures include JSON parsing, schema validation (fast path with zod fallback) and the template check. The read+validate rows iterate readTraceRecords record by record; the event-array rows iterate openTrace(…).eventBatches (one array per 64 KiB chunk read), the path stb bench takes.',
    })}\n`,
  );
}

if (process.argv[2] === '--case') {
  await runCase(process.argv[3], process.argv[4], Number(process.argv[5]));
} else {
  await main();
}
