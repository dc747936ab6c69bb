import { mkdtempSync, promises as fsp, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import {
  collect,
  computeTemplateId,
  createTraceHeader,
  csvSidecarPath,
  decodeTraceEvent,
  encodeTraceEvent,
  isStbError,
  openTrace,
  readTraceRecords,
  withTemplateRecords,
  writeTrace,
} from '@stb/core';
import type {
  ParamValue,
  ParseError,
  QueryTemplate,
  TraceEvent,
  TraceRecord,
} from '@stb/core';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'stb-trace-io-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const header = createTraceHeader({
  dialect: 'postgres',
  source: { tool: 'test', files: ['a.log'] },
  createdAt: '2024-05-01T12:00:00.000Z',
});

function template(text: string, extra: Partial<QueryTemplate> = {}) {
  return {
    kind: 'template' as const,
    id: computeTemplateId('postgres', text),
    text,
    queryType: 'SELECT' as const,
    tables: ['t'],
    slots: [{ type: 'string' as const, column: 't.name' }],
    ...extra,
  };
}

const t1 = template('SELECT * FROM t WHERE name = $1');
const t2 = template(`INSERT INTO "tä" VALUES ($1, '\n"x"')`, {
  queryType: 'INSERT',
  fingerprint: 'abc',
  count: 2,
});

/** Events with the awkward content every format must carry. */
const tricky: TraceEvent[] = [
  {
    kind: 'event',
    startUs: 1714564800123456,
    sessionId: 'sess,1',
    templateId: t1.id,
    params: [{ t: 'string', v: 'O\'Brien "quoted", \n newline \r\n crlf' }],
    durationUs: 12,
    conn: { user: 'app "x"', database: 'shop', application: 'wéb,1' },
  },
  {
    kind: 'event',
    startUs: 1714564800223456,
    sessionId: 'séssion 😀',
    templateId: t2.id,
    params: [
      { t: 'bigint', v: '-92233720368547758070' },
      { t: 'float', v: 0.1 },
      { t: 'null', v: null },
      { t: 'bytes', v: '00ff' },
      {
        t: 'list',
        v: [
          { t: 'int', v: 1 },
          { t: 'bool', v: true },
        ],
      },
      { t: 'json', v: '{"a":[1,"b"]}' },
    ],
    outcome: { ok: false, code: '23505' },
    txn: 3,
    sql: `INSERT INTO "tä" VALUES ('it''s', '\n"x"');`,
  },
  {
    kind: 'event',
    startUs: -5,
    sessionId: '',
    templateId: t1.id,
    params: [],
  },
];

const trickyRecords: TraceRecord[] = [
  header,
  t1,
  tricky[0] as TraceEvent,
  t2,
  tricky[1] as TraceEvent,
  tricky[2] as TraceEvent,
];

const FORMATS = [
  'a.stb.jsonl',
  'a.stb.jsonl.gz',
  'a.csv',
  'a.csv.gz',
  'a.json',
  'a.json.gz',
];

