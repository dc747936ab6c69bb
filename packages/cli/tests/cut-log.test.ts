import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { PG_STATEMENT_LOG, runStb } from './helpers';

const dir = mkdtempSync(path.join(tmpdir(), 'stb-cli-cut-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * A real pgbench log cut where a live log's copy may end: inside the text of a `SELECT abalance
 * FROM pgbench_accounts WHERE aid = …`, right before its WHERE. Read as a statement, it would be a
 * full scan of pgbench_accounts in every benchmark of the trace.
 */
function cutLog(): { file: string; line: number } {
  const text = gunzipSync(readFileSync(PG_STATEMENT_LOG)).toString('utf8');
  // The fifth such statement: the ones before it are whole.
  let select = -1;
  for (let i = 0; i < 5; i++)
    select = text.indexOf('SELECT abalance', select + 1);
  const at = text.indexOf(' WHERE aid = ', select);
  const file = path.join(dir, 'live.log');
  writeFileSync(file, text.slice(0, at));
  return { file, line: text.slice(0, at).split('\n').length };
}

const templatesOf = (trace: string): string[] =>
  readFileSync(trace, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{"kind":"template"'))
    .map((l) => (JSON.parse(l) as { text: string }).text);

describe('stb on a log cut in its last line', () => {
  it.each([['0'], ['2']])(
    'parse --workers %s skips the cut statement, says where, and writes no shorter statement',
    async (workers) => {
      const { file, line } = cutLog();
      const out = path.join(dir, `w${workers}.jsonl`);
      const r = await runStb([
        'parse',
        '--json',
        '-i',
        file,
        '-o',
        out,
        '--workers',
        workers,
      ]);
      expect(r.code).toBe(0);
      expect(r.stderr).toContain(
        `[stb] ${file}:${line}: the log's last line has no line end (a log still being written, or a partial copy): its entry, from line ${line}, is skipped as truncated.`,
      );
      const summary = JSON.parse(
        r.stdout.toString().trim().split('\n').at(-1) as string,
      ) as {
        files: { truncatedAt?: number }[];
        skipped: Record<string, number>;
      };
      expect(summary.files[0]?.truncatedAt).toBe(line);
      expect(summary.skipped['truncated']).toBe(1);
      const texts = templatesOf(out);
      expect(texts).toContain(
        'SELECT abalance FROM pgbench_accounts WHERE aid = $1',
      );
      expect(texts).not.toContain('SELECT abalance FROM pgbench_accounts');
    },
  );

  it('learn warns too, and its model has no template of the cut statement', async () => {
    const { file, line } = cutLog();
    const model = path.join(dir, 'model.json');
    const r = await runStb(['learn', '-i', file, '-o', model]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(
      `${file}:${line}: the log's last line has no line end`,
    );
    expect(readFileSync(model, 'utf8')).not.toContain(
      '"SELECT abalance FROM pgbench_accounts"',
    );
  });
});
