import fc from 'fast-check';
import type { ParamValue, TraceEvent } from '../schema';
import { encodeTraceEvent, stringifyTraceEvent } from './event-json';
import type { ByteCursor } from './event-json';

/** Text with the characters JSON escapes: quotes, backslashes, controls, lone surrogates, U+2028. */
const nastyString = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.constantFrom(
    '',
    '"',
    '\\',
    '\n\t\r\b\f',
    '\u0000\u001f',
    '\ud800',
    'a\udc00b',
    '😀',
    '\u2028\u2029',
    '\u007f',
  ),
);

const numberValue = fc.oneof(
  fc.maxSafeInteger(),
  fc.double(),
  fc.constantFrom(-0, 1e21, 1e-7, Number.MAX_VALUE, Number.MIN_VALUE),
);

const leafParam: fc.Arbitrary<ParamValue> = fc.oneof(
  fc.record({ t: fc.constant('int' as const), v: fc.maxSafeInteger() }),
  fc.record({ t: fc.constant('float' as const), v: fc.double() }),
  fc.record({ t: fc.constant('string' as const), v: nastyString }),
  fc.record({ t: fc.constant('bool' as const), v: fc.boolean() }),
  fc.record({ t: fc.constant('null' as const), v: fc.constant(null) }),
  fc.record({ t: fc.constant('bigint' as const), v: fc.bigInt().map(String) }),
);
const param: fc.Arbitrary<ParamValue> = fc.oneof(
  { weight: 5, arbitrary: leafParam },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('list' as const),
      v: fc.array(leafParam, { maxLength: 3 }),
    }),
  },
);

/** Events in the schema's key order, with every optional field present or not. */
const event: fc.Arbitrary<TraceEvent> = fc.record(
  {
    kind: fc.constant('event' as const),
    startUs: numberValue,
    sessionId: nastyString,
    templateId: nastyString,
    params: fc.array(param, { maxLength: 6 }),
    durationUs: numberValue,
    outcome: fc.record(
      { ok: fc.boolean(), code: fc.string({ maxLength: 5 }) },
      { requiredKeys: ['ok'] },
    ),
    txn: fc.nat(),
    sql: nastyString,
  },
  {
    requiredKeys: ['kind', 'startUs', 'sessionId', 'templateId', 'params'],
  },
);

/** Events in another key order. */
const shuffled = fc
  .tuple(event, fc.array(fc.nat(), { minLength: 12, maxLength: 12 }))
  .map(([e, order]) => {
    const entries = Object.entries(e);
    entries.sort(
      (a, b) =>
        (order[entries.indexOf(a)] ?? 0) - (order[entries.indexOf(b)] ?? 0),
    );
    return Object.fromEntries(entries) as TraceEvent;
  });
/** Events with an unexpected value in one field. */
const odd = fc
  .tuple(
    event,
    fc.constantFrom('durationUs', 'txn', 'sql', 'outcome', 'startUs', 'kind'),
    fc.constantFrom<unknown>(
      undefined,
      null,
      '12',
      3,
      [],
      {},
      Infinity,
      NaN,
      () => 1,
    ),
  )
  .map(([e, key, value]) => ({ ...e, [key]: value }));
/** Events with unusual parameters. */
const oddParams = fc
  .tuple(
    event,
    fc.array(
      fc.constantFrom<unknown>(
        undefined,
        null,
        1,
        'x',
        { v: 1, t: 'int' },
        { t: 'int' },
        { t: 'int', v: 1, extra: 2 },
        { t: 1, v: 1 },
        { t: 'json', v: { a: [1, '"'] } },
        { t: 'float', v: Infinity },
        { t: 'int', v: undefined },
      ),
      { maxLength: 4 },
    ),
  )
  .map(([e, ps]) => ({ ...e, params: ps }) as unknown as TraceEvent);