describe('trace round trips', () => {
  it.each(FORMATS)('%s keeps every record', async (name) => {
    const file = path.join(dir, `rt-${name}`);
    const summary = await writeTrace(file, trickyRecords);
    expect(summary).toEqual({
      events: 3,
      templates: 2,
      bytes: (await fsp.stat(file)).size,
      path: file,
    });
    const back = await collect(readTraceRecords(file));
    if (!name.includes('jsonl')) {
      // CSV and JSON: the templates come first (sidecar / `templates` array).
      expect(back).toEqual([header, t1, t2, ...tricky]);
    } else {
      expect(back).toEqual(trickyRecords);
    }
    const raw = await fsp.readFile(file);
    expect(raw[0] === 0x1f && raw[1] === 0x8b).toBe(name.endsWith('.gz'));
    // Nothing but the output (and the CSV sidecar) is left behind.
    const left = readdirSync(dir).filter((f) => f.startsWith('.'));
    expect(left).toEqual([]);
  });

  it('writes the CSV columns of docs/trace-format.md with an ISO-8601 time and a sidecar', async () => {
    const file = path.join(dir, 'cols.csv');
    await writeTrace(file, trickyRecords);
    const text = await fsp.readFile(file, 'utf8');
    expect(text.split('\r\n')[0]).toBe(
      'time,startUs,sessionId,templateId,params,durationUs,outcome,txn,sql,conn',
    );
    expect(text.split('\r\n')[1]).toMatch(
      /^2024-05-01T12:00:00\.123456Z,1714564800123456,"sess,1",/,
    );
    const sidecar = JSON.parse(
      await fsp.readFile(path.join(dir, 'cols.templates.json'), 'utf8'),
    ) as unknown;
    expect(sidecar).toEqual({ header, templates: [t1, t2] });
  });

  it('round-trips generated events in every format', async () => {
    const leaf: fc.Arbitrary<ParamValue> = fc.oneof(
      fc.record({ t: fc.constant('int' as const), v: fc.maxSafeInteger() }),
      fc.record({
        t: fc.constant('float' as const),
        // JSON has no -0: it reads back as 0.
        v: fc
          .double({ noNaN: true, noDefaultInfinity: true })
          .map((x) => (x === 0 ? 0 : x)),
      }),
      fc.record({
        t: fc.constant('string' as const),
        v: fc.string({ unit: 'binary' }),
      }),
      fc.record({ t: fc.constant('uuid' as const), v: fc.uuid() }),
    );
    const event = fc.record(
      {
        kind: fc.constant('event' as const),
        startUs: fc.integer({ min: -1e15, max: 4e15 }),
        sessionId: fc.string({ unit: 'binary' }),
        templateId: fc.constantFrom(t1.id, t2.id),
        params: fc.array(leaf, { maxLength: 3 }),
        durationUs: fc.nat(),
        txn: fc.nat(),
        sql: fc.string({ unit: 'binary', minLength: 1 }),
      },
      {
        requiredKeys: ['kind', 'startUs', 'sessionId', 'templateId', 'params'],
      },
    );
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(event, { minLength: 0, maxLength: 30 }),
        fc.constantFrom(...FORMATS),
        async (events, name) => {
          const file = path.join(dir, `gen-${run++}-${name}`);
          const records = [header, t1, t2, ...events];
          await writeTrace(file, records);
          expect(await collect(readTraceRecords(file))).toEqual(records);
        },
      ),
      { numRuns: 60, seed: 1234 },
    );
  });

  it('keeps the order of lines longer than the write buffer among short ones, encoded or not', async () => {
    // The writer buffers 64–128 KiB of bytes: these lines are shorter, as long as, and longer than
    // that, in ASCII and in 2- and 3-byte UTF-8, between runs of short lines.
    const sizes = [10, 21_845, 65_535, 65_536, 140_000];
    const chars = ['x', 'é', '€'];
    const events: TraceEvent[] = [];
    for (let i = 0; i < 1500; i++) {
      const long = i % 149 === 0 ? sizes[(i / 149) % sizes.length] : undefined;
      events.push({
        kind: 'event',
        startUs: i,
        sessionId: `s${i % 4}`,
        templateId: i % 2 === 0 ? t1.id : t2.id,
        params: [{ t: 'int', v: i }],
        ...(long === undefined
          ? {}
          : { sql: (chars[i % 3] as string).repeat(long) }),
      });
    }
    for (const name of FORMATS) {
      const file = path.join(dir, `long-lines-${name}`);
      await writeTrace(file, [
        header,
        t1,
        t2,
        ...events.map((e, i) => (i % 3 === 0 ? encodeTraceEvent(e) : e)),
      ]);
      expect(await collect(readTraceRecords(file))).toEqual([
        header,
        t1,
        t2,
        ...events,
      ]);
    }
  });

  it('reads back an event longer than a log line may be (64 Mi characters)', async () => {
    // `stb parse` of a bulk INSERT writes all its rows' values in one event: the trace it wrote
    // must read back (it was refused as "longer than 67108864 characters" until 2026-12-05)
    const big = 'x'.repeat(64 * 1024 * 1024 + 10);
    const event: TraceEvent = {
      kind: 'event',
      startUs: 1,
      sessionId: 's',
      templateId: t1.id,
      params: [{ t: 'string', v: big }],
    };
    const file = path.join(dir, 'huge-event.stb.jsonl');
    await writeTrace(file, [header, t1, event]);
    const records = await collect(readTraceRecords(file));
    expect(records).toHaveLength(3);
    const read = records[2] as TraceEvent;
    expect(read.params[0]?.v).toHaveLength(big.length);
  });

  it('detects the format by content, not by extension', async () => {
    const jsonl = path.join(dir, 'really-jsonl.json');
    const json = path.join(dir, 'really-json.jsonl');
    await writeTrace(jsonl, trickyRecords, { format: 'jsonl' });
    await writeTrace(json, trickyRecords, { format: 'json', gzip: true });
    expect(await collect(readTraceRecords(jsonl))).toEqual(trickyRecords);
    expect(await collect(readTraceRecords(json))).toEqual([
      header,
      t1,
      t2,
      ...tricky,
    ]);
  });

  it('reads pretty-printed and minified JSON documents, skipping unknown keys', async () => {
    const doc = {
      note: { nested: ['x', { y: '}]' }] },
      header,
      templates: [t1, t2],
      events: tricky,
      trailer: 42,
    };
    const pretty = path.join(dir, 'pretty.json');
    const mini = path.join(dir, 'mini.json.gz');
    await fsp.writeFile(pretty, JSON.stringify(doc, null, 2));
    await fsp.writeFile(mini, gzipSync(JSON.stringify(doc)));
    const expected = [header, t1, t2, ...tricky];
    expect(await collect(readTraceRecords(pretty))).toEqual(expected);
    expect(await collect(readTraceRecords(mini))).toEqual(expected);
  });

  it('writes an empty trace (header only) in every format', async () => {
    for (const name of FORMATS) {
      const file = path.join(dir, `empty-${name}`);
      expect(await writeTrace(file, [header])).toMatchObject({
        events: 0,
        templates: 0,
      });
      expect(await collect(readTraceRecords(file))).toEqual([header]);
    }
  });
});

