// Generation throughput of @stb/generator (built dist), on a model learned from the real pgbench
// sample log: events/s in memory, events/s written as JSONL, and the peak RSS of
// `stb generate -n 10000000` (bounded memory). Progress on stderr; the last stdout line is JSON.
import { spawn } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeTrace } from '@stb/core';
import { extractTrace } from '@stb/extractor';
import { generateEvents, generateTrace } from '@stb/generator';
import {
  createModelRegistry,
  fitWorkloadModel,
  writeModelArtifact,
} from '@stb/models';
import { parseLogs } from '@stb/parser';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../..');
const LOG = path.join(
  root,
  'fixtures/samples/pg-tpcb-simple-logduration/postgresql.log.gz',
);
const CLI = path.join(root, 'packages/cli/dist/cli.cjs');
const IN_MEMORY = Number(process.env.STB_BENCH_EVENTS ?? 3_000_000);
const JSONL = Number(process.env.STB_BENCH_JSONL_EVENTS ?? 2_000_000);
const BIG = Number(process.env.STB_BENCH_BIG_EVENTS ?? 10_000_000);
const log = (m) => process.stderr.write(`[generate.bench] ${m}\n`);

const dir = mkdtempSync(path.join(tmpdir(), 'stb-gen-bench-'));
try {
  log(`learning a markov model from ${path.relative(root, LOG)}`);
  const run = extractTrace(parseLogs([LOG]));
  const events = [];
  for await (const r of run) if (r.kind === 'event') events.push(r);
  const header = {
    kind: 'header',
    format: 'stb-trace',
    version: 1,
    dialect: 'postgres',
    source: {},
    timeResolutionUs: 1,
    createdAt: '2026-01-01T00:00:00.000Z',
  };
  const registry = createModelRegistry();
  const artifact = await fitWorkloadModel(
    async function* () {
      yield* events;
    },
    {
      catalog: run.catalog,
      header,
      model: registry.get('markov'),
      seed: 1,
      createdAt: '2026-01-01T00:00:00.000Z',
    },
  );
  const modelFile = path.join(dir, 'model.json');
  await writeModelArtifact(modelFile, artifact);

  // 1. In memory: the synchronous event stream, and the async record stream (header, templates, events).
  log(`generating ${IN_MEMORY} events in memory (generateEvents)`);
  let n = 0;
  let t = process.hrtime.bigint();
  for (const _ of generateEvents(artifact, {
    seed: 1,
    count: IN_MEMORY,
    registry,
  }))
    n++;
  const memS = Number(process.hrtime.bigint() - t) / 1e9;
  const memRate = n / memS;
  log(`${n} events in ${memS.toFixed(2)} s → ${Math.round(memRate)} events/s`);
  log(`generating ${IN_MEMORY} events in memory (generateTrace records)`);
  n = 0;
  t = process.hrtime.bigint();
  for await (const r of generateTrace(artifact, {
    seed: 1,
    count: IN_MEMORY,
    registry,
  }))
    if (r.kind === 'event') n++;
  const asyncS = Number(process.hrtime.bigint() - t) / 1e9;
  const asyncRate = n / asyncS;
  log(
    `${n} events in ${asyncS.toFixed(2)} s → ${Math.round(asyncRate)} events/s`,
  );

  // 2. Written as JSONL through core's writeTrace.
  const out = path.join(dir, 'gen.jsonl');
  log(`writing ${JSONL} events as JSONL`);
  t = process.hrtime.bigint();
  const written = await writeTrace(
    out,
    generateTrace(artifact, { seed: 1, count: JSONL, registry }),
  );
  const jsonlS = Number(process.hrtime.bigint() - t) / 1e9;
  const jsonlRate = written.events / jsonlS;
  log(
    `${written.events} events (${(written.bytes / 1e6).toFixed(0)} MB) in ${jsonlS.toFixed(2)} s → ${Math.round(jsonlRate)} events/s`,
  );
  rmSync(out, { force: true });

  // 3. `stb generate -n BIG -o -` as a real process: peak RSS (VmHWM) polled from /proc.
  let peakRssMb = null;
  let bigRate = null;
  if (existsSync(CLI)) {
    log(`stb generate -n ${BIG} -o - (stdout to /dev/null)`);
    t = process.hrtime.bigint();
    const child = spawn(
      process.execPath,
      [
        CLI,
        '--quiet',
        'generate',
        '-m',
        modelFile,
        '-n',
        String(BIG),
        '-o',
        '-',
      ],
      {
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );
    let hwmKb = 0;
    const poll = setInterval(() => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(
          readFileSync(`/proc/${child.pid}/status`, 'utf8'),
        );
        if (m) hwmKb = Math.max(hwmKb, Number(m[1]));
      } catch {
        /* exited */
      }
    }, 100);
    const code = await new Promise((resolve) => child.on('exit', resolve));
    clearInterval(poll);
    if (code !== 0) throw new Error(`stb generate exited with ${code}`);
    const bigS = Number(process.hrtime.bigint() - t) / 1e9;
    bigRate = BIG / bigS;
    peakRssMb = hwmKb / 1024;
    log(
      `${BIG} events in ${bigS.toFixed(1)} s, peak RSS ${peakRssMb.toFixed(0)} MB`,
    );
  } else log(`${CLI} missing: build the CLI to measure peak RSS`);

  const rows = [
    {
      metric: 'events generated in memory (generateEvents, sync)',
      value: Math.round(memRate),
      unit: 'events/s',
      target: '≥ 1,000,000',
    },
    {
      metric: 'trace records generated in memory (generateTrace, async)',
      value: Math.round(asyncRate),
      unit: 'events/s',
    },
    {
      metric: 'events written as JSONL (writeTrace)',
      value: Math.round(jsonlRate),
      unit: 'events/s',
      target: '≥ 300,000',
    },
  ];
  if (peakRssMb !== null) {
    rows.push({
      metric: `stb generate -n ${BIG} -o - peak RSS`,
      value: Math.round(peakRssMb),
      unit: 'MB',
      target: 'bounded (independent of -n)',
    });
    rows.push({
      metric: `stb generate -n ${BIG} -o - throughput`,
      value: Math.round(bigRate),
      unit: 'events/s',
    });
  }
  console.log(
    JSON.stringify({
      title: 'Trace generation (@stb/generator)',
      command: 'node packages/generator/bench/generate.bench.mjs',
      rows,
      notes: `Markov model learned from fixtures/samples/pg-tpcb-simple-logduration (${events.length} statements, ${run.catalog.size} templates); one core.`,
    }),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
