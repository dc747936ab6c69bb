#!/usr/bin/env node
// `npm run demo`: the whole SQL Trace Bench pipeline on a real pgbench log, with no database
// server: parse → learn (Markov) → generate → validate → bench against the embedded PGlite →
// replay original and synthetic traces and compare them (performance fidelity), with
// Prometheus metrics served (and scraped once) during the benchmark. Every step is a real `stb`
// process (packages/cli/dist/cli.cjs); everything lands in demo-out/.
//
//   node tools/demo/run.mjs [--fast] [--no-build] [--out <dir>] [--metrics-port <port>]
//
// --fast: a smaller trace and benchmark (what the test suite runs). --no-build: skip
// `nx run @stb/cli:build` (the test suite builds first). The metrics port defaults to 9091; when
// it is taken, any free port is used.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../..',
);
const CLI = path.join(ROOT, 'packages/cli/dist/cli.cjs');
const LOG = path.join(ROOT, 'examples/data/pgbench-simple.log.gz');
const SETUP = path.join(ROOT, 'examples/data/pgbench-schema.sql');

function parseArgs(argv) {
  const opts = {
    fast: false,
    build: true,
    out: path.join(ROOT, 'demo-out'),
    metricsPort: 9091,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--fast') opts.fast = true;
    else if (a === '--no-build') opts.build = false;
    else if (a === '--out') opts.out = path.resolve(argv[++i] ?? '');
    else if (a === '--metrics-port') opts.metricsPort = Number(argv[++i]);
    else if (a === '-h' || a === '--help') {
      process.stdout.write(
        'usage: node tools/demo/run.mjs [--fast] [--no-build] [--out <dir>] [--metrics-port <port>]\n',
      );
      process.exit(0);
    } else {
      process.stderr.write(`[demo] unknown option ${a} (try --help)\n`);
      process.exit(2);
    }
  }
  if (
    !Number.isInteger(opts.metricsPort) ||
    opts.metricsPort < 0 ||
    opts.metricsPort > 65535
  ) {
    process.stderr.write(
      '[demo] --metrics-port needs a port number (0..65535)\n',
    );
    process.exit(2);
  }
  return opts;
}

const say = (line) => process.stdout.write(`${line}\n`);
const rel = (p) => path.relative(process.cwd(), p) || '.';
const secs = (ms) => `${(ms / 1000).toFixed(1)} s`;

class StepError extends Error {
  constructor(message, code) {
    super(message);
    this.exitCode = code;
  }
}

/** Runs a command; resolves with its stdout, rejects with its stderr when it fails. */
function run(cmd, args, { onStderr, env } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: ROOT,
      env: env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      stderr += d;
      onStderr?.(stderr);
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) resolve(stdout);
      else
        reject(
          new StepError(
            `${path.basename(cmd)} ${args.slice(0, 3).join(' ')} … failed (${signal ?? `exit ${code}`}):\n${stderr.trim() || stdout.trim()}`,
            code ?? 1,
          ),
        );
    });
  });
}

/** `stb --json <args>`: the command's summary object. */
async function stb(args, options) {
  const out = await run(process.execPath, [CLI, '--json', ...args], options);
  const last = out.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(last);
  } catch {
    return {};
  }
}

