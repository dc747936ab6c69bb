import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import {
  decodeTraceEvent,
  isStbError,
  stringifyEventBody,
  type EncodedTraceEvent,
  type QueryTemplate,
  type RawQueryEvent,
  type TraceEvent,
} from '@stb/core';
import {
  extractTrace,
  extractTraceBatches,
  assembleTraceBatches,
  extractResult,
  createExtractor,
  ResultPacker,
  type ExtractedResult,
  type Extractor,
  type ExtractOptions,
  type PackedResults,
} from '../src/index';
import { PACKED_INTS } from '../src/packed';
import { readMariaSample, readPgSample } from './sample-logs';

const ev = (
  sessionId: string,
  startUs: number,
  sql: string,
): RawQueryEvent => ({
  sessionId,
  startUs,
  sql,
  source: { file: 'x.log', line: 1 },
  dialect: 'postgres',
});

/** A sample log's statements (`dialect`: which reader). */
const sample = (folder: string, dialect: string): RawQueryEvent[] =>
  dialect === 'postgres' ? readPgSample(folder) : readMariaSample(folder);

/** `raw` cut into batches of `size`. */
function batchesOf(raw: RawQueryEvent[], size: number): RawQueryEvent[][] {
  const out: RawQueryEvent[][] = [];
  for (let i = 0; i < raw.length; i += size) out.push(raw.slice(i, i + size));
  return out;
}

/** `batches` extracted by `ex`, as the assembly's other side hands them over. */
const extractedBy = (ex: Extractor, batches: RawQueryEvent[][]) =>
  batches.map((b) => b.map((r) => extractResult(ex, r)));

async function records(source: RawQueryEvent[], options?: ExtractOptions) {
  const out: (TraceEvent | QueryTemplate)[] = [];
  const run = extractTrace(source, options);
  for await (const r of run) out.push(r);
  return {
    out,
    events: out.filter((r): r is TraceEvent => r.kind === 'event'),
    run,
  };
}

test('each template is yielded once, right before its first event', async () => {
  const { out } = await records([
    ev('a', 1, 'SELECT 1'),
    ev('a', 2, 'SELECT 2'),
    ev('b', 3, 'SELECT x FROM t'),
    ev('a', 4, 'SELECT 3'),
  ]);
  expect(out.map((r) => r.kind)).toEqual([
    'template',
    'event',
    'event',
    'template',
    'event',
    'event',
  ]);
  expect((out[0] as QueryTemplate).id).toBe((out[1] as TraceEvent).templateId);
});

test('sorts across sessions within the window, keeps each session in order', async () => {
  const { events } = await records(
    [
      ev('a', 100, 'SELECT 1'),
      ev('a', 50, 'SELECT 2'),
      ev('b', 60, 'SELECT 3'),
      ev('b', 500, 'SELECT 4'),
      ev('c', 10, 'SELECT 5'),
    ],
    { reorderWindowUs: 1000 },
  );
  // a's second event (start 50) stays after a's first (clamped to 100)
  expect(events.map((e) => `${e.sessionId}${e.startUs}`)).toEqual([
    'c10',
    'b60',
    'a100',
    'a50',
    'b500',
  ]);
});

test('a window of 0 keeps input order; the buffer is bounded', async () => {
  const input = [
    ev('a', 100, 'SELECT 1'),
    ev('b', 50, 'SELECT 1'),
    ev('c', 10, 'SELECT 1'),
  ];
  const { events } = await records(input, { reorderWindowUs: 0 });
  expect(events.map((e) => e.sessionId)).toEqual(['a', 'b', 'c']);
  const many = Array.from({ length: 50 }, (_, i) =>
    ev(String(i % 5), 1000 - i, 'SELECT 1'),
  );
  const { events: e2, run } = await records(many, { maxReorderEvents: 10 });
  expect(e2).toHaveLength(50);
  expect(run.summary().reorderOverflow).toBeGreaterThan(0);
});

