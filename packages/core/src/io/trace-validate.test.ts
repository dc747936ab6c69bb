import fc from 'fast-check';
import { TraceEvent } from '../schema';
import type { ParamValue } from '../schema';
import { isFastEvent, parseEvent } from './trace-validate';

const pos = { source: 'mem.jsonl', line: 7 };

const leafParam: fc.Arbitrary<ParamValue> = fc.oneof(
  fc.record({ t: fc.constant('int' as const), v: fc.maxSafeInteger() }),
  fc.record({
    t: fc.constant('float' as const),
    v: fc.double({ noNaN: true, noDefaultInfinity: true }),
  }),
  fc.record({
    t: fc.constant('bigint' as const),
    v: fc.bigInt().map(String),
  }),
  fc.record({ t: fc.constant('string' as const), v: fc.string() }),
  fc.record({ t: fc.constant('bool' as const), v: fc.boolean() }),
  fc.record({ t: fc.constant('null' as const), v: fc.constant(null) }),
  fc.record({ t: fc.constant('timestamp' as const), v: fc.string() }),
  fc.record({
    t: fc.constant('bytes' as const),
    v: fc.uint8Array().map((b) => Buffer.from(b).toString('hex')),
  }),
);
const param: fc.Arbitrary<ParamValue> = fc.oneof(
  { weight: 4, arbitrary: leafParam },
  {
    weight: 1,
    arbitrary: fc
      .array(leafParam, { maxLength: 3 })
      .map((v): ParamValue => ({ t: 'list', v })),
  },
);

const validEvent = fc.record(
  {
    kind: fc.constant('event' as const),
    startUs: fc.maxSafeInteger(),
    sessionId: fc.string(),
    templateId: fc.string(),
    params: fc.array(param, { maxLength: 4 }),
    durationUs: fc.nat(),
    outcome: fc.record(
      { ok: fc.boolean(), code: fc.string() },
      { requiredKeys: ['ok'] },
    ),
    txn: fc.nat(),
    sql: fc.string(),
  },
  { requiredKeys: ['kind', 'startUs', 'sessionId', 'templateId', 'params'] },
);

/** Replaces the value at a random path of a JSON-like value. */
function mutate(
  value: unknown,
  pathIndex: number,
  replacement: unknown,
): unknown {
  const paths: (string | number)[][] = [];
  const walk = (v: unknown, p: (string | number)[]) => {
    paths.push(p);
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...p, i]));
    else if (typeof v === 'object' && v !== null)
      for (const [k, x] of Object.entries(v)) walk(x, [...p, k]);
  };
  walk(value, []);
  const target = paths[pathIndex % paths.length] as (string | number)[];
  if (target.length === 0) return replacement;
  const copy = structuredClone(value) as Record<string | number, unknown>;
  let node = copy;
  for (const k of target.slice(0, -1))
    node = node[k] as Record<string | number, unknown>;
  node[target[target.length - 1] as string | number] = replacement;
  return copy;
}

function viaZod(value: unknown): { ok: boolean; data?: unknown } {
  const r = TraceEvent.safeParse(value);
  return r.success ? { ok: true, data: r.data } : { ok: false };
}

function viaReader(value: unknown): { ok: boolean; data?: unknown } {
  try {
    return { ok: true, data: parseEvent(value, pos) };
  } catch {
    return { ok: false };
  }
}

describe('event validation fast path', () => {
  it('accepts exactly what zod accepts on valid events, returning equal values', () => {
    fc.assert(
      fc.property(validEvent, (e) => {
        expect(isFastEvent(e)).toBe(true);
        expect(viaReader(e)).toEqual(viaZod(e));
      }),
      { numRuns: 500, seed: 42 },
    );
  });

  it('agrees with zod on mutated events (wrong types, extra keys, out of range)', () => {
    const replacement = fc.oneof(
      fc.anything(),
      fc.constantFrom(
        -1,
        1.5,
        2 ** 53,
        Number.MAX_SAFE_INTEGER,
        '',
        '12a',
        'ff',
        null,
        undefined,
        [],
        {},
        { t: 'int', v: 1, extra: true },
        { t: 'nope', v: 1 },
        { ok: 'yes' },
      ),
    );
    fc.assert(
      fc.property(validEvent, fc.nat(), replacement, (e, at, r) => {
        const m = mutate(e, at, r);
        const fast = isFastEvent(m);
        const zod = viaZod(m);
        // The fast path is sound: whatever it accepts, zod accepts unchanged.
        if (fast) expect(zod).toEqual({ ok: true, data: m });
        expect(viaReader(m)).toEqual(zod);
      }),
      { numRuns: 2000, seed: 7 },
    );
  });

  it('strips unknown keys like zod (through the fallback)', () => {
    const e = {
      kind: 'event',
      startUs: 1,
      sessionId: 's',
      templateId: 't',
      params: [],
      extra: 1,
    };
    expect(isFastEvent(e)).toBe(false);
    expect(parseEvent(e, pos)).toEqual({
      kind: 'event',
      startUs: 1,
      sessionId: 's',
      templateId: 't',
      params: [],
    });
  });

  it('names the field and line of the first issue', () => {
    const bad = {
      kind: 'event',
      startUs: 1,
      sessionId: 's',
      templateId: 't',
      params: [{ t: 'int', v: 'x' }],
    };
    expect(() => parseEvent(bad, pos)).toThrow(
      expect.objectContaining({
        code: 'STB_TRACE_SCHEMA_MISMATCH',
        source: 'mem.jsonl',
        line: 7,
        field: 'params[0].v',
      }),
    );
  });
});