/** True when `port` can be listened on at 127.0.0.1 right now. */
function portFree(port) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** Scrapes `url` until it shows executed queries, or `done()` says the run ended. */
async function scrapeMidRun(url, done) {
  let last;
  while (!done()) {
    try {
      const res = await fetch(url);
      last = await res.text();
      const executed = /^stb_bench_queries_total\{[^}]*\} [1-9]/m.test(last);
      if (executed) return { text: last, executed: true };
    } catch {
      // not listening yet, or already closed
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return last === undefined ? undefined : { text: last, executed: false };
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const out = opts.out;
  mkdirSync(out, { recursive: true });
  const f = {
    trace: path.join(out, 'trace.jsonl'),
    model: path.join(out, 'model.json'),
    generated: path.join(out, 'generated.jsonl'),
    html: path.join(out, 'report.html'),
    json: path.join(out, 'report.json'),
    bench: path.join(out, 'bench-result.json'),
    scrape: path.join(out, 'metrics-scrape.txt'),
    replayOriginal: path.join(out, 'replay-original.json'),
    replayGenerated: path.join(out, 'replay-generated.json'),
    compareHtml: path.join(out, 'compare.html'),
    compareJson: path.join(out, 'compare.json'),
  };
  // Full: as many sessions as the source had (about 9,000 statements); fast: the first 3000.
  const size = opts.fast ? ['-n', '3000'] : ['--sessions', '5'];

  say(
    `SQL Trace Bench demo${opts.fast ? ' (fast)' : ''}: a real pgbench log → model → synthetic workload → fidelity report → benchmark on embedded PostgreSQL (PGlite).`,
  );
  if (opts.build) {
    say(
      '[demo] building the packages (the first run takes a minute or two; Nx caches it after)…',
    );
    const t = Date.now();
    await run('npx', ['nx', 'run', '@stb/cli:build', '--outputStyle=static'], {
      env: { ...process.env, NX_DAEMON: 'false' },
    });
    say(`[demo] built in ${secs(Date.now() - t)}`);
  }

  let t = Date.now();
  const parsed = await stb(['parse', '-i', LOG, '-o', f.trace]);
  say(
    `1/6 parse     ${rel(LOG)}: ${parsed.statements} statements, ${parsed.templates} templates, ${parsed.sessions} sessions (${secs(Date.now() - t)})`,
  );

  t = Date.now();
  const learned = await stb([
    'learn',
    '-i',
    f.trace,
    '-m',
    'markov',
    '-o',
    f.model,
  ]);
  say(
    `2/6 learn     ${learned.kind} model of ${learned.templates} templates (${secs(Date.now() - t)})`,
  );

  t = Date.now();
  const gen = await stb([
    'generate',
    '-m',
    f.model,
    ...size,
    '--seed',
    '1',
    '-o',
    f.generated,
  ]);
  say(
    `3/6 generate  ${gen.events} synthetic statements in ${gen.sessions} sessions, seed ${gen.seed} (${secs(Date.now() - t)})`,
  );

  t = Date.now();
  // The generated trace carries no statement durations (the benchmark measures them), so the
  // durations property is left out of the score.
  const val = await stb([
    'validate',
    '--original',
    f.trace,
    '--generated',
    f.generated,
    '--weights',
    'durations=0',
    '--report',
    f.html,
    '--json-report',
    f.json,
  ]);
  const props = Object.entries(val.properties ?? {})
    .filter(([, v]) => typeof v === 'number')
    .sort((a, b) => a[1] - b[1])
    .slice(0, 2)
    .map(([k, v]) => `${k} ${v.toFixed(2)}`)
    .join(', ');
  say(
    `4/6 validate  fidelity score ${val.score?.toFixed(3)} of 1 (weakest: ${props}) (${secs(Date.now() - t)})`,
  );
  // What the synthetic workload keeps of the log's load, from the report's own notes.
  const report = JSON.parse(readFileSync(f.json, 'utf8'));
  const note = (id) =>
    report.properties.find((p) => p.id === id)?.note?.split('. Score')[0] ?? '';
  say(
    `              load kept: ${note('statementRate')}; ${note('concurrency')}. Not reproduced: sessions moving in step with their client, overlap in logs stamped in whole seconds (docs/quick-start.md).`,
  );

  t = Date.now();
  const port = (await portFree(opts.metricsPort)) ? opts.metricsPort : 0;
  let metricsUrl;
  let finished = false;
  let scrape;
  const bench = run(
    process.execPath,
    [
      CLI,
      'bench',
      '-i',
      f.generated,
      '--target',
      'pglite:',
      '--setup',
      SETUP,
      // Fast mode paces the run (open loop, fixed rate) so it lasts long enough to be scraped
      // mid-run on any machine; the full demo measures the maximum throughput (closed loop).
      ...(opts.fast
        ? ['--mode', 'open', '--rate', '1500']
        : ['--mode', 'closed']),
      '--duration',
      opts.fast ? '30s' : '60s',
      '--metrics-port',
      String(port),
      '-o',
      f.bench,
    ],
    {
      onStderr: (text) => {
        if (metricsUrl !== undefined) return;
        const m = /Metrics on (http:\/\/\S+)/.exec(text);
        if (m) {
          metricsUrl = m[1];
          scrape = scrapeMidRun(metricsUrl, () => finished);
        }
      },
    },
  ).finally(() => {
    finished = true;
  });
  await bench;
  const scraped = await scrape;
  if (scraped) writeFileSync(f.scrape, scraped.text);
  const result = JSON.parse(readFileSync(f.bench, 'utf8'));
  const o = result.overall;
  say(
    `5/6 bench     ${o.count} queries on ${result.context.target.serverVersion ?? 'PGlite'}: ${o.qps.toFixed(0)} q/s, p50 ${o.latencyMs.p50} ms, p99 ${o.latencyMs.p99} ms, ${o.errors} errors (${secs(Date.now() - t)} incl. loading 200k rows)`,
  );
  if (metricsUrl === undefined)
    say('      metrics: the endpoint was not announced');
  else {
    const series = scraped?.text.match(/^stb_bench_\w+/gm) ?? [];
    say(
      `      metrics served on ${metricsUrl}${port !== opts.metricsPort ? ` (port ${opts.metricsPort} was taken)` : ''}; scraped mid-run: ${new Set(series).size} stb_bench_* metrics${scraped?.executed ? ', queries counting' : ''} → ${rel(f.scrape)}`,
    );
  }
  // Performance fidelity: replay the original and the synthetic trace on PGlite, each with its own
  // timing, compare the two runs, and fold the comparison into the fidelity report. (Whole traces:
  // a --max-queries cut can end a session inside a transaction, which on a one-connection target
  // blocks every other session.)
  t = Date.now();
  // One PGlite data directory for both replays: the 200k setup rows are loaded once.
  const pgliteDir = path.join(out, 'pglite-replay');
  rmSync(pgliteDir, { recursive: true, force: true });
  const replay = (input, output, setup) =>
    stb([
      'bench',
      '-i',
      input,
      '--target',
      `pglite:${pgliteDir}`,
      ...(setup ? ['--setup', SETUP] : []),
      '--mode',
      'replay',
      '--metrics-port',
      '0',
      '-o',
      output,
    ]);
  await replay(f.trace, f.replayOriginal, true);
  await replay(f.generated, f.replayGenerated, false);
  await stb([
    'compare',
    f.replayOriginal,
    f.replayGenerated,
    '--report',
    f.compareHtml,
    '--json-report',
    f.compareJson,
  ]);
  const perf = await stb([
    'validate',
    '--original',
    f.trace,
    '--generated',
    f.generated,
    '--weights',
    'durations=0',
    '--bench-original',
    f.replayOriginal,
    '--bench-generated',
    f.replayGenerated,
    '--report',
    f.html,
    '--json-report',
    f.json,
  ]);
  const cmp = JSON.parse(readFileSync(f.compareJson, 'utf8'));
  const p50s = cmp.templates
    .map((x) => x.latency.p50.ratio)
    .filter((r) => r !== null);
  const within = p50s.filter((r) => Math.abs(r - 1) <= 0.1).length;
  const s = cmp.summary;
  say(
    `6/6 replay    original vs synthetic on PGlite: throughput ${cmp.overall.throughput.baseline} → ${cmp.overall.throughput.candidate} q/s (ratio ${cmp.overall.throughput.ratio?.toFixed(2)}), p50 within 10 % on ${within} of ${p50s.length} templates; ${s.slower} slower, ${s.faster} faster, ${s.unchanged} no significant change; performance fidelity ${perf.performance?.score?.toFixed(3)} (${secs(Date.now() - t)})`,
  );
  say('');
  say(`Done in ${secs(Date.now() - started)}. Results in ${rel(out)}/:`);
  say(
    `  model.json         the learned model          (stb inspect ${rel(f.model)})`,
  );
  say(`  generated.jsonl    the synthetic trace`);
  say(
    `  report.html        fidelity report: open it in a browser (report.json: the same as data)`,
  );
  say(`  bench-result.json  latency per template, QPS, errors, context`);
  say(
    `  compare.html       the original and the synthetic replay side by side (stb compare)`,
  );
  say('Next: your own log → docs/quick-start.md');
}

main().catch((err) => {
  process.stderr.write(
    `[demo] ${err instanceof Error ? err.message : String(err)}\n`,
  );
  process.exit(err instanceof StepError ? err.exitCode : 1);
});
