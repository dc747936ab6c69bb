import fc from 'fast-check';
import type { ParamValue, TraceEvent } from '../schema';
import {
  eventLineField,
  eventLineHead,
  eventLineTail,
  stringifyEventBody,
  stringifyEventRest,
  stringifyTraceEvent,
} from './event-json';

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
    conn: fc.record(
      { user: nastyString, database: nastyString },
      { requiredKeys: [] },
    ),
  },
  {
    requiredKeys: ['kind', 'startUs', 'sessionId', 'templateId', 'params'],
  },
);

describe('stringifyTraceEvent', () => {
  it('equals JSON.stringify for events in the schema key order (property)', () => {
    fc.assert(
      fc.property(event, (e) => stringifyTraceEvent(e) === JSON.stringify(e)),
      { numRuns: 2000 },
    );
  });

  it('equals JSON.stringify for any other key order, value type or undefined field (property)', () => {
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
    const odd = fc
      .tuple(
        event,
        fc.constantFrom(
          'durationUs',
          'txn',
          'sql',
          'outcome',
          'startUs',
          'kind',
        ),
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

describe('stringifyEventBody', () => {
  const conn = fc.record(
    { user: nastyString, database: nastyString, application: nastyString },
    { requiredKeys: [] },
  );
  it('head + body + tail is the line of the event with its final start, txn and conn (property)', () => {
    const early = event.map((e) => {
      const { txn: _t, sql: _s, conn: _c, ...rest } = e;
      return rest;
    });
    fc.assert(
      fc.property(
        early,
        fc.tuple(
          fc.double({ noNaN: true, noDefaultInfinity: true }),
          fc.option(fc.nat()),
          fc.option(conn),
        ),
        (e, [start, txn, c]) => {
          const body = stringifyEventBody(e);
          if (body === undefined) return false;
          const final: TraceEvent = { ...e, startUs: start };
          if (txn !== null) final.txn = txn;
          if (c !== null) final.conn = c;
          const line =
            eventLineHead(start) +
            body +
            eventLineTail(
              txn ?? undefined,
              c === null ? undefined : JSON.stringify(c),
            );
          return line === JSON.stringify(final);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('is undefined once txn, sql or conn is set, or for another key order', () => {
    const e: TraceEvent = {
      kind: 'event',
      startUs: 1,
      sessionId: 's',
      templateId: 't',
      params: [],
    };
    expect(stringifyEventBody(e)).toBe(
      ',"sessionId":"s","templateId":"t","params":[]',
    );
    expect(stringifyEventBody({ ...e, txn: 0 })).toBeUndefined();
    expect(stringifyEventBody({ ...e, sql: 'x' })).toBeUndefined();
    expect(stringifyEventBody({ ...e, conn: {} })).toBeUndefined();
    const { kind, ...rest } = e;
    expect(stringifyEventBody({ ...rest, kind })).toBeUndefined();
  });
});

describe('stringifyEventRest', () => {
  it('head, the two id fields and the rest are the line, for the usual shape (property)', () => {
    fc.assert(
      fc.property(event, (e) => {
        const rest = stringifyEventRest(e);
        if (rest === undefined) return false;
        const line =
          eventLineHead(e.startUs) +
          eventLineField('sessionId', e.sessionId) +
          eventLineField('templateId', e.templateId) +
          rest;
        return line === JSON.stringify(e) && rest.startsWith(',"params":[');
      }),
      { numRuns: 2000 },
    );
  });

  it('is the line from `,"params":` on, and undefined where stringifyTraceEvent falls back to JSON.stringify', () => {
    const e: TraceEvent = {
      kind: 'event',
      startUs: 5,
      sessionId: 's"1',
      templateId: 't',
      params: [{ t: 'int', v: 1 }],
      txn: 2,
    };
    expect(stringifyEventRest(e)).toBe(
      ',"params":[{"t":"int","v":1}],"txn":2}',
    );
    expect(eventLineField('sessionId', e.sessionId)).toBe(
      ',"sessionId":"s\\"1"',
    );
    const { kind, ...rest } = e;
    expect(stringifyEventRest({ ...rest, kind })).toBeUndefined();
    expect(
      stringifyEventRest({ ...e, txn: '2' } as unknown as TraceEvent),
    ).toBeUndefined();
    expect(
      stringifyEventRest({ ...e, durationUs: null } as unknown as TraceEvent),
    ).toBeUndefined();
  });
});