test('transaction indexes from BEGIN/COMMIT/ROLLBACK per session', async () => {
  const { events } = await records(
    [
      ev('a', 1, 'BEGIN'),
      ev('a', 2, 'SELECT 1'),
      ev('b', 3, 'SELECT 1'),
      ev('a', 4, 'COMMIT'),
      ev('a', 5, 'SELECT 1'),
      ev('a', 6, 'START TRANSACTION'),
      ev('a', 7, 'SAVEPOINT s'),
      ev('a', 8, 'ROLLBACK TO SAVEPOINT s'),
      ev('a', 9, 'ROLLBACK'),
    ],
    { reorderWindowUs: 0 },
  );
  expect(events.map((e) => e.txn)).toEqual([
    0,
    0,
    undefined,
    0,
    undefined,
    1,
    1,
    1,
    1,
  ]);
});

test('invalid UTF-8: throw (default) names file, line and column; skip and collect count it', async () => {
  const bad = {
    ...ev('a', 1, "SELECT '\uFFFD'"),
    source: { file: 'x.log', line: 12 },
  };
  const input = [ev('a', 0, 'SELECT 1'), bad];
  await expect(records(input)).rejects.toMatchObject({
    code: 'STB_INPUT_ENCODING',
    details: { source: 'x.log', line: 12, column: 9 },
  });
  const skipped = await records(input, { onInvalid: 'skip' });
  expect(skipped.events).toHaveLength(1);
  expect(skipped.run.summary().skipped).toBe(1);
  const kept = await records(input, { onInvalid: 'collect' });
  expect(kept.events).toHaveLength(2);
  expect(kept.run.summary().invalidUtf8).toEqual([
    { file: 'x.log', line: 12, column: 9, offset: 8 },
  ]);
});

test('abort signal stops the run with STB_ABORTED', async () => {
  const ac = new AbortController();
  const input = Array.from({ length: 5000 }, (_, i) =>
    ev('a', i, `SELECT ${i}`),
  );
  let n = 0;
  const err = await (async () => {
    try {
      for await (const _ of extractTrace(input, {
        signal: ac.signal,
        reorderWindowUs: 0,
      }))
        if (++n === 10) ac.abort();
    } catch (e) {
      return e;
    }
    return undefined;
  })();
  expect(isStbError(err, 'STB_ABORTED')).toBe(true);
  expect(n).toBeLessThan(5000);
});

test('summary and progress', async () => {
  const progress: number[] = [];
  const { run } = await records(
    [
      ev('a', 1, 'SELECT 1'),
      ev('a', 2, 'SELEC oops'),
      { ...ev('a', 3, 'SELECT 2'), error: { code: '42P01' } },
    ],
    { onProgress: (p) => progress.push(p.events), progressIntervalMs: 0 },
  );
  const s = run.summary();
  expect(s.events).toBe(3);
  expect(s.templates).toBe(2);
  expect(s.templatesByPath).toEqual({
    'libpg-query': 1,
    'node-sql-parser': 0,
    lexer: 1,
  });
  expect(s.failedParseEvents).toBe(1);
  expect(s.failedEvents).toBe(1);
  expect(progress[progress.length - 1]).toBe(3);
  expect(run.catalog.size).toBe(2);
});

describe('worker pool', () => {
  beforeAll(() => {
    // workers load the built dist
    execFileSync('npx', ['tsup'], {
      cwd: join(__dirname, '..'),
      stdio: 'ignore',
    });
  }, 120_000);

  it('gives the same trace as in-thread extraction', async () => {
    const raw = readPgSample('pg-tpcb-simple-logstatement');
    const a = await records(raw);
    const b = await records(raw, { workers: 2, batchSize: 500 });
    expect(b.out).toEqual(a.out);
    expect(b.run.summary()).toEqual(a.run.summary());
  }, 60_000);
});

describe('extractTraceBatches', () => {
  it.each([
    ['pg-tpcb-simple-logstatement', 'postgres'],
    ['mariadb-sysbench-text', 'mysql'],
  ])(
    '%s: the same records in the same order as extractTrace, batches of any size',
    async (folder, dialect) => {
      const raw = sample(folder, dialect);
      const a = await records(raw);
      for (const size of [1, 7, 2048]) {
        const run = extractTraceBatches(batchesOf(raw, size));
        const out: (TraceEvent | QueryTemplate)[] = [];
        for await (const b of run) out.push(...b);
        expect(out).toEqual(a.out);
        expect(run.summary()).toEqual(a.run.summary());
      }
    },
  );
});