describe('encoded events', () => {
  it.each(FORMATS)(
    '%s: the same bytes as the events written as objects',
    async (name) => {
      const plain = path.join(dir, `plain-${name}`);
      const enc = path.join(dir, `enc-${name}`);
      const a = await writeTrace(plain, trickyRecords);
      const b = await writeTrace(
        enc,
        trickyRecords.map((r) =>
          r.kind === 'event' ? encodeTraceEvent(r) : r,
        ),
      );
      expect({ ...b, path: plain }).toEqual(a);
      expect(await fsp.readFile(enc)).toEqual(await fsp.readFile(plain));
      if (name.startsWith('a.csv'))
        expect(await fsp.readFile(csvSidecarPath(enc))).toEqual(
          await fsp.readFile(csvSidecarPath(plain)),
        );
    },
  );

  it('decode gives the event as a reader of the trace sees it', () => {
    for (const e of tricky) {
      const enc = encodeTraceEvent(e);
      expect(enc).toEqual({
        kind: 'encoded-event',
        templateId: e.templateId,
        json: JSON.stringify(e),
      });
      expect(decodeTraceEvent(enc)).toEqual(e);
    }
  });

  it('an encoded event of an undeclared template is refused', async () => {
    const e = tricky[0] as TraceEvent;
    await expect(
      writeTrace(path.join(dir, 'enc-bad.jsonl'), [
        header,
        encodeTraceEvent(e),
      ]),
    ).rejects.toMatchObject({ code: 'STB_TRACE_UNKNOWN_TEMPLATE' });
  });
});

