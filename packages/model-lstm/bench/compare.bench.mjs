// Benchmark: Markov (k = 1, 2, 3), HMM and LSTM sequence models on held-out sessions of real logs
// (pgbench TPC-B on PostgreSQL 15, sysbench oltp_read_write on MariaDB 10.11, from fixtures/samples):
// next-template accuracy, log-likelihood / perplexity, fit time and sampling speed.
// Usage: build core, models, extractor and model-lstm (npx tsup in each), then
//   flock /tmp/stb-bench.lock node packages/model-lstm/bench/compare.bench.mjs
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { createRng } from '@stb/core';
import { END_TOKEN, hmmModel, markovModel } from '@stb/models';
import { plugin as lstmModel } from '@stb/model-lstm';

const SAMPLES = join(
  dirname(fileURLToPath(import.meta.url)),
  '../../../fixtures/samples',
);
/** Probability floor when scoring, so a transition a model never saw costs ln(1e-6) instead of -∞. */
const FLOOR = 1e-6;
const SAMPLE_TEMPLATES = 50_000;

const log = (msg) => process.stderr.write(`${msg}\n`);

/** Templater: @stb/extractor when it is built, else a regex that replaces numbers and strings. */
async function createTemplater() {
  try {
    const { createExtractor } = await import('@stb/extractor');
    const ex = await createExtractor();
    return {
      name: '@stb/extractor',
      id: (sql, dialect) => ex.normalize(sql, dialect).templateId,
    };
  } catch (err) {
    log(`@stb/extractor unavailable (${err.message}); using a regex templater`);
    const CONST = /'(?:[^']|'')*'|(?<![\w.$])-?\d+(?:\.\d+)?(?![\w.])/g;
    return {
      name: 'regex',
      id: (sql) => sql.replace(/;\s*$/, '').replace(CONST, '?').toLowerCase(),
    };
  }
}

/** PostgreSQL stderr log with log_statement = all: sessions by backend pid. */
function pgSessions(folder, templater) {
  const LINE = /^\S+ \S+ UTC \[(\d+)\] \S+ LOG: {2}statement: (.*)$/;
  const text = gunzipSync(
    readFileSync(join(SAMPLES, folder, 'postgresql.log.gz')),
  ).toString('utf8');
  const sessions = new Map();
  for (const line of text.split('\n')) {
    const m = LINE.exec(line);
    if (!m) continue;
    if (!sessions.has(m[1])) sessions.set(m[1], []);
    sessions.get(m[1]).push(templater.id(m[2], 'postgres'));
  }
  return [...sessions].map(([sessionId, templates]) => ({
    sessionId,
    templates,
  }));
}

/** MariaDB general log (text protocol): sessions by thread id, `Query` entries only. */
function mariadbSessions(folder, templater) {
  const LINE = /^(?:\d{6} +\d{1,2}:\d{2}:\d{2})?\s+(\d+) (\w+)\t(.*)$/;
  const text = gunzipSync(
    readFileSync(join(SAMPLES, folder, 'mariadb_general.log.gz')),
  ).toString('utf8');
  const sessions = new Map();
  for (const line of text.split('\n')) {
    const m = LINE.exec(line);
    if (!m || m[2] !== 'Query') continue;
    if (!sessions.has(m[1])) sessions.set(m[1], []);
    sessions.get(m[1]).push(templater.id(m[3], 'mysql'));
  }
  return [...sessions].map(([sessionId, templates]) => ({
    sessionId,
    templates,
  }));
}

/**
 * Held-out split: the benchmark clients' sessions (the longest ones) in log order, the last quarter
 * (at least one) held out; short setup/admin sessions stay in training.
 */
function split(sessions) {
  const clients = sessions.filter((s) => s.templates.length >= 50);
  const nTest = Math.max(1, Math.round(clients.length / 4));
  const test = clients.slice(-nTest);
  const train = sessions.filter((s) => !test.includes(s));
  return { train, test };
}

function evaluate(predictor, sessions) {
  let hits = 0;
  let total = 0;
  let ll = 0;
  for (const s of sessions) {
    for (let i = 0; i <= s.templates.length; i++) {
      const dist = predictor.nextDistribution(s.templates.slice(0, i));
      const target = i < s.templates.length ? s.templates[i] : END_TOKEN;
      let best;
      let bestP = -1;
      for (const [id, p] of dist)
        if (p > bestP) {
          best = id;
          bestP = p;
        }
      if (best === target) hits++;
      ll += Math.log(Math.max(dist.get(target) ?? 0, FLOOR));
      total++;
    }
  }
  return {
    accuracy: hits / total,
    llPerTemplate: ll / total,
    perplexity: Math.exp(-ll / total),
    tokens: total,
  };
}

