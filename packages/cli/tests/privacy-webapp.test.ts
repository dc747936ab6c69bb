import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ValidationReport } from '@stb/core';
import { readModelArtifact } from '@stb/models';
import { artifactLiterals } from '../src/inspect-report';
import type { ScratchDb } from '../../generator/tests/helpers/db';
import {
  createMysqlDatabase,
  createPgDatabase,
} from '../../generator/tests/helpers/db';
import { SAMPLES_DIR, runStb } from './helpers';

/**
 * Issue 18, on the web-app fixtures (real logs of PostgreSQL and MariaDB; names with quotes and
 * non-ASCII, emails, JSON profiles, notes with newlines, LIKE searches, UUID tokens): the default
 * mode emits no rare source literal (the leak check is exactly 0), while `--keep-literals` copies
 * them (so the check can fail); the parameter score stays within 0.03 of verbatim sampling; the
 * default artifact stores no rare literal; and the generated trace replays against the app's
 * schema with as many errors as the original.
 */

const dir = mkdtempSync(path.join(tmpdir(), 'stb-cli-privacy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const FIXTURES = [
  {
    name: 'pg',
    log: path.join(SAMPLES_DIR, 'pg-webapp-logstatement/postgresql.csv.gz'),
    schema: path.join(SAMPLES_DIR, 'pg-webapp-logstatement/schema.sql'),
    createDb: createPgDatabase,
  },
  {
    name: 'mariadb',
    log: path.join(SAMPLES_DIR, 'mariadb-webapp-text/mariadb_general.log.gz'),
    schema: path.join(SAMPLES_DIR, 'mariadb-webapp-text/schema.sql'),
    createDb: createMysqlDatabase,
  },
] as const;

async function stb(args: string[]): Promise<string> {
  const r = await runStb(args);
  if (r.code !== 0)
    throw new Error(`stb ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stderr;
}

function parameters(report: ValidationReport): number {
  return report.properties.find((p) => p.id === 'parameters')?.score ?? 0;
}

async function benchErrors(trace: string, url: string, schema: string) {
  const out = `${trace}.bench.json`;
  await stb([
    'bench',
    '-i',
    trace,
    '-t',
    url,
    '--mode',
    'closed',
    '-c',
    '2',
    '-w',
    '0',
    '--no-metrics',
    '--setup',
    schema,
    '-o',
    out,
  ]);
  const result = JSON.parse(readFileSync(out, 'utf8')) as {
    overall: { count: number; errors: number };
  };
  return result.overall;
}

describe.each(FIXTURES)('web-app fixture $name', (fx) => {
  const trace = path.join(dir, `${fx.name}.jsonl`);
  const out = (mode: string): string => path.join(dir, `${fx.name}.${mode}`);
  const reports = new Map<string, ValidationReport>();

  beforeAll(async () => {
    await stb(['parse', '-i', fx.log, '-o', trace]);
    for (const mode of ['default', 'keep']) {
      await stb([
        'generate',
        '-m',
        'markov',
        '--order',
        '2',
        '-i',
        trace,
        '-n',
        '1790',
        '--seed',
        '1',
        ...(mode === 'keep' ? ['--keep-literals'] : []),
        '--save-model',
        `${out(mode)}.model.json`,
        '-o',
        `${out(mode)}.jsonl`,
      ]);
      const r = await runStb([
        'validate',
        '--original',
        trace,
        '--generated',
        `${out(mode)}.jsonl`,
        '--max-leak',
        '0',
        '--json-report',
        `${out(mode)}.report.json`,
      ]);
      // exit 1 is the failed leak gate (keep-literals); anything else is a failure
      if (r.code !== 0 && r.code !== 1) throw new Error(r.stderr);
      reports.set(
        mode,
        JSON.parse(
          readFileSync(`${out(mode)}.report.json`, 'utf8'),
        ) as ValidationReport,
      );
    }
  }, 120_000);

  it('leaks no rare literal by default, and the check sees copies', () => {
    const safe = reports.get('default')?.leak;
    const copied = reports.get('keep')?.leak;
    expect(safe?.checked).toBeGreaterThan(1000);
    expect(safe?.samplingRate).toBe(1);
    expect(safe?.leaked).toBe(0);
    expect(safe?.share).toBe(0);
    expect(safe?.passed).toBe(true);
    // verbatim sampling copies hundreds of once-seen emails, tokens and names
    expect(copied?.leaked).toBeGreaterThan(300);
    expect(copied?.passed).toBe(false);
    expect(copied?.slots.some((s) => s.column?.endsWith('.email'))).toBe(true);
  });

  it('keeps the parameter score within 0.03 of verbatim sampling', () => {
    const safe = reports.get('default') as ValidationReport;
    const copied = reports.get('keep') as ValidationReport;
    expect(parameters(safe)).toBeGreaterThanOrEqual(parameters(copied) - 0.03);
  });

  it('stores no rare literal in the default artifact (stb inspect)', async () => {
    const r = await runStb(['inspect', `${out('default')}.model.json`]);
    expect(r.code).toBe(0);
    expect(r.stderr + r.stdout.toString()).toMatch(
      /Literals: default privacy, k = 5: [\d,]+ non-numeric values stored verbatim .* 0 rare/,
    );
    const keep = artifactLiterals(
      await readModelArtifact(`${out('keep')}.model.json`),
    );
    expect(keep.mode).toBe('keep-literals');
    expect(keep.rare).toBeGreaterThan(500);
  });

  it('replays against the app schema with the original error count', async () => {
    const dbs: ScratchDb[] = [];
    try {
      const a = await fx.createDb();
      if (a === null) return;
      dbs.push(a);
      const b = await fx.createDb();
      if (b === null) return;
      dbs.push(b);
      const original = await benchErrors(trace, a.url, fx.schema);
      const generated = await benchErrors(
        `${out('default')}.jsonl`,
        b.url,
        fx.schema,
      );
      expect(original.count).toBe(1790);
      expect(generated.count).toBeGreaterThanOrEqual(1790);
      expect(generated.errors).toBe(original.errors);
    } finally {
      for (const db of dbs) await db.drop();
    }
  }, 120_000);
});