describe('keepTemplates: false', () => {
  it.each([
    ['pg-tpcb-simple-logstatement', 'postgres'],
    ['mariadb-sysbench-text', 'mysql'],
  ])(
    '%s: the same records and summary on every path; the catalog is not readable',
    async (folder, dialect) => {
      const raw = sample(folder, dialect);
      const a = await records(raw);
      const batches = batchesOf(raw, 300);
      const ex = await createExtractor();
      const o = { keepTemplates: false };
      const runs = [
        extractTrace(raw, o),
        extractTraceBatches(batches, o),
        assembleTraceBatches(extractedBy(ex, batches), o),
      ];
      for (const run of runs) {
        const out: (TraceEvent | QueryTemplate)[] = [];
        for await (const r of run) out.push(...(Array.isArray(r) ? r : [r]));
        expect(out).toEqual(a.out);
        expect(run.summary()).toEqual(a.run.summary());
        expect(() => run.catalog).toThrow(
          expect.objectContaining({ code: 'STB_USAGE' }),
        );
      }
    },
  );
});

describe('encodeEvents', () => {
  it.each([
    ['pg-tpcb-simple-logstatement', 'postgres'],
    ['mariadb-sysbench-text', 'mysql'],
  ])(
    '%s: each event is the line stringifyTraceEvent writes for it, in the same order',
    async (folder, dialect) => {
      const raw = sample(folder, dialect);
      const a = await records(raw);
      const batches = batchesOf(raw, 500);
      const ex = await createExtractor();
      const runs = [
        extractTraceBatches(batches, { encodeEvents: true }),
        assembleTraceBatches(extractedBy(ex, batches), { encodeEvents: true }),
      ];
      for (const run of runs) {
        const out: (EncodedTraceEvent | QueryTemplate)[] = [];
        for await (const b of run) out.push(...b);
        expect(out.length).toBe(a.out.length);
        let events = 0;
        out.forEach((r, i) => {
          const want = a.out[i] as TraceEvent | QueryTemplate;
          if (want.kind === 'template') {
            expect(r).toEqual(want);
            return;
          }
          events++;
          expect(r.kind).toBe('encoded-event');
          const enc = r as EncodedTraceEvent;
          expect(enc.templateId).toBe(want.templateId);
          expect(enc.json).toBe(JSON.stringify(want));
          expect(decodeTraceEvent(enc)).toEqual(
            JSON.parse(JSON.stringify(want)),
          );
        });
        expect(events).toBeGreaterThan(0);
        expect(run.summary()).toEqual(a.run.summary());
      }
    },
  );
});