function samplingSpeed(model, state) {
  const sampler = model.createSampler(state, { templates: [] });
  const rng = createRng(99);
  let n = 0;
  let sessions = 0;
  const t0 = process.hrtime.bigint();
  while (n < SAMPLE_TEMPLATES) {
    for (const _ of sampler.nextSession(rng)) n++;
    sessions++;
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { perSecond: n / seconds, sessions, meanLength: n / sessions };
}

const MODELS = [
  { label: 'markov k=1', model: markovModel, options: { order: 1 } },
  { label: 'markov k=2', model: markovModel, options: { order: 2 } },
  { label: 'markov k=3', model: markovModel, options: { order: 3 } },
  { label: 'hmm (8 states)', model: hmmModel, options: { states: 8 } },
  {
    label: 'lstm (32/64)',
    model: lstmModel,
    options: {
      embeddingSize: 32,
      units: 64,
      epochs: 40,
      batchSize: 16,
      windowLength: 20,
      learningRate: 0.01,
      patience: 5,
      seed: 1,
    },
  },
];

async function main() {
  const templater = await createTemplater();
  const logs = [
    {
      name: 'pgbench',
      sessions: pgSessions('pg-tpcb-simple-logstatement', templater),
    },
    {
      name: 'sysbench',
      sessions: mariadbSessions('mariadb-sysbench-text', templater),
    },
  ];
  const rows = [];
  const notes = [];
  for (const { name, sessions } of logs) {
    const { train, test } = split(sessions);
    const vocab = new Set(sessions.flatMap((s) => s.templates));
    const meanTest =
      test.reduce((a, s) => a + s.templates.length, 0) / test.length;
    rows.push({
      metric: `${name}: held-out session length (mean)`,
      value: Number(meanTest.toFixed(1)),
      unit: 'templates',
    });
    const trainTokens = train.reduce((a, s) => a + s.templates.length, 0);
    const testTokens = test.reduce((a, s) => a + s.templates.length, 0);
    notes.push(
      `${name}: ${vocab.size} templates; train ${train.length} sessions / ${trainTokens} statements, held out ${test.length} / ${testTokens}`,
    );
    log(
      `${name}: ${vocab.size} templates, train ${train.length} sessions (${trainTokens}), test ${test.length} (${testTokens})`,
    );
    const accuracy = {};
    for (const { label, model, options } of MODELS) {
      const source = async function* () {
        yield* train;
      };
      const t0 = process.hrtime.bigint();
      const state = await model.fit(source, model.options.parse(options), {
        rng: createRng(1),
        templates: [],
        onProgress: (p) => {
          if (p.phase === 'epoch')
            log(`  ${label} epoch ${p.step}: ${p.message ?? p.loss}`);
        },
      });
      const fitMs = Number(process.hrtime.bigint() - t0) / 1e6;
      const ev = evaluate(model.createPredictor(state), test);
      const sp = samplingSpeed(model, state);
      accuracy[label] = ev.accuracy;
      log(
        `  ${label}: accuracy ${ev.accuracy.toFixed(4)}, perplexity ${ev.perplexity.toFixed(3)}, fit ${fitMs.toFixed(0)} ms, sampling ${sp.perSecond.toFixed(0)} templates/s`,
      );
      const isLstm = model === lstmModel;
      rows.push(
        {
          metric: `${name}, ${label}: held-out next-template accuracy`,
          value: Number(ev.accuracy.toFixed(4)),
          unit: 'ratio',
          ...(isLstm ? { target: '>= markov k=1' } : {}),
        },
        {
          metric: `${name}, ${label}: held-out log-likelihood`,
          value: Number(ev.llPerTemplate.toFixed(4)),
          unit: 'nats/template',
        },
        {
          metric: `${name}, ${label}: held-out perplexity`,
          value: Number(ev.perplexity.toFixed(3)),
          unit: 'templates',
          ...(isLstm ? { target: '<= markov k=1' } : {}),
        },
        {
          metric: `${name}, ${label}: fit time`,
          value: Number(fitMs.toFixed(0)),
          unit: 'ms',
        },
        {
          metric: `${name}, ${label}: sampling speed`,
          value: Number(sp.perSecond.toFixed(0)),
          unit: 'templates/s',
        },
        {
          metric: `${name}, ${label}: mean sampled session length`,
          value: Number(sp.meanLength.toFixed(1)),
          unit: 'templates',
        },
      );
      if (isLstm)
        notes.push(
          `${name} lstm: ${state.training.epochs} epochs (best ${state.training.bestEpoch}), train loss ${state.training.loss.toFixed(3)}`,
        );
    }
  }
  console.log(
    JSON.stringify({
      title:
        '@stb/model-lstm: sequence models on held-out sessions of real logs',
      command: 'node packages/model-lstm/bench/compare.bench.mjs',
      rows,
      notes: `Logs: fixtures/samples pg-tpcb-simple-logstatement (pgbench, 4 clients) and mariadb-sysbench-text (sysbench oltp_read_write, 4 threads); templates by ${templater.name}. Held out: the last quarter of the client sessions (whole sessions). Accuracy = argmax next template (END included); log-likelihood floors probabilities at ${FLOOR}. Sampling: ${SAMPLE_TEMPLATES} templates. LSTM trained with tfjs wasm, sampled in plain JS. ${notes.join('; ')}.`,
    }),
  );
}

await main();