describe('openTrace', () => {
  it('reads the header eagerly and fills the catalog as templates are read', async () => {
    const file = path.join(dir, 'open.stb.jsonl');
    await writeTrace(file, trickyRecords);
    const trace = await openTrace(file);
    expect(trace.header).toEqual(header);
    expect(trace.catalog.size).toBe(0);
    const first = await trace.events.next();
    expect(first.value).toEqual(tricky[0]);
    // a template is in the catalog before its first event comes out (the reader works by chunk)
    expect(trace.catalog.get(t1.id)).toEqual(t1);
    const rest = await collect(trace.events);
    expect(rest).toEqual(tricky.slice(1));
    expect(trace.catalog.toArray()).toEqual([t1, t2]);
  });

  it('raises header errors itself', async () => {
    const file = path.join(dir, 'noheader.jsonl');
    await fsp.writeFile(file, `${JSON.stringify(t1)}\n`);
    await expect(openTrace(file)).rejects.toMatchObject({
      code: 'STB_TRACE_MISSING_HEADER',
      source: file,
      line: 1,
    });
  });

  it('gives the same events in batches, one per chunk read', async () => {
    const file = path.join(dir, 'batches.stb.jsonl');
    const many: TraceEvent[] = Array.from({ length: 3000 }, (_, i) => ({
      ...(tricky[i % tricky.length] as TraceEvent),
      startUs: 1714564800000000 + i,
    }));
    await writeTrace(
      file,
      withTemplateRecords(header, many, (id) => (id === t1.id ? t1 : t2)),
    );
    const one = await openTrace(file);
    const byOne = await collect(one.events);
    const batched = await openTrace(file);
    const batches = await collect(batched.eventBatches);
    // 3,000 events of about 200 bytes: several 64 KiB chunks, none empty
    expect(batches.length).toBeGreaterThan(3);
    expect(batches.every((b) => b.length > 0)).toBe(true);
    expect(batches.flat()).toEqual(byOne);
    expect(byOne).toEqual(many);
    expect(batched.catalog.toArray()).toEqual([t1, t2]);
  });

  it('hands over the events before a bad record, then raises its error', async () => {
    const good = [J(header), J(t1), J(tricky[0]), J(tricky[0])];
    const file = await jsonl('batch-bad.jsonl', [
      ...good,
      '{"kind":"event",',
      J(tricky[0]),
    ]);
    const trace = await openTrace(file);
    const seen: TraceEvent[] = [];
    await expect(
      (async () => {
        for await (const b of trace.eventBatches) seen.push(...b);
      })(),
    ).rejects.toMatchObject({ code: 'STB_TRACE_INVALID_JSON', line: 5 });
    expect(seen).toEqual([tricky[0], tricky[0]]);
  });

  it('closes the input when the consumer stops early', async () => {
    const file = path.join(dir, 'early.stb.jsonl');
    await writeTrace(file, trickyRecords);
    const trace = await openTrace(file);
    for await (const _ of trace.events) break;
    await expect(trace.events.next()).resolves.toEqual({
      done: true,
      value: undefined,
    });
  });
});

/** Writes lines as a JSONL file and returns the path. */
async function jsonl(name: string, lines: string[]): Promise<string> {
  const file = path.join(dir, name);
  await fsp.writeFile(file, lines.join('\n') + '\n');
  return file;
}

const J = (r: unknown) => JSON.stringify(r);

async function readError(file: string): Promise<ParseError> {
  try {
    await collect(readTraceRecords(file));
  } catch (err) {
    return err as ParseError;
  }
  throw new Error('expected an error');
}

