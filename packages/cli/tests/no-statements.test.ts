import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runStb } from './helpers';

// A parse that finds no statement exits 3 with one line saying what was read and why nothing
// was a statement (issue 20): here a real PostgreSQL log made with log_statement = 'none', and a
// real Cloud SQL export whose statements all fall outside the filters.
const PROVIDERS = path.resolve(
  __dirname,
  '../../parser/tests/fixtures/generated/pg-providers',
);
const dir = mkdtempSync(path.join(tmpdir(), 'stb-cli-no-statements-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('stb parse with no statement in the input', () => {
  it('log_statement = none: exit 3, names the format, the skipped lines and the setting', async () => {
    const out = path.join(dir, 'none.jsonl');
    const log = path.join(PROVIDERS, 'nostatements.log.gz');
    const r = await runStb(['parse', '-i', log, '-o', out]);
    expect(r.code).toBe(3);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^\[stb\] \[cli\] No SQL statements found: /);
    expect(lines[0]).toContain(`\`${log}\` read as postgres-stderr`);
    expect(lines[0]).toMatch(/connection \d+/);
    expect(lines[0]).toContain("log_statement = 'all'");
    expect(existsSync(out)).toBe(false);
  });

  it('every statement filtered out: exit 3, says the filters dropped them', async () => {
    const out = path.join(dir, 'filtered.jsonl');
    const r = await runStb([
      'parse',
      '-i',
      path.join(PROVIDERS, 'cloudsql.jsonl.gz'),
      '--user',
      'nobody',
      '-o',
      out,
    ]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(
      /^\[stb\] \[cli\] No SQL statements found: all 57 statement\(s\) were dropped by the filters/,
    );
    expect(existsSync(out)).toBe(false);
  });
});
