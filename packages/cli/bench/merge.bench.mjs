// Benchmark (issue 21): merging 100 shard model artifacts (`mergeModelArtifacts`, what
// `stb merge-models` runs) against fitting the whole trace in one process, and merging 100 shard
// bench results (`mergeBenchResults`, what `stb merge-results` runs).
// Usage: node packages/cli/bench/merge.bench.mjs   (build first). Prints the JSON row set last.
import { loadavg } from 'node:os';
import * as hdr from 'hdr-histogram-js';
import { createRng, createTraceHeader } from '@stb/core';
import { mergeBenchResults } from '@stb/bench';
import { createModelRegistry, fitWorkloadModel, mergeModelArtifacts } from '@stb/models';

const SHARDS = Number(process.env.SHARDS ?? 100);
const TEMPLATES = 50;
const EVENTS = 100_000;
const ROUNDS = Number(process.env.ROUNDS ?? 5);

const ids = Array.from({ length: TEMPLATES }, (_, i) => i.toString(16).padStart(16, '0'));
const catalog = ids.map((id, i) => ({
  kind: 'template',
  id,
  text: `SELECT * FROM t${i} WHERE id = $1`,
  queryType: 'SELECT',
  tables: [`t${i}`],
  slots: [{ type: 'int', column: 'id' }],
}));

/** 100 000 events of ~4 000 interleaved sessions walking a sparse chain (deterministic). */
async function* events() {
  const rng = createRng(1);
  const open = [];
  let no = 0;
  const session = () => ({ id: `s${no++}`, cur: rng.int(TEMPLATES), left: 5 + rng.int(40) });
  for (let i = 0; i < 200; i++) open.push(session());
  let t = 1_700_000_000_000_000;
  for (let n = 0; n < EVENTS; n++) {
    const k = rng.int(open.length);
    const s = open[k];
    t += 3600;
    yield { kind: 'event', startUs: t, sessionId: s.id, templateId: ids[s.cur], params: [{ t: 'int', v: 1 + rng.int(100_000) }] };
    s.cur = (s.cur * 7 + 1 + rng.int(3)) % TEMPLATES;
    if (--s.left === 0) open[k] = session();
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const header = createTraceHeader({ dialect: 'postgres', source: {}, timeResolutionUs: 1 });
const model = createModelRegistry().get('markov');
const fit = (shard) =>
  fitWorkloadModel(events, { catalog, header, model, seed: 1, createdAt: '2024-01-01T00:00:00Z', sessionIdleUs: 60_000_000, ...(shard ? { shard } : {}) });

const load = [loadavg()[0]];
process.stderr.write(`fitting ${SHARDS} shards…\n`);
const shards = [];
for (let i = 0; i < SHARDS; i++) shards.push(await fit({ index: i, count: SHARDS }));
const artifactBytes = shards.reduce((a, s) => a + JSON.stringify(s).length, 0);

const mergeMs = [];
const fitMs = [];
let merged;
for (let r = 0; r < ROUNDS; r++) {
  // alternate: one whole fit, one merge of the 100 shards
  let t = performance.now();
  const whole = await fit(undefined);
  fitMs.push(performance.now() - t);
  t = performance.now();
  merged = mergeModelArtifacts(shards, { model });
  mergeMs.push(performance.now() - t);
  if (merged.source.events !== whole.source.events) throw new Error('merge lost events');
}
load.push(loadavg()[0]);

// 100 shard results: 50 templates each, latencies of 2 000 executions per template (seeded)
const rng = createRng(2);
const results = Array.from({ length: SHARDS }, (_, i) => {
  const templates = ids.map((templateId) => {
    const h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: 3, autoResize: true });
    for (let k = 0; k < 2000; k++) h.recordValue(Math.round(200_000 * Math.exp(rng.next() * 3)));
    const stats = {
      count: 2000, ok: 2000, errors: 0, qps: 200, goodput: 200,
      latencyMs: { count: 2000, mean: 1, p50: 1, p90: 1, p95: 1, p99: 1, p999: 1, max: 1 },
      errorsByClass: {}, rows: 2000, zeroRowShare: 0,
      latencyHistogramNs: hdr.encodeIntoCompressedBase64(h),
    };
    h.destroy();
    return { templateId, queryType: 'SELECT', ...stats };
  });
  return {
    format: 'stb-bench-result', version: 1, status: 'completed', mode: 'closed',
    context: {
      tool: { name: 'stb', version: '0' }, node: process.version,
      trace: { hash: 'h' }, seed: 1, options: { shard: { index: i, count: SHARDS } },
      target: { url: 'postgres://x', plugin: 'postgres', dialect: 'postgres' },
      startedAt: '2024-01-01T00:00:00.000Z', endedAt: '2024-01-01T00:00:10.000Z',
    },
    durationSeconds: 10, warmupSeconds: 0,
    overall: { ...templates[0], count: 100_000 },
    templates,
    sessions: { total: 10, completed: 10, aborted: 0 },
    skipped: { readOnly: 0, notRun: 0 },
    faults: { reconnects: 0, workerCrashes: 0, incidents: [] },
  };
});
const resultMs = [];
for (let r = 0; r < ROUNDS; r++) {
  const t = performance.now();
  mergeBenchResults(results);
  resultMs.push(performance.now() - t);
}
load.push(loadavg()[0]);

const m = median(mergeMs);
const f = median(fitMs);
console.log(
  JSON.stringify({
    title: 'Merging shards (issue 21): 100 model artifacts, 100 bench results',
    command: 'npm run bench -- merge',
    rows: [
      { metric: `merge ${SHARDS} markov shard artifacts (${EVENTS} events, ${TEMPLATES} templates; ${(artifactBytes / 1e6).toFixed(1)} MB of JSON)`, value: Math.round(m), unit: 'ms (median of 5)' },
      { metric: 'fit of the whole trace in one process (the alternative), same rounds', value: Math.round(f), unit: 'ms (median of 5)' },
      { metric: 'merge ÷ whole fit', value: Math.round((m / f) * 100) / 100, unit: 'ratio of medians' },
      { metric: `merge ${SHARDS} bench results (${TEMPLATES} templates, an HDR histogram per template)`, value: Math.round(median(resultMs)), unit: 'ms (median of 5)' },
    ],
    notes: `Load average ${load.map((x) => x.toFixed(2)).join(' → ')} on a shared, noisy machine (other engineers' jobs ran at the same time). Shard artifacts are fitted once (not timed); each round times one whole fit then one merge, alternating. The bench results are synthetic (seeded log-uniform latencies, 2 000 per template per shard): merging cost depends on the histograms, not on how they were recorded.`,
  }),
);
