import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { PG_STATEMENT_LOG, runStb } from './helpers';

const dir = mkdtempSync(path.join(tmpdir(), 'stb-cli-repro-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const EPOCH = { SOURCE_DATE_EPOCH: '1764547200' };
const DATE = '2025-12-01T00:00:00.000Z';

/**
 * Runs `stb <args> --json-report … --report …` twice with SOURCE_DATE_EPOCH; checks that both runs
 * wrote the same bytes and gives the JSON report's text.
 */
async function reportsTwice(name: string, args: string[]): Promise<string> {
  const out: Buffer[][] = [];
  for (const run of [0, 1]) {
    const files = ['json', 'html'].map((x) =>
      path.join(dir, `${name}${run}.${x}`),
    );
    const r = await runStb(
      [
        ...args,
        '--json-report',
        files[0] as string,
        '--report',
        files[1] as string,
      ],
      { env: EPOCH },
    );
    expect(r.code).toBe(0);
    out.push(files.map((f) => readFileSync(f)));
  }
  const [a, b] = out as [Buffer[], Buffer[]];
  expect(b[0]?.equals(a[0] as Buffer)).toBe(true);
  expect(b[1]?.equals(a[1] as Buffer)).toBe(true);
  return (a[0] as Buffer).toString();
}

describe('stb parse with SOURCE_DATE_EPOCH', () => {
  it('writes byte-identical traces, whatever the threads, with the header dated by it', async () => {
    const env = EPOCH;
    const outs: Buffer[] = [];
    for (const [i, workers] of ['0', '0', '2'].entries()) {
      const out = path.join(dir, `t${i}.jsonl`);
      const r = await runStb(
        ['parse', '-i', PG_STATEMENT_LOG, '-o', out, '--workers', workers],
        { env },
      );
      expect(r.code).toBe(0);
      outs.push(readFileSync(out));
    }
    expect(outs[1]?.equals(outs[0] as Buffer)).toBe(true);
    expect(outs[2]?.equals(outs[0] as Buffer)).toBe(true);
    const header = JSON.parse(
      (outs[0] as Buffer).toString('utf8').split('\n')[0] as string,
    ) as { createdAt: string };
    expect(header.createdAt).toBe(DATE);
  });
});

describe('stb validate and stb compare with SOURCE_DATE_EPOCH', () => {
  it('write byte-identical JSON and HTML reports, dated by it', async () => {
    const trace = path.join(dir, 'trace.jsonl');
    const p = await runStb(['parse', '-i', PG_STATEMENT_LOG, '-o', trace]);
    expect(p.code).toBe(0);
    const json = await reportsTwice('v', [
      'validate',
      '--original',
      trace,
      '--generated',
      trace,
    ]);
    expect((JSON.parse(json) as { createdAt: string }).createdAt).toBe(DATE);
  });

  it('compare: the same two bench results give byte-identical reports', async () => {
    // Two short runs on the embedded PostgreSQL (PGlite) of a trace of `SELECT $1`.
    const lines = [
      '{"kind":"header","format":"stb-trace","version":2,"dialect":"postgres","source":{},"timeResolutionUs":1,"createdAt":"2024-01-01T00:00:00Z"}',
      '{"kind":"template","id":"4147761e3cf57847","text":"SELECT $1","queryType":"SELECT","tables":[],"slots":[{"type":"int","column":null}]}',
      ...Array.from(
        { length: 200 },
        (_, i) =>
          `{"kind":"event","startUs":${1_700_000_000_000_000 + i * 1000},"sessionId":"s${i % 2}","templateId":"4147761e3cf57847","params":[{"t":"int","v":${i}}]}`,
      ),
    ];
    const selects = path.join(dir, 'selects.jsonl');
    writeFileSync(selects, `${lines.join('\n')}\n`);
    const results = ['base.json', 'cand.json'].map((f) => path.join(dir, f));
    for (const out of results) {
      const r = await runStb([
        'bench',
        '-i',
        selects,
        '--target',
        'pglite:',
        '--mode',
        'closed',
        '--metrics-port',
        '0',
        '-o',
        out,
      ]);
      expect(r.code).toBe(0);
    }
    const json = await reportsTwice('c', ['compare', ...results]);
    expect(json).toContain(DATE);
  });
});
