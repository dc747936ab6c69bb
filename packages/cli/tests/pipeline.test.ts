import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readTraceRecords } from '@stb/core';
import type { TraceEvent, TraceRecord } from '@stb/core';
import { readModelArtifact } from '@stb/models';
import { SAMPLES_DIR, runStb } from './helpers';

const dir = mkdtempSync(path.join(tmpdir(), 'stb-cli-pipeline-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const manifest = JSON.parse(
  readFileSync(path.join(SAMPLES_DIR, 'manifest.json'), 'utf8'),
) as Record<
  string,
  { statements_logged: number; sessions_with_statements?: number }
>;

const PG_LOG = path.join(
  SAMPLES_DIR,
  'pg-tpcb-simple-logduration',
  'postgresql.log.gz',
);
const PG_CSV = path.join(
  SAMPLES_DIR,
  'pg-tpcb-extended-logstatement',
  'postgresql.csv.gz',
);
const MY_LOG = path.join(
  SAMPLES_DIR,
  'mariadb-sysbench-text',
  'mariadb_general.log.gz',
);

async function read(file: string): Promise<TraceRecord[]> {
  const out: TraceRecord[] = [];
  for await (const r of readTraceRecords(file)) out.push(r);
  return out;
}

const eventsOf = (rs: TraceRecord[]): TraceEvent[] =>
  rs.filter((r): r is TraceEvent => r.kind === 'event');

function out(name: string): string {
  return path.join(dir, name);
}

describe('stb parse', () => {
  it.each([
    ['pg-tpcb-simple-logduration', PG_LOG, 'postgres'],
    ['pg-tpcb-extended-logstatement', PG_CSV, 'postgres'],
    ['mariadb-sysbench-text', MY_LOG, 'mysql'],
  ])(
    'turns the real %s log into a trace core reads back',
    async (name, log, dialect) => {
      const file = out(`${name}.jsonl`);
      const r = await runStb(['--json', 'parse', '-i', log, '-o', file]);
      expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 0 });
      const summary = JSON.parse(r.stdout.toString()) as Record<
        string,
        unknown
      >;
      const rs = await read(file);
      expect(rs[0]).toMatchObject({ kind: 'header', dialect });
      const events = eventsOf(rs);
      expect(summary['statements']).toBe(events.length);
      // The server's own count of logged statements (MariaDB's log also holds the admin session's
      // SET statement at the end, which the parser keeps).
      const expected = manifest[name]?.statements_logged ?? -1;
      expect(Math.abs(events.length - expected)).toBeLessThanOrEqual(2);
      expect(summary['templates']).toBe(
        rs.filter((x) => x.kind === 'template').length,
      );
      expect((summary['files'] as { format: string }[])[0]?.format).toMatch(
        dialect === 'postgres' ? /^postgres-/ : /^mysql-/,
      );
    },
  );

  it('reports a missing file as bad input (exit 3) in one line', async () => {
    const r = await runStb([
      'parse',
      '-i',
      out('nope.log'),
      '-o',
      out('x.jsonl'),
    ]);
    expect(r.code).toBe(3);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^\[stb\] /);
  });
});

