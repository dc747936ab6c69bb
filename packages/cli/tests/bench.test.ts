import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { BenchResult, computeTemplateId } from '@stb/core';
import { metricsUrlIn, PG_TRACE_HEADER, runStb, startStb } from './helpers';

const dir = mkdtempSync(path.join(tmpdir(), 'stb-cli-bench-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const header = PG_TRACE_HEADER;
const tpl = (text: string, queryType: string) => ({
  kind: 'template',
  id: computeTemplateId('postgres', text),
  text,
  queryType,
  tables: ['kv'],
  slots: [],
});
const ins = tpl('INSERT INTO kv (id, v) VALUES ($1, $2)', 'INSERT');
const sel = tpl('SELECT v FROM kv WHERE id = $1', 'SELECT');

function writeTrace(
  name: string,
  shape: { sessions: number; perSession: number; stepUs?: number },
): string {
  const { sessions, perSession, stepUs = 100 } = shape;
  const lines: unknown[] = [header, ins, sel];
  let t = 1_700_000_000_000_000;
  for (let i = 0; i < perSession; i++)
    for (let s = 0; s < sessions; s++) {
      const id = s * 10_000 + i;
      t += stepUs;
      lines.push({
        kind: 'event',
        startUs: t,
        sessionId: `s${s}`,
        templateId: ins.id,
        params: [
          { t: 'int', v: id },
          { t: 'int', v: i },
        ],
      });
      lines.push({
        kind: 'event',
        startUs: t + 50,
        sessionId: `s${s}`,
        templateId: sel.id,
        params: [{ t: 'int', v: id }],
      });
    }
  const file = path.join(dir, name);
  writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  return file;
}

/** The `kv` table the generated traces write and read, as a `--setup` script. */
const KV_SCHEMA = path.join(dir, 'kv-schema.sql');
writeFileSync(KV_SCHEMA, 'CREATE TABLE kv (id int PRIMARY KEY, v int);\n');

const sha256Of = (file: string): string =>
  createHash('sha256').update(readFileSync(file)).digest('hex');

describe('stb bench', () => {
  it('runs a trace on SQLite with a setup script and writes the result', async () => {
    const trace = writeTrace('t1.jsonl', { sessions: 3, perSession: 50 });
    const db = path.join(dir, 'db1.sqlite');
    const setup = path.join(dir, 'schema.sql');
    writeFileSync(
      setup,
      '-- schema\nCREATE TABLE kv (id int PRIMARY KEY, v int);\n',
    );
    const out = path.join(dir, 'result.json');
    const r = await runStb([
      ...sqliteBench(trace, { db, setup }),
      '--mode',
      'closed',
      '--metrics-port',
      '0',
      '--out',
      out,
    ]);
    expect(r.stderr).toContain('total');
    expect(r.code).toBe(0);
    const result = BenchResult.parse(JSON.parse(readFileSync(out, 'utf8')));
    expect(result.overall.count).toBe(300);
    expect(result.overall.errors).toBe(0);
    expect(result.templates.map((t) => [t.templateId, t.count]).sort()).toEqual(
      [
        [ins.id, 150],
        [sel.id, 150],
      ].sort(),
    );
    expect(result.context.trace.hash).toBe(sha256Of(trace));
    expect(result.context.target.plugin).toBe('sqlite');
  }, 60_000);

  it.each([{ gzip: false }, { gzip: true }])(
    "records the trace file's hash when the run reads only its start (gzip: $gzip)",
    async ({ gzip }) => {
      // far more than one 64 KiB read: the run's reader stops early, the rest is hashed after
      const plain = writeTrace(`big-${gzip}.jsonl`, {
        sessions: 4,
        perSession: 5_000,
      });
      const trace = gzip ? `${plain}.gz` : plain;
      if (gzip) writeFileSync(trace, gzipSync(readFileSync(plain)));
      const out = path.join(dir, `result-big-${gzip}.json`);
      const r = await runStb([
        ...sqliteBench(trace, { db: ':memory:' }),
        '--mode',
        'closed',
        '--max-queries',
        '40',
        '--no-metrics',
        '--out',
        out,
      ]);
      expect(r.code).toBe(0);
      const result = BenchResult.parse(JSON.parse(readFileSync(out, 'utf8')));
      expect(result.overall.count).toBe(40);
      expect(result.context.trace.hash).toBe(sha256Of(trace));
      expect(result.context.trace.path).toBe(trace);
    },
    60_000,
  );

  it('--no-metrics records nothing for Prometheus: prom-client is not even loaded, the result is whole', async () => {
    const trace = writeTrace('t5.jsonl', { sessions: 2, perSession: 20 });
    // a preload that writes, as the process exits, which of the dependencies loaded at their first
    // use were ever loaded: prom-client (metrics), piscina (worker threads: none with SQLite's one
    // connection), csv-parse and csv-stringify (CSV traces; this one is JSON Lines); and
    // hdr-histogram-js's WebAssembly loader, which stb never uses (it loads the library's modules,
    // not its index)
    const probe = path.join(dir, 'probe.cjs');
    writeFileSync(
      probe,
      "process.on('exit', () => require('node:fs').writeFileSync(process.env.STB_TEST_PROBE, ['prom-client', 'piscina', 'csv-parse', 'csv-stringify', '@assemblyscript/loader'].filter((m) => Object.keys(require.cache).some((k) => k.includes(`node_modules/${m}/`))).join(',')));\n",
    );
    const loaded = async (extra: string[], name: string): Promise<string> => {
      const out = path.join(dir, `${name}.json`);
      const flag = path.join(dir, `${name}.probe`);
      const r = await runStb(
        [
          ...sqliteBench(trace, { db: path.join(dir, `${name}.sqlite`) }),
          '--mode',
          'closed',
          ...extra,
          '--out',
          out,
        ],
        { env: { NODE_OPTIONS: `--require ${probe}`, STB_TEST_PROBE: flag } },
      );
      expect(r.code).toBe(0);
      const result = BenchResult.parse(JSON.parse(readFileSync(out, 'utf8')));
      // an INSERT and a SELECT per step
      expect(result.overall.count).toBe(80);
      expect(result.client?.queries).toBe(80);
      return readFileSync(flag, 'utf8');
    };
    expect(await loaded(['--no-metrics'], 'off')).toBe('');
    expect(await loaded(['--metrics-port', '0'], 'on')).toBe('prom-client');
  }, 60_000);

  it('exits 1 under --fail-fast when a query fails', async () => {
    const trace = writeTrace('t2.jsonl', { sessions: 1, perSession: 20 });
    const db = path.join(dir, 'db2.sqlite');
    // no setup: the table is missing, every statement fails
    const r = await runStb([
      'bench',
      '-i',
      trace,
      '--target',
      `sqlite:${db}`,
      '--mode',
      'closed',
      '--no-metrics',
      '--fail-fast',
      '--json',
    ]);
    expect(r.code).toBe(1);
    const summary = JSON.parse(r.stdout.toString('utf8')) as { status: string };
    expect(summary.status).toBe('failed');
  }, 60_000);

  it('rejects an unknown target scheme as a usage error', async () => {
    const trace = writeTrace('t3.jsonl', { sessions: 1, perSession: 1 });
    const r = await runStb([
      'bench',
      '-i',
      trace,
      '--target',
      'oracle://x',
      '--no-metrics',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/\[stb\] \[bench\] Invalid target `oracle:\/\/x`/);
  }, 60_000);

  it('rejects an invalid trace with file and line (exit 3)', async () => {
    const file = path.join(dir, 'bad.jsonl');
    writeFileSync(
      file,
      JSON.stringify(header) + '\n{"kind":"event","startUs":"x"}\n',
    );
    const r = await runStb([
      'bench',
      '-i',
      file,
      '--target',
      'sqlite::memory:',
      '--no-metrics',
    ]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('bad.jsonl');
  }, 60_000);

  it.each([
    ['postgres', 'postgres://postgres@127.0.0.1:1/x'],
    ['mysql', 'mysql://root@127.0.0.1:1/x'],
  ])(
    'reports an unreachable %s database before the run (exit 3)',
    async (plugin, target) => {
      const trace = writeTrace(`t4-${plugin}.jsonl`, {
        sessions: 1,
        perSession: 1,
      });
      const out = path.join(dir, `unreachable-${plugin}.json`);
      const r = await runStb([
        'bench',
        '-i',
        trace,
        '--target',
        target,
        '--no-metrics',
        '--out',
        out,
      ]);
      expect(r.code).toBe(3);
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(
        new RegExp(
          `^\\[stb\\] \\[db:${plugin}\\] Cannot connect to ${target.replace(/[.]/g, '\\.')}: .*ECONNREFUSED`,
        ),
      );
      expect(existsSync(out)).toBe(false);
    },
    60_000,
  );

  it('--dry-run prepares every template, reports the broken one (exit 1) and writes nothing', async () => {
    const db = path.join(dir, 'dry.sqlite');
    const schema = path.join(dir, 'dry-schema.sql');
    writeFileSync(schema, 'CREATE TABLE kv (id int PRIMARY KEY, v int);\n');
    // create the schema with a real run of a one-statement trace, then dry-run against it (a
    // trace with no events is refused: issue 14, nothing to run is not a success)
    const empty = path.join(dir, 'empty.jsonl');
    const one = {
      kind: 'event',
      startUs: 1_700_000_000_000_000,
      sessionId: 's',
      templateId: sel.id,
      params: [{ t: 'int', v: 1 }],
    };
    writeFileSync(
      empty,
      [header, ins, sel, one].map((l) => JSON.stringify(l)).join('\n') + '\n',
    );
    const made = await runStb([
      'bench',
      '-i',
      empty,
      '--target',
      `sqlite:${db}`,
      '--setup',
      schema,
      '--no-metrics',
    ]);
    expect(made.code).toBe(0);
    const bad = tpl('SELECT nope FROM kv WHERE id = $1', 'SELECT');
    const file = path.join(dir, 'dry.jsonl');
    const lines: unknown[] = [header, ins, sel, bad];
    for (const [i, t] of [ins, sel, bad, ins].entries())
      lines.push({
        kind: 'event',
        startUs: 1_700_000_000_000_000 + i,
        sessionId: 's',
        templateId: t.id,
        params:
          t === ins
            ? [
                { t: 'int', v: i },
                { t: 'int', v: i },
              ]
            : [{ t: 'int', v: 1 }],
      });
    writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    const digest = (): string =>
      createHash('sha256').update(readFileSync(db)).digest('hex');
    const before = digest();
    const out = path.join(dir, 'dry.json');
    const r = await runStb([
      'bench',
      '-i',
      file,
      '--target',
      `sqlite:${db}`,
      '--setup',
      schema,
      '--dry-run',
      '--no-metrics',
      '--out',
      out,
    ]);
    expect(r.code).toBe(1);
    expect(digest()).toBe(before);
    const result = BenchResult.parse(JSON.parse(readFileSync(out, 'utf8')));
    expect(result.templates.map((t) => [t.templateId, t.errors])).toEqual([
      [bad.id, 1],
    ]);
    expect(result.faults.incidents.map((i) => i.message)).toContain(
      `Skipped ${schema}: a dry run writes nothing.`,
    );
  }, 60_000);

  it.each(['SIGINT', 'SIGTERM'] as const)(
    '%s mid-run writes the partial result to --out and exits 130',
    async (signal) => {
      const trace = slowTrace(`sig-${signal}.jsonl`);
      const { result, executed } = await interruptMidRun(trace, signal);
      expect(result.status).toBe('stopped');
      expect(result.stopReason).toBe('signal');
      expect(result.overall.count).toBeGreaterThanOrEqual(executed);
      expect(result.overall.count).toBeLessThan(24_000);
      expect(result.overall.count + result.skipped.notRun).toBeLessThanOrEqual(
        24_000,
      );
      expect(result.sessions.total).toBe(4);
      expect(result.faults.incidents.map((i) => i.kind)).toContain('aborted');
      // the part of the trace the run did not read is small: hashed after the interruption too
      expect(result.context.trace.hash).toBe(sha256Of(trace));
    },
    60_000,
  );

  it('an interrupted run with a large part of its trace unread records no hash, and says so', async () => {
    // the same trace followed by 300 MiB the run never reaches (a sparse tail: no disk used)
    const trace = slowTrace('sig-large.jsonl');
    truncateSync(trace, statSync(trace).size + 300 * 2 ** 20);
    const { result, stderr } = await interruptMidRun(trace, 'SIGINT');
    expect(result.status).toBe('stopped');
    expect(result.overall.count).toBeGreaterThan(0);
    expect(result.context.trace.hash).toBeUndefined();
    expect(stderr).toMatch(
      /\[stb\] The result has no context\.trace\.hash \(`stb merge-results` needs it\): the run was interrupted with 0\.3 GiB of \S+sig-large\.jsonl unread\./,
    );
  }, 60_000);
});

/**
 * `stb bench` of `trace` on the SQLite database `db` (a file, or `:memory:`), after the `setup`
 * script (default: {@link KV_SCHEMA}).
 */
function sqliteBench(
  trace: string,
  on: { db: string; setup?: string },
): string[] {
  const { db, setup = KV_SCHEMA } = on;
  return ['bench', '-i', trace, '--target', `sqlite:${db}`, '--setup', setup];
}

/** A replay of 4 sessions over ~30 s (one event every 2.5 ms): a signal always lands mid-run. */
function slowTrace(name: string): string {
  return writeTrace(name, { sessions: 4, perSession: 3000, stepUs: 2500 });
}

/**
 * Runs `stb bench` on `trace` (SQLite), sends `signal` once the live metrics have counted executed
 * statements, expects exit 130, and returns the partial result, that count and stderr.
 */
async function interruptMidRun(
  trace: string,
  signal: 'SIGINT' | 'SIGTERM',
): Promise<{ result: BenchResult; executed: number; stderr: string }> {
  const tag = path.basename(trace, '.jsonl');
  const db = path.join(dir, `${tag}.sqlite`);
  const out = path.join(dir, `${tag}.json`);
  const { child, stderr, exited } = startStb([
    ...sqliteBench(trace, { db }),
    '--metrics-port',
    '0',
    '--out',
    out,
  ]);
  // mid-run = the live metrics endpoint has counted executed queries
  let executed = 0;
  try {
    for (let i = 0; i < 400 && executed === 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      const url = metricsUrlIn(stderr());
      if (url === undefined) continue;
      const text = await (await fetch(url)).text();
      const m = /stb_bench_queries_total\{[^}]*outcome="ok"[^}]*\} (\d+)/.exec(
        text,
      );
      executed = Number(m?.[1] ?? 0);
    }
    expect(executed).toBeGreaterThan(0);
    child.kill(signal);
    expect(await exited).toBe(130);
  } finally {
    child.kill('SIGKILL');
  }
  const result = BenchResult.parse(JSON.parse(readFileSync(out, 'utf8')));
  return { result, executed, stderr: stderr() };
}