describe('stringifyTraceEvent', () => {
  it('equals JSON.stringify for events in the schema key order (property)', () => {
    fc.assert(
      fc.property(event, (e) => stringifyTraceEvent(e) === JSON.stringify(e)),
      { numRuns: 2000 },
    );
  });

  it('equals JSON.stringify for any other key order, value type or undefined field (property)', () => {
    fc.assert(
      fc.property(
        fc.oneof(shuffled, odd, oddParams),
        (e) => stringifyTraceEvent(e) === JSON.stringify(e),
      ),
      { numRuns: 2000 },
    );
  });

  it('writes the usual generated event directly', () => {
    const e: TraceEvent = {
      kind: 'event',
      startUs: 1_714_564_800_000_000,
      sessionId: 's1',
      templateId: '0123456789abcdef',
      params: [
        { t: 'int', v: 4 },
        { t: 'string', v: 'O\'Brien "q"\n' },
      ],
      durationUs: 36,
      txn: 0,
    };
    expect(stringifyTraceEvent(e)).toBe(JSON.stringify(e));
    expect(stringifyTraceEvent({ ...e, params: [] })).toBe(
      '{"kind":"event","startUs":1714564800000000,"sessionId":"s1","templateId":"0123456789abcdef","params":[],"durationUs":36,"txn":0}',
    );
  });
});

describe('encodeTraceEvent', () => {
  /** An empty cursor over a new buffer of `size` bytes. */
  const cursor = (size: number): ByteCursor => ({
    buf: Buffer.alloc(size),
    pos: 0,
    limit: size,
    overflow: false,
  });

  /** The bytes the writer produces: encoded in place, else the string path. */
  function written(
    e: TraceEvent,
    lead: string,
    trail: string,
    room: number,
  ): Buffer {
    const c: ByteCursor = {
      buf: Buffer.alloc(8 + room),
      pos: 8,
      limit: 8 + room,
      overflow: false,
    };
    if (encodeTraceEvent(c, e, lead, trail)) return c.buf.subarray(8, c.pos);
    expect(c.pos).toBe(8);
    expect(c.overflow).toBe(false);
    return Buffer.from(`${lead}${stringifyTraceEvent(e)}${trail}`);
  }

  it('gives the bytes of JSON.stringify for any event, whatever room is left (property)', () => {
    fc.assert(
      fc.property(
        fc.oneof(event, event, shuffled, odd, oddParams),
        fc.constantFrom('', '\n', ',\n'),
        fc.constantFrom('', '\n'),
        fc.oneof(fc.nat(400), fc.constant(1 << 16)),
        (e, lead, trail, room) =>
          written(e, lead, trail, room).equals(
            Buffer.from(`${lead}${JSON.stringify(e)}${trail}`),
          ),
      ),
      { numRuns: 3000 },
    );
  });

  it('encodes the usual event in place, integers digit by digit', () => {
    const c = cursor(1024);
    const e: TraceEvent = {
      kind: 'event',
      startUs: 1_714_564_800_000_000,
      sessionId: '13387@2026-12-02T15:18:26.753Z',
      templateId: '87c7a59c99c1454f',
      params: [
        { t: 'int', v: -1098 },
        { t: 'int', v: -0 },
        { t: 'float', v: 0.5 },
        { t: 'int', v: Number.MAX_SAFE_INTEGER },
        { t: 'int', v: -9_007_199_199_999_999 },
        { t: 'int', v: 1_000_000_000 },
        { t: 'int', v: 999_999_999 },
        { t: 'int', v: 100_000_000_000_001 },
      ],
      txn: 10,
    };
    expect(encodeTraceEvent(c, e, '', '\n')).toBe(true);
    expect(c.buf.toString('utf8', 0, c.pos)).toBe(`${JSON.stringify(e)}\n`);
  });

  it('writes every integer near a multiple of 10⁸ as JSON.stringify does (property)', () => {
    const c = cursor(1024);
    const near = fc
      .tuple(
        fc.integer({ min: 0, max: 90_071_992 }),
        fc.integer({ min: -3, max: 3 }),
      )
      .map(([k, d]) => k * 1e8 + d)
      .filter((v) => Number.isSafeInteger(v));
    fc.assert(
      fc.property(fc.oneof(near, fc.maxSafeInteger()), (v) => {
        c.pos = 0;
        const e = {
          kind: 'event',
          startUs: v,
          sessionId: '',
          templateId: '',
          params: [],
        } as TraceEvent;
        return (
          encodeTraceEvent(c, e, '', '') &&
          c.buf.toString('utf8', 0, c.pos) === JSON.stringify(e)
        );
      }),
      { numRuns: 5000 },
    );
  });
});
