import { isStbError, type RawQueryEvent, type TraceRecord } from '@stb/core';
import { extractTrace, traceFromLog, type ParsedLog } from '../src/index';

const ev = (
  sessionId: string,
  startUs: number,
  sql: string,
): RawQueryEvent => ({
  sessionId,
  startUs,
  sql,
  source: { file: '/logs/app.log', line: startUs },
  dialect: 'mysql',
});

/** A parsed log as parseLogs hands it over: the events plus the per-file summary. */
function parsed(
  events: RawQueryEvent[],
  files = [{ format: 'mysql-general', timeResolutionUs: 1_000_000 }],
): ParsedLog {
  return {
    async *[Symbol.asyncIterator]() {
      yield* events;
    },
    summary: () => ({ files }),
  };
}

const events = [
  ev('1', 1, 'SELECT * FROM t WHERE id = 1'),
  ev('1', 2, 'SELECT * FROM t WHERE id = 2'),
  ev('2', 3, 'UPDATE t SET v = 3 WHERE id = 4'),
];

test('header first (first statement dialect, formats, coarsest resolution), then what extractTrace yields', async () => {
  const run = traceFromLog(
    parsed(events, [
      { format: 'mysql-general', timeResolutionUs: 1_000_000 },
      { format: 'mysql-slow', timeResolutionUs: 1 },
    ]),
    { files: ['/logs/app.log', '-'], createdAt: '2026-01-01T00:00:00.000Z' },
  );
  const out: TraceRecord[] = [];
  for await (const r of run) out.push(r);
  expect(out[0]).toEqual({
    kind: 'header',
    format: 'stb-trace',
    version: expect.any(Number) as number,
    dialect: 'mysql',
    source: {
      tool: 'parse',
      files: ['app.log', '-'],
      formats: ['mysql-general', 'mysql-slow'],
    },
    timeResolutionUs: 1_000_000,
    createdAt: '2026-01-01T00:00:00.000Z',
  });
  const plain: TraceRecord[] = [];
  for await (const r of extractTrace(events)) plain.push(r);
  expect(out.slice(1)).toEqual(plain);
  expect(run.header()).toBe(out[0]);
  expect(run.templates()).toEqual(plain.filter((r) => r.kind === 'template'));
  expect(run.templates().map((t) => t.id)).toEqual(
    run.catalog.toArray().map((t) => t.id),
  );
  expect(run.summary().events).toBe(3);
});

test('an empty log calls onEmpty before yielding; without a throw it is a header alone', async () => {
  const failing = traceFromLog(parsed([]), {
    files: ['a.log'],
    onEmpty: () => {
      throw new Error('no statements');
    },
  });
  await expect(failing[Symbol.asyncIterator]().next()).rejects.toThrow(
    'no statements',
  );
  const out: TraceRecord[] = [];
  for await (const r of traceFromLog(parsed([]), {
    files: ['a.log'],
    dialect: 'mysql',
  }))
    out.push(r);
  expect(out).toHaveLength(1);
  expect(out[0]).toMatchObject({ kind: 'header', dialect: 'mysql' });
});

test('extraction options pass through (invalid UTF-8 throws by default, skipped on request)', async () => {
  const bad = [ev('1', 1, 'SELECT \uFFFD FROM t'), ev('1', 2, 'SELECT 1')];
  const run = traceFromLog(parsed(bad), { files: ['a.log'] });
  let err: unknown;
  try {
    for await (const _ of run) void _;
  } catch (e) {
    err = e;
  }
  expect(isStbError(err, 'STB_INPUT_ENCODING')).toBe(true);
  const skipping = traceFromLog(parsed(bad), {
    files: ['a.log'],
    onInvalid: 'skip',
  });
  const kinds: string[] = [];
  for await (const r of skipping) kinds.push(r.kind);
  expect(kinds).toEqual(['header', 'template', 'event']);
  expect(skipping.summary().skipped).toBe(1);
});

test('keepTemplates: false gives the same records, and says so when its templates are asked for', async () => {
  const kept = traceFromLog(parsed(events), {
    files: ['app.log'],
    createdAt: 'x',
  });
  const want: TraceRecord[] = [];
  for await (const r of kept) want.push(r);
  expect(kept.templates()).toHaveLength(2);

  const run = traceFromLog(parsed(events), {
    files: ['app.log'],
    createdAt: 'x',
    keepTemplates: false,
  });
  const got: TraceRecord[] = [];
  for await (const r of run) got.push(r);
  expect(got).toEqual(want);
  expect(run.summary()).toEqual(kept.summary());
  for (const read of [() => run.catalog, () => run.templates()])
    expect(read).toThrow(expect.objectContaining({ code: 'STB_USAGE' }));
});