describe('stb learn + generate + inspect', () => {
  const model = out('pg.model.json');

  beforeAll(async () => {
    const r = await runStb([
      'learn',
      '-i',
      PG_LOG,
      '-m',
      'markov',
      '-o',
      model,
    ]);
    if (r.code !== 0) throw new Error(r.stderr);
  });

  it('writes an artifact that @stb/models reads', async () => {
    const a = await readModelArtifact(model);
    expect(a.kind).toBe('markov');
    expect(a.dialect).toBe('postgres');
    expect(a.source.events).toBe(
      manifest['pg-tpcb-simple-logduration']?.statements_logged,
    );
  });

  it('learns from a trace as well as from a log (input detected by its header)', async () => {
    const trace = out('for-learn.jsonl');
    expect((await runStb(['parse', '-i', PG_LOG, '-o', trace])).code).toBe(0);
    const m2 = out('from-trace.model.json');
    const r = await runStb([
      'learn',
      '-i',
      trace,
      '-m',
      'hmm',
      '--states',
      '4',
      '-o',
      m2,
    ]);
    expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 0 });
    const a = await readModelArtifact(m2);
    expect(a.kind).toBe('hmm');
    expect(a.source.events).toBe(
      manifest['pg-tpcb-simple-logduration']?.statements_logged,
    );
  });

  it('generates jsonl, json, csv and gzip outputs that core reads back', async () => {
    for (const name of ['g.jsonl', 'g.json', 'g.csv', 'g.jsonl.gz']) {
      const file = out(name);
      const r = await runStb([
        'generate',
        '-m',
        model,
        '-n',
        '500',
        '--seed',
        '4',
        '-o',
        file,
      ]);
      expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 0 });
      const rs = await read(file);
      expect(rs[0]).toMatchObject({ kind: 'header', dialect: 'postgres' });
      const events = eventsOf(rs);
      expect(events.length).toBeGreaterThanOrEqual(500);
      expect(events.length).toBeLessThan(520);
      for (let i = 1; i < events.length; i++)
        expect((events[i] as TraceEvent).startUs).toBeGreaterThanOrEqual(
          (events[i - 1] as TraceEvent).startUs,
        );
    }
  });

  it('is byte-identical under the same seed and differs under another', async () => {
    const run = async (seed: string, name: string) => {
      const file = out(name);
      const r = await runStb([
        'generate',
        '-m',
        model,
        '-n',
        '3000',
        '--seed',
        seed,
        '-o',
        file,
      ]);
      expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 0 });
      return readFileSync(file);
    };
    const a = await run('42', 'd1.jsonl');
    const b = await run('42', 'd2.jsonl');
    const c = await run('43', 'd3.jsonl');
    expect(a.equals(b)).toBe(true);
    expect(a.equals(c)).toBe(false);
  });

  it('learns and generates in one go, saving the model beside the output', async () => {
    const file = out('oneshot.jsonl');
    // SOURCE_DATE_EPOCH pins the artifact's creation time, so the whole run is reproducible.
    const env = { SOURCE_DATE_EPOCH: '1714521600' };
    const r = await runStb(
      [
        '--json',
        'generate',
        '-m',
        'markov',
        '-i',
        PG_LOG,
        '-n',
        '200',
        '-o',
        file,
      ],
      { env },
    );
    expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 0 });
    const summary = JSON.parse(r.stdout.toString()) as {
      events: number;
      model: { saved: string };
    };
    expect(summary.model.saved).toBe(out('oneshot.model.json'));
    const a = await readModelArtifact(out('oneshot.model.json'));
    expect(a.kind).toBe('markov');
    expect(a.createdAt).toBe('2024-05-01T00:00:00.000Z');
    expect(eventsOf(await read(file)).length).toBe(summary.events);
    // The same log, learned and generated again with the same seed: identical bytes.
    const again = out('oneshot2.jsonl');
    const r2 = await runStb(
      [
        'generate',
        '-m',
        'markov',
        '-i',
        PG_LOG,
        '-n',
        '200',
        '--no-save-model',
        '-o',
        again,
      ],
      { env },
    );
    expect(r2.code).toBe(0);
    expect(readFileSync(again).equals(readFileSync(file))).toBe(true);
  });

  it('streams to stdout with -o -, the --json summary going to stderr', async () => {
    const r = await runStb([
      '--json',
      'generate',
      '-m',
      model,
      '-n',
      '50',
      '-o',
      '-',
    ]);
    expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 0 });
    const lines = r.stdout.toString().trim().split('\n');
    expect(JSON.parse(lines[0] as string)).toMatchObject({ kind: 'header' });
    const summary = JSON.parse(r.stderr.trim()) as {
      command: string;
      events: number;
    };
    expect(summary.command).toBe('generate');
    expect(lines.filter((l) => l.includes('"kind":"event"'))).toHaveLength(
      summary.events,
    );
  });

  it('inspects a model and a trace', async () => {
    const m = await runStb(['--json', 'inspect', model]);
    expect(m.code).toBe(0);
    const rm = JSON.parse(m.stdout.toString()) as {
      kind: string;
      templates: { count: number; queryType: string }[];
      transitions: { probability: number }[];
      sessionsPerSecond: number;
    };
    expect(rm.kind).toBe('model');
    expect(rm.templates).toHaveLength(12);
    expect(rm.templates.reduce((a, t) => a + t.count, 0)).toBe(
      manifest['pg-tpcb-simple-logduration']?.statements_logged,
    );
    expect(rm.transitions.length).toBeGreaterThan(0);
    expect(rm.sessionsPerSecond).toBeGreaterThan(0);
    const trace = out('inspect-me.jsonl');
    expect(
      (await runStb(['generate', '-m', model, '-n', '300', '-o', trace])).code,
    ).toBe(0);
    const human = await runStb(['inspect', trace]);
    expect({ code: human.code, stderr: human.stderr }).toMatchObject({
      code: 0,
    });
    // the generated trace keeps pgbench's setup connection too, so it may hold more templates
    // than the table shows
    expect(human.stdout.toString()).toMatch(
      /Templates \((?:top \d+ of )?\d+, by count\)/,
    );
    expect(human.stdout.toString()).toMatch(/Top transitions/);
  });

  it('maps usage and input errors to exit codes 2 and 3', async () => {
    const noInput = await runStb(['generate', '-m', 'markov', '-n', '5']);
    expect(noInput.code).toBe(2);
    expect(noInput.stderr).toMatch(/needs input/);
    const unknown = await runStb([
      'generate',
      '-m',
      'nosuchmodel',
      '-i',
      PG_LOG,
    ]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/Unknown sequence model `nosuchmodel`/);
    const badN = await runStb(['generate', '-m', model, '-n', '0']);
    expect(badN.code).toBe(2);
    const broken = out('broken.model.json');
    writeFileSync(broken, '{"format":"stb-model","formatVersion":99}');
    const bad = await runStb(['generate', '-m', broken, '-n', '5']);
    expect(bad.code).toBe(3);
    expect(bad.stderr).toMatch(/format version 99/);
    expect(bad.stderr).not.toMatch(/\n\s+at /);
    const debug = await runStb([
      '--debug',
      'generate',
      '-m',
      broken,
      '-n',
      '5',
    ]);
    expect(debug.code).toBe(3);
    expect(debug.stderr).toMatch(/\n\s+at /);
  });
});
