// Benchmark: validate 1,000,000 vs 1,000,000 synthetic events (seeded), streaming.
// Run: cd packages/validator && npx tsup && cd ../.. && flock /tmp/stb-bench.lock node packages/validator/bench/validate.bench.mjs
import { createRng, computeTemplateId } from '@stb/core';
import { validateTraces, renderHtmlReport } from '@stb/validator';

const N = Number(process.env.STB_BENCH_EVENTS ?? 1_000_000);
const TEMPLATES = 40;

const templates = Array.from({ length: TEMPLATES }, (_, i) => {
  const text = `SELECT c FROM t${i % 7} WHERE id = $1 AND k BETWEEN $2 AND $3 AND s = $4`;
  return {
    kind: 'template',
    id: computeTemplateId('postgres', `${text} -- ${i}`),
    text,
    queryType: i % 5 === 0 ? 'UPDATE' : 'SELECT',
    tables: [`t${i % 7}`],
    slots: [
      { type: 'int', column: 'id' },
      { type: 'int', column: 'k' },
      { type: 'int', column: 'k' },
      { type: 'string', column: 's' },
    ],
  };
});

/** Sessions of Markov-ish template walks with exponential think times, Zipf-like ids. */
async function* events(seed, n) {
  const rng = createRng(seed);
  const open = [];
  let t = 1_700_000_000_000_000;
  let sessionNo = 0;
  for (let i = 0; i < n; i++) {
    if (open.length < 64 || rng.next() < 0.002) open.push({ id: `s${seed}-${sessionNo++}`, last: rng.int(TEMPLATES) });
    const k = rng.int(open.length);
    const s = open[k];
    s.last = rng.next() < 0.7 ? (s.last + 1) % TEMPLATES : rng.int(TEMPLATES);
    t += Math.round(rng.exponential(1 / 400));
    const id = Math.floor(Math.pow(rng.next(), 3) * 100_000);
    const lo = rng.int(10_000);
    yield {
      kind: 'event',
      startUs: t,
      sessionId: s.id,
      templateId: templates[s.last].id,
      params: [
        { t: 'int', v: id },
        { t: 'int', v: lo },
        { t: 'int', v: lo + 100 },
        { t: 'string', v: `status-${rng.int(8)}` },
      ],
      durationUs: Math.round(rng.exponential(1 / 150)),
    };
    if (rng.next() < 0.01) open.splice(k, 1);
  }
}

let peakRss = process.memoryUsage().rss;
const timer = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 50);

// generation alone, to separate it from validation
let t0 = performance.now();
let count = 0;
for await (const _ of events(99, N)) count++;
const genMs = performance.now() - t0;
process.stderr.write(`[bench] generating 1 stream of ${count} events: ${(genMs / 1000).toFixed(2)} s\n`);

t0 = performance.now();
const cpu0 = process.cpuUsage();
const report = await validateTraces(
  { catalog: templates, events: events(1, N) },
  { catalog: templates, events: events(2, N) },
  {
    onProgress: (p) => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
      if (p.events % 262_144 === 0) process.stderr.write(`[bench] ${p.trace}: ${p.events}\n`);
    },
  },
);
const totalMs = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
const cpuS = (cpu.user + cpu.system) / 1e6;
const html = renderHtmlReport(report);
clearInterval(timer);
peakRss = Math.max(peakRss, process.memoryUsage().rss);
const validateMs = totalMs - 2 * genMs;
process.stderr.write(`[bench] score ${report.score.toFixed(4)}; total ${(totalMs / 1000).toFixed(2)} s; html ${html.length} bytes\n`);

console.log(
  JSON.stringify({
    title: `Validator: ${N.toLocaleString('en-US')} vs ${N.toLocaleString('en-US')} events`,
    command: 'node packages/validator/bench/validate.bench.mjs',
    rows: [
      { metric: 'validate wall time (incl. generating both streams)', value: +(totalMs / 1000).toFixed(2), unit: 's', target: '<= 10 s' },
      { metric: 'CPU time (user + system; robust to other load)', value: +cpuS.toFixed(2), unit: 's' },
      { metric: 'validate time excluding synthetic generation', value: +(validateMs / 1000).toFixed(2), unit: 's' },
      { metric: 'throughput', value: Math.round((2 * N) / (totalMs / 1000)), unit: 'events/s' },
      { metric: 'peak RSS', value: Math.round(peakRss / 1048576), unit: 'MiB', target: 'bounded (templates × sketches)' },
    ],
    notes: `${N} events per trace, ${TEMPLATES} templates × 4 slots, ~${report.original.sessions} sessions per trace; composite score ${report.score.toFixed(4)}. Busy shared 2-core machine.`,
  }),
);