describe('malformed input', () => {
  it('reports a truncated last line as invalid JSON at its line', async () => {
    const file = path.join(dir, 'trunc.jsonl');
    const full = [J(header), J(t1), J(tricky[0]), J(tricky[2])].join('\n');
    await fsp.writeFile(file, full.slice(0, -10));
    const err = await readError(file);
    expect(err).toMatchObject({
      code: 'STB_TRACE_INVALID_JSON',
      source: file,
      line: 4,
    });
    expect(err.message).toContain(`\`${file}\`:4`);
    expect(err.message).toMatch(/^\[stb\] \[core\] /);
  });

  it('reports bad JSON in the middle with its line, also in gzip', async () => {
    const file = path.join(dir, 'bad.jsonl.gz');
    const text = [J(header), '', J(t1), '{"kind":"event",', J(tricky[0])].join(
      '\n',
    );
    await fsp.writeFile(file, gzipSync(text));
    expect(await readError(file)).toMatchObject({
      code: 'STB_TRACE_INVALID_JSON',
      line: 4,
    });
  });

  it('reports a wrong type with the field path and line', async () => {
    const bad = { ...tricky[0], params: [{ t: 'int', v: 'seven' }] };
    const file = await jsonl('type.jsonl', [J(header), J(t1), J(bad)]);
    const err = await readError(file);
    expect(err).toMatchObject({
      code: 'STB_TRACE_SCHEMA_MISMATCH',
      source: file,
      line: 3,
      field: 'params[0].v',
    });
    expect(err.message).toContain('`params[0].v`');
    // Privacy: values never appear in messages.
    expect(err.message).not.toContain('seven');
  });

  it('reports a missing header', async () => {
    const file = await jsonl('nohdr.jsonl', [J(t1), J(tricky[0])]);
    expect(await readError(file)).toMatchObject({
      code: 'STB_TRACE_MISSING_HEADER',
      line: 1,
    });
    const empty = await jsonl('empty.jsonl', []);
    expect(await readError(empty)).toMatchObject({
      code: 'STB_TRACE_MISSING_HEADER',
    });
    const log = await jsonl('log.txt', [
      '2024-01-01 LOG:  statement: SELECT 1',
    ]);
    expect(await readError(log)).toMatchObject({
      code: 'STB_TRACE_MISSING_HEADER',
    });
  });

  it('refuses a newer trace version naming the version needed', async () => {
    const file = await jsonl('v9.jsonl', [J({ ...header, version: 9 })]);
    const err = await readError(file);
    expect(err).toMatchObject({
      code: 'STB_TRACE_VERSION_UNSUPPORTED',
      field: 'version',
      details: expect.objectContaining({ found: 9, supported: [1, 2] }),
    });
    expect(err.message).toContain('version 9');
  });

  it('reads a version 1 trace as version 2 (events unchanged, no conn)', async () => {
    const file = await jsonl('v1.jsonl', [
      J({ ...header, version: 1 }),
      J(t1),
      J(tricky[2]),
    ]);
    const got = await collect(readTraceRecords(file));
    expect(got[0]).toMatchObject({ kind: 'header', version: 2 });
    expect(got.slice(1)).toEqual([t1, tricky[2]]);
  });

  it('reports an event whose template was not declared before it', async () => {
    const file = await jsonl('unknown.jsonl', [J(header), J(tricky[0]), J(t1)]);
    const err = await readError(file);
    expect(err).toMatchObject({
      code: 'STB_TRACE_UNKNOWN_TEMPLATE',
      source: file,
      line: 2,
      field: 'templateId',
    });
    const trace = await openTrace(file);
    await expect(collect(trace.events)).rejects.toMatchObject({
      code: 'STB_TRACE_UNKNOWN_TEMPLATE',
      line: 2,
    });
  });

  it('reports a second header', async () => {
    const file = await jsonl('twohdr.jsonl', [J(header), J(header)]);
    expect(await readError(file)).toMatchObject({
      code: 'STB_TRACE_SCHEMA_MISMATCH',
      line: 2,
      field: 'kind',
    });
  });

  it('skips bad records with onInvalid: skip, reporting each', async () => {
    const file = await jsonl('skip.jsonl', [
      J(header),
      J(t1),
      'not json',
      J({ ...tricky[0], startUs: 1.5 }),
      J(tricky[0]),
      J({ ...tricky[0], templateId: 'ffffffffffffffff' }),
      J(tricky[2]),
    ]);
    const errors: ParseError[] = [];
    const records = await collect(
      readTraceRecords(file, {
        onInvalid: 'skip',
        onInvalidRecord: (e) => errors.push(e),
      }),
    );
    expect(records).toEqual([header, t1, tricky[0], tricky[2]]);
    expect(errors.map((e) => [e.code, e.line, e.field])).toEqual([
      ['STB_TRACE_INVALID_JSON', 3, undefined],
      ['STB_TRACE_SCHEMA_MISMATCH', 4, 'startUs'],
      ['STB_TRACE_UNKNOWN_TEMPLATE', 6, 'templateId'],
    ]);
  });

  it('reports a truncated JSON document', async () => {
    const file = path.join(dir, 'trunc.json');
    await writeTrace(file, trickyRecords);
    const text = await fsp.readFile(file, 'utf8');
    await fsp.writeFile(file, text.slice(0, text.length - 40));
    expect(await readError(file)).toMatchObject({
      code: 'STB_TRACE_INVALID_JSON',
      source: file,
    });
  });

  it('reports a bad element of a JSON document at its line', async () => {
    const file = path.join(dir, 'badel.json');
    const doc = `{"header":${J(header)},\n"templates":[${J(t1)}],\n"events":[\n${J(tricky[0])},\n${J({ ...tricky[0], durationUs: -1 })}\n]}`;
    await fsp.writeFile(file, doc);
    expect(await readError(file)).toMatchObject({
      code: 'STB_TRACE_SCHEMA_MISMATCH',
      line: 5,
      field: 'durationUs',
    });
  });

  it('reports CSV problems: missing sidecar, bad params JSON, wrong field count', async () => {
    const file = path.join(dir, 'bad.csv');
    await writeTrace(file, trickyRecords);
    const good = await fsp.readFile(file, 'utf8');
    const lines = good.split('\r\n');
    // Line 2 holds the first event (its params cell spans lines 2-4: two newlines inside).
    await fsp.writeFile(
      file,
      [lines[0], 'x,1,s,' + t1.id + ',[oops,,,,,', ...lines.slice(1)].join(
        '\r\n',
      ),
    );
    expect(await readError(file)).toMatchObject({
      code: 'STB_TRACE_INVALID_JSON',
      line: 2,
      field: 'params',
    });
    await fsp.writeFile(
      file,
      [...lines.slice(0, -1), `x,1,s,${t1.id},[]`, ''].join('\r\n'),
    );
    const err = await readError(file);
    expect(err).toMatchObject({ code: 'STB_TRACE_SCHEMA_MISMATCH' });
    expect(err.line).toBe(good.split('\n').length);
    await fsp.rm(csvSidecarPath(file));
    expect(await readError(file)).toMatchObject({
      code: 'STB_TRACE_MISSING_HEADER',
    });
  });

  it('reports a missing file and a corrupt gzip', async () => {
    await expect(
      collect(readTraceRecords(path.join(dir, 'nope.jsonl'))),
    ).rejects.toMatchObject({ code: 'STB_INPUT_NOT_FOUND' });
    const file = path.join(dir, 'cut.jsonl.gz');
    const gz = gzipSync(trickyRecords.map(J).join('\n'));
    await fsp.writeFile(file, gz.subarray(0, gz.length - 12));
    const err = await readError(file);
    expect(isStbError(err, 'STB_GZIP_CORRUPT')).toBe(true);
  });
});

