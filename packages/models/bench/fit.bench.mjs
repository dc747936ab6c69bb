// Benchmark: fit time and peak RSS of @stb/models on synthetic traces (Markov and HMM, 20 states).
// Each configuration runs in its own child process so peak RSS is per fit.
// Usage: node packages/models/bench/fit.bench.mjs   (build first: cd packages/models && npx tsup)
// STB_BENCH_FITS=markov:200000,hmm:200000 picks the fits (model:events, comma-separated).
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { createRng, createTraceHeader } from '@stb/core';
import { createModelRegistry, fitWorkloadModel } from '@stb/models';

const TEMPLATES = 50;
const CONCURRENT = 500;

function templates() {
  const out = [];
  for (let i = 0; i < TEMPLATES; i++) {
    out.push({
      kind: 'template',
      id: i.toString(16).padStart(16, '0'),
      text: `SELECT * FROM t${i} WHERE id = $1 AND name = $2`,
      queryType: 'SELECT',
      tables: [`t${i}`],
      slots: [
        { type: 'int', column: 'id' },
        { type: 'string', column: 'name' },
      ],
    });
  }
  return out;
}

/** Deterministic synthetic events: CONCURRENT interleaved sessions walking a sparse Markov chain. */
async function* events(total, ids) {
  const rng = createRng(1);
  const next = ids.map((_, i) => [
    (i + 1) % TEMPLATES,
    (i * 7 + 3) % TEMPLATES,
    (i * 13 + 5) % TEMPLATES,
  ]);
  const open = [];
  let sessionNo = 0;
  const newSession = () => ({
    id: `s${sessionNo++}`,
    cur: rng.int(TEMPLATES),
    left: 5 + rng.int(40),
    key: 0,
  });
  for (let i = 0; i < CONCURRENT; i++) open.push(newSession());
  let t = 1_700_000_000_000_000;
  for (let n = 0; n < total; n++) {
    const k = rng.int(CONCURRENT);
    const s = open[k];
    t += 3600;
    const reuse = rng.next() < 0.5 && s.key !== 0;
    const key = reuse ? s.key : 1 + rng.int(1_000_000);
    s.key = key;
    yield {
      kind: 'event',
      startUs: t,
      sessionId: s.id,
      templateId: ids[s.cur],
      params: [
        { t: 'int', v: key },
        {
          t: 'string',
          v: rng.next() < 0.7 ? 'alpha' : `user${rng.int(100000)}`,
        },
      ],
      durationUs: 50 + rng.int(500),
    };
    s.cur = next[s.cur][rng.int(3)];
    if (--s.left === 0) open[k] = newSession();
  }
}

async function child(model, total) {
  const ts = templates();
  const ids = ts.map((t) => t.id);
  const registry = createModelRegistry();
  const modelOptions =
    model === 'hmm'
      ? { states: 20, restarts: 2, maxIterations: 20, tolerance: 1e-4 }
      : { order: 2 };
  let iterations = 0;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const artifact = await fitWorkloadModel(() => events(total, ids), {
    catalog: ts,
    header: createTraceHeader({ dialect: 'postgres' }),
    model: registry.get(model),
    modelOptions,
    seed: 1,
    sessionIdleUs: 60_000_000,
    onProgress: (p) => {
      if (p.phase === 'train') iterations = p.step ?? iterations;
    },
  });
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const rssMb = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(
    JSON.stringify({
      seconds,
      cpuSeconds,
      rssMb,
      iterations,
      sessions: artifact.source.sessions,
      artifactBytes: JSON.stringify(artifact).length,
    }) + '\n',
  );
}

async function main() {
  const self = fileURLToPath(import.meta.url);
  // STB_BENCH_FITS=markov:200000,hmm:200000 runs only those fits (e.g. for tools/bench/ab.mjs)
  const configs = process.env.STB_BENCH_FITS
    ? process.env.STB_BENCH_FITS.split(',').map((c) => {
        const [model, total] = c.split(':');
        return [model, Number(total)];
      })
    : [
        ['markov', 200_000],
        ['markov', 1_000_000],
        ['markov', 3_000_000],
        ['hmm', 200_000],
        ['hmm', 1_000_000],
      ];
  const rows = [];
  const notes = [];
  const load = [loadavg()[0]];
  for (const [model, total] of configs) {
    process.stderr.write(`fitting ${model} on ${total} events…\n`);
    const r = spawnSync(
      process.execPath,
      [self, '--child', model, String(total)],
      { encoding: 'utf8', maxBuffer: 1 << 26 },
    );
    if (r.status !== 0) throw new Error(`child failed: ${r.stderr}`);
    const res = JSON.parse(r.stdout.trim().split('\n').pop());
    process.stderr.write(
      `  ${res.seconds.toFixed(2)} s (CPU ${res.cpuSeconds.toFixed(2)} s), peak RSS ${res.rssMb.toFixed(0)} MB${model === 'hmm' ? `, ${res.iterations} iterations` : ''}\n`,
    );
    const label = `${model}${model === 'hmm' ? ' (20 states)' : ' (order 2)'}, ${total.toLocaleString('en')} events`;
    const target =
      total === 1_000_000
        ? model === 'markov'
          ? '<= 5 s'
          : '<= 60 s'
        : undefined;
    rows.push({
      metric: `fit time, ${label}`,
      value: Number(res.seconds.toFixed(2)),
      unit: 's',
      ...(target ? { target } : {}),
    });
    rows.push({
      metric: `CPU time, ${label}`,
      value: Number(res.cpuSeconds.toFixed(2)),
      unit: 's',
    });
    rows.push({
      metric: `peak RSS, ${label}`,
      value: Number(res.rssMb.toFixed(0)),
      unit: 'MB',
      target: 'independent of event count',
    });
    if (model === 'hmm')
      notes.push(
        `hmm ${total}: ${res.iterations} Baum-Welch iterations (cap 20, tolerance 1e-4, 2 restarts)`,
      );
    load.push(loadavg()[0]);
  }
  console.log(
    JSON.stringify({
      title: '@stb/models: fitting workload models',
      command: 'node packages/models/bench/fit.bench.mjs',
      rows,
      notes: `Synthetic trace: 50 templates, 500 interleaved sessions, 2 parameters per event (reused int key, zipf-like string), durations. Fit = parameter + arrival pass plus the sequence model's passes. ${notes.join('; ')}. Fit time is wall time; CPU time is the fit's user + system time (one thread). 1-minute load average ${Math.min(...load).toFixed(1)}–${Math.max(...load).toFixed(1)} during the run.`,
    }),
  );
}

if (process.argv[2] === '--child')
  await child(process.argv[3], Number(process.argv[4]));
else await main();