describe('packed results (ResultPacker)', () => {
  /** What the CLI's parse thread does: some batches packed, the others extracted by the assembly's side. */
  async function viaPacked(
    batches: RawQueryEvent[][],
    encodeEvents: boolean,
    tamper?: (r: ExtractedResult) => ExtractedResult,
  ) {
    const worker = await createExtractor();
    const main = await createExtractor();
    const packer = new ResultPacker();
    const handed: (ExtractedResult[] | PackedResults)[] = batches.map((b, i) =>
      i % 3 === 1
        ? b.map((r) => extractResult(main, r))
        : packer.pack(
            b.map((r) => {
              const x = extractResult(worker, r, { transfer: true });
              return tamper ? tamper(x) : x;
            }),
          ).packed,
    );
    const run = assembleTraceBatches(handed, {
      encodeEvents,
      onInvalid: 'collect',
    });
    const out: (TraceEvent | EncodedTraceEvent | QueryTemplate)[] = [];
    for await (const b of run) out.push(...b);
    return { out, summary: run.summary() };
  }

  /** Statements that reach every field the packing carries. */
  function varied(): RawQueryEvent[] {
    const out: RawQueryEvent[] = [];
    let t = 1_700_000_000_000_000;
    for (let i = 0; i < 400; i++) {
      // one session id with characters JSON escapes and UTF-8 of several bytes (packed: the
      // bytes of its field skipped)
      const s = i % 5 === 4 ? `s"é\u2028${i % 5}` : `s${i % 5}`;
      const base = {
        sessionId: s,
        source: { file: 'x.log', line: i + 1 },
        dialect: 'postgres' as const,
        ...(i % 5 === 0 ? {} : { user: `u${i % 5}`, database: 'db' }),
        ...(i % 5 === 3 ? { application: 'app ünï' } : {}),
      };
      const sql = [
        'BEGIN',
        `UPDATE t SET v = v + ${i} WHERE id = ${i % 7}`,
        `SELECT 'é${i}\u{1F600}', "x" FROM t WHERE a = '${'\\'.repeat(i % 3)}q"'`,
        i % 11 === 0 ? 'SELECT broken \uFFFD FROM t' : 'SELECT 1 / 0',
        i % 2 === 0 ? 'COMMIT' : 'ROLLBACK',
      ][i % 5] as string;
      out.push({
        ...base,
        startUs: (t += i % 4 === 0 ? 10 : 900),
        sql,
        ...(i % 3 === 0 ? { durationUs: 1500 + i } : {}),
        ...(i % 5 === 3
          ? { error: { code: '22012', message: 'division by zero' } }
          : {}),
      });
    }
    return out;
  }

  it.each([
    ['varied statements', () => varied()],
    [
      'pg-tpcb-simple-logstatement',
      () => readPgSample('pg-tpcb-simple-logstatement'),
    ],
    [
      'pg-tpcb-extended-logstatement',
      () => readPgSample('pg-tpcb-extended-logstatement'),
    ],
    ['mariadb-sysbench-text', () => readMariaSample('mariadb-sysbench-text')],
  ])(
    '%s: the same records, summary and lines as the statements extracted in one thread',
    async (_name, read) => {
      const raw = read();
      for (const encodeEvents of [true, false]) {
        const want: (TraceEvent | EncodedTraceEvent | QueryTemplate)[] = [];
        const ref = extractTraceBatches(batchesOf(raw, 500), {
          encodeEvents,
          onInvalid: 'collect',
        });
        for await (const b of ref) want.push(...b);
        for (const size of [1, 7, 500]) {
          const got = await viaPacked(batchesOf(raw, size), encodeEvents);
          expect(got.out).toEqual(want);
          expect(got.summary).toEqual(ref.summary());
        }
      }
    },
    60_000,
  );

  it('carries what the varied statements hold: txn, conn once per session, failures, invalid UTF-8, non-ASCII', async () => {
    const got = await viaPacked(batchesOf(varied(), 7), true);
    const lines = got.out
      .filter((r): r is EncodedTraceEvent => r.kind === 'encoded-event')
      .map((r) => JSON.parse(r.json) as TraceEvent);
    expect(lines.filter((e) => e.conn !== undefined)).toHaveLength(4); // s1…s4; s0 names none
    expect(lines.some((e) => e.txn !== undefined)).toBe(true);
    expect(lines.some((e) => e.outcome?.ok === false)).toBe(true);
    expect(
      lines.some((e) => JSON.stringify(e.params).includes('\u{1F600}')),
    ).toBe(true);
    expect(got.summary.invalidUtf8Events).toBeGreaterThan(0);
    expect(got.summary.failedEvents).toBeGreaterThan(0);
  });

  it('gives each body its bytes when a batch mixes non-ASCII bodies and whole events', async () => {
    const ex = await createExtractor();
    const results = varied()
      .slice(0, 60)
      .map((r) => extractResult(ex, r, { transfer: true }));
    // A start that is not finite: the event crosses whole (in `extras`), with no body.
    results.forEach((r, i) => {
      if (i % 4 === 2) r.event.startUs = Number.NaN;
    });
    const { packed } = new ResultPacker().pack(results);
    const utf8 = new TextDecoder();
    let from = 0;
    results.forEach((r, i) => {
      const to = packed.ints[i * PACKED_INTS] as number;
      expect(utf8.decode(packed.bodies.subarray(from, to))).toBe(
        i % 4 === 2 ? '' : stringifyEventBody(r.event),
      );
      from = to;
    });
    expect(from).toBe(packed.bodies.length);
  });

  it('packs a statement at a time: a batch cut short, a batch after a long statement, and no batch after finish', async () => {
    const ex = await createExtractor();
    const raw = varied();
    const results = raw.map((r) => extractResult(ex, r, { transfer: true }));
    const bodyOf = (p: PackedResults, i: number): string => {
      const from = i === 0 ? 0 : (p.ints[(i - 1) * PACKED_INTS] as number);
      const to = p.ints[i * PACKED_INTS] as number;
      return new TextDecoder().decode(p.bodies.subarray(from, to));
    };
    const packer = new ResultPacker();
    // Started for 50, cut short after 20 (a failure on the 21st): the batch is the 20.
    packer.start(50);
    for (const r of results.slice(0, 20)) packer.add(r);
    const cut = packer.finish().packed;
    expect(cut.count).toBe(20);
    expect(cut.times).toHaveLength(40);
    expect(cut.ints).toHaveLength(20 * PACKED_INTS);
    // A statement far longer than the batch's usual room, then a batch of ordinary ones: the
    // bodies packed before are their own copies, not views of a buffer packed into again.
    const long = extractResult(
      ex,
      { ...(raw[1] as RawQueryEvent), sql: `SELECT '${'x'.repeat(200_000)}'` },
      { transfer: true },
    );
    // A batch of as many: the packer's scratch buffer is used again.
    const again = packer.pack(results.slice(50, 100)).packed;
    const big = packer.pack([long, ...results.slice(20, 22)]).packed;
    const next = packer.pack(results.slice(22, 40)).packed;
    const after = packer.pack(results.slice(40, 45)).packed;
    results.slice(0, 20).forEach((r, i) => {
      expect(bodyOf(cut, i)).toBe(stringifyEventBody(r.event));
    });
    results.slice(50, 100).forEach((r, i) => {
      expect(bodyOf(again, i)).toBe(stringifyEventBody(r.event));
    });
    expect(bodyOf(big, 0)).toBe(stringifyEventBody(long.event));
    results.slice(22, 40).forEach((r, i) => {
      expect(bodyOf(next, i)).toBe(stringifyEventBody(r.event));
    });
    expect(bodyOf(after, 4)).toBe(
      stringifyEventBody((results[44] as ExtractedResult).event),
    );
    expect(next.bodies.byteLength).toBe(next.ints[17 * PACKED_INTS]);
    // Between `finish` and the next `start` there is no batch to add to.
    expect(() => packer.add(results[0] as ExtractedResult)).toThrow(
      /more than/,
    );
  });

  it('an event of an unusual shape crosses whole and is written as one thread writes it', async () => {
    const raw = varied();
    // Keys out of the schema's order: the line is JSON.stringify's, in that order.
    const reorder = (r: ExtractedResult): ExtractedResult => {
      const { kind, ...rest } = r.event;
      return { ...r, event: { ...rest, kind } };
    };
    const ex = await createExtractor();
    const want: (EncodedTraceEvent | QueryTemplate)[] = [];
    for await (const b of assembleTraceBatches(
      batchesOf(raw, 7).map((b) => b.map((r) => reorder(extractResult(ex, r)))),
      { encodeEvents: true, onInvalid: 'collect' },
    ))
      want.push(...b);
    const worker = await createExtractor();
    const packer = new ResultPacker();
    const got: (EncodedTraceEvent | QueryTemplate)[] = [];
    const packed = batchesOf(raw, 7).map(
      (b) =>
        packer.pack(
          b.map((r) => reorder(extractResult(worker, r, { transfer: true }))),
        ).packed,
    );
    expect(packed.every((p) => p.extras.length === p.count)).toBe(true);
    for await (const b of assembleTraceBatches(packed, {
      encodeEvents: true,
      onInvalid: 'collect',
    }))
      got.push(...b);
    expect(got).toEqual(want);
    expect(
      String(
        (got.find((r) => r.kind === 'encoded-event') as EncodedTraceEvent).json,
      ),
    ).toMatch(/^\{"startUs"/);
  });
});