describe('writeTrace', () => {
  it('never leaves a partial file when the source fails', async () => {
    const file = path.join(dir, 'fail.stb.jsonl');
    await fsp.writeFile(file, 'previous content');
    async function* failing(): AsyncGenerator<TraceRecord> {
      yield header;
      yield t1;
      for (let i = 0; i < 50_000; i++) yield tricky[0] as TraceEvent;
      throw new Error('source broke');
    }
    await expect(writeTrace(file, failing())).rejects.toThrow('source broke');
    expect(await fsp.readFile(file, 'utf8')).toBe('previous content');
    expect(readdirSync(dir).filter((f) => f.startsWith('.'))).toEqual([]);
  });

  it('stops with STB_ABORTED on abort and removes the temporary file', async () => {
    const file = path.join(dir, 'abort.json');
    const ac = new AbortController();
    async function* endless(): AsyncGenerator<TraceRecord> {
      yield header;
      yield t1;
      for (let i = 0; ; i++) {
        if (i === 40_000) ac.abort();
        yield tricky[0] as TraceEvent;
      }
    }
    await expect(
      writeTrace(file, endless(), { signal: ac.signal }),
    ).rejects.toMatchObject({ code: 'STB_ABORTED' });
    await expect(fsp.stat(file)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(readdirSync(dir).filter((f) => f.startsWith('.'))).toEqual([]);
  });

  it('refuses records without a header or with an undeclared template', async () => {
    await expect(
      writeTrace(path.join(dir, 'x.jsonl'), [t1]),
    ).rejects.toMatchObject({ code: 'STB_TRACE_MISSING_HEADER' });
    await expect(
      writeTrace(path.join(dir, 'y.jsonl'), [header, tricky[0] as TraceEvent]),
    ).rejects.toMatchObject({
      code: 'STB_TRACE_UNKNOWN_TEMPLATE',
      details: { templateId: t1.id, record: 2 },
    });
    expect(readdirSync(dir).filter((f) => /^[xy]\.jsonl$/.test(f))).toEqual([]);
  });

  it('refuses a header the readers would refuse, and writes nothing', async () => {
    // a JavaScript caller's object literal: no `format`, no `timeResolutionUs`
    const loose = {
      kind: 'header',
      version: 2,
      dialect: 'postgres',
      source: {},
    };
    for (const name of ['h.jsonl', 'h.csv', 'h.json']) {
      const err: unknown = await writeTrace(path.join(dir, name), [
        loose as unknown as TraceRecord,
        t1,
      ]).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toMatchObject({ code: 'STB_TRACE_MISSING_HEADER' });
      expect((err as Error).message).toBe(
        '[stb] [core] The header to write is not a valid trace header: the trace would not read back. Build it with `createTraceHeader`.',
      );
    }
    const noResolution = { ...header, timeResolutionUs: undefined };
    await expect(
      writeTrace(path.join(dir, 'h2.jsonl'), [
        noResolution as unknown as TraceRecord,
      ]),
    ).rejects.toMatchObject({
      code: 'STB_TRACE_SCHEMA_MISMATCH',
      message: expect.stringContaining('(field `timeResolutionUs`)') as unknown,
    });
    expect(readdirSync(dir).filter((f) => /^h2?\./.test(f))).toEqual([]);
  });

  it.each(['prog.jsonl', 'prog.jsonl.gz'])(
    'reports progress and the byte count (%s)',
    async (name) => {
      // Regression: counting bytes for progress once switched the input to flowing mode and
      // lost chunks read during format detection.
      const file = path.join(dir, name);
      const seen: number[] = [];
      function* many(): Generator<TraceRecord> {
        yield header;
        yield t1;
        for (let i = 0; i < 40_000; i++)
          yield { ...(tricky[0] as TraceEvent), startUs: i };
      }
      const s = await writeTrace(file, many(), {
        onProgress: (p) => seen.push(p.records),
      });
      expect(seen).toEqual([16384, 32768, 40002]);
      const raw = await fsp.readFile(file);
      expect(s.bytes).toBe(raw.length);
      const text = name.endsWith('.gz') ? gunzipSync(raw) : raw;
      expect(text.toString('utf8').split('\n')).toHaveLength(40003);
      const progress: { records: number; bytesRead: number }[] = [];
      let n = 0;
      for await (const _ of readTraceRecords(file, {
        onProgress: (p) => progress.push(p),
      }))
        n++;
      expect(n).toBe(40002);
      expect(progress.map((p) => p.records)).toEqual([16384, 32768, 40002]);
      expect(progress.at(-1)?.bytesRead).toBe(raw.length);
    },
  );
});

describe('withTemplateRecords', () => {
  it('emits the header, then each template right before its first event', async () => {
    const lookup = (id: string) => [t1, t2].find((t) => t.id === id);
    const out = await collect(withTemplateRecords(header, tricky, lookup));
    expect(out).toEqual(trickyRecords);
  });

  it('throws STB_TRACE_UNKNOWN_TEMPLATE when the lookup fails', async () => {
    await expect(
      collect(withTemplateRecords(header, tricky, () => undefined)),
    ).rejects.toMatchObject({
      code: 'STB_TRACE_UNKNOWN_TEMPLATE',
      details: { templateId: t1.id },
    });
  });
});
