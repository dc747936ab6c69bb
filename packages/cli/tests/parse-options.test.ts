import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { readTraceRecords } from '@stb/core';
import { SAMPLES_DIR, runStb } from './helpers';

const dir = mkdtempSync(path.join(tmpdir(), 'stb-cli-parse-options-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// The sample log (log_line_prefix '%m [%p] %q%u@%d/%a ') rewritten to a prefix no detector knows:
// 'ts=%m pid=%p %qdb=%d '. Only `--prefix` can read it.
const PREFIX = 'ts=%m pid=%p %qdb=%d ';
const LINE =
  /^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} UTC) \[(\d+)\] (?:[^@\s]*@([^/\s]*)\/\S* )?/;

function rewrite(text: string): string {
  return text
    .split('\n')
    .map((l) => {
      const m = LINE.exec(l);
      if (!m) return l;
      const session = m[3] === undefined ? '' : `db=${m[3]} `;
      return `ts=${m[1]} pid=${m[2]} ${session}${l.slice(m[0].length)}`;
    })
    .join('\n');
}

describe('stb parse --prefix', () => {
  const sample = path.join(
    SAMPLES_DIR,
    'pg-tpcb-simple-logstatement',
    'postgresql.log.gz',
  );
  const manifest = JSON.parse(
    readFileSync(path.join(SAMPLES_DIR, 'manifest.json'), 'utf8'),
  ) as Record<string, { statements_logged: number }>;
  const log = path.join(dir, 'custom-prefix.log');
  writeFileSync(
    log,
    rewrite(gunzipSync(readFileSync(sample)).toString('utf8')),
  );

  it('cannot detect an uncommon prefix and says how to fix it (exit 3)', async () => {
    const r = await runStb([
      'parse',
      '-i',
      log,
      '-o',
      path.join(dir, 'x.jsonl'),
    ]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/format/i);
  });

  it('reads every statement with --prefix', async () => {
    const out = path.join(dir, 'trace.jsonl');
    const r = await runStb(['parse', '-i', log, '--prefix', PREFIX, '-o', out]);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    let events = 0;
    const sessions = new Set<string>();
    for await (const rec of readTraceRecords(out))
      if (rec.kind === 'event') {
        events++;
        sessions.add(rec.sessionId);
      }
    expect(events).toBe(
      manifest['pg-tpcb-simple-logstatement']?.statements_logged,
    );
    expect(sessions.size).toBe(5);
  });

  it('rejects an invalid --utc-offset as a usage error', async () => {
    const mysql = path.join(
      SAMPLES_DIR,
      'mariadb-sysbench-text',
      'mariadb_general.log.gz',
    );
    const r = await runStb([
      'parse',
      '-i',
      mysql,
      '--utc-offset',
      'soon',
      '-o',
      path.join(dir, 'y.jsonl'),
    ]);
    expect([2, 3]).toContain(r.code);
    expect(r.stderr).toMatch(/utcOffset|utc-offset/i);
  });
});
