import type { RawQueryEvent } from '@stb/core';
import { extractionRoute, joined } from '../src/hand-off';

// The parse thread's hand-offs (`stb parse --workers`): joined to at least `min` statements, and
// cut by their SQL text, so that the messages in flight are bounded in bytes as well.

const ev = (i: number, chars: number): RawQueryEvent => ({
  sessionId: 's',
  sql: `${i}`.padEnd(chars, 'x'),
  source: { file: 'f', line: i },
  dialect: 'postgres',
});

async function* batches(
  sizes: number[],
  chars: number,
  failAfter?: number,
): AsyncGenerator<RawQueryEvent[]> {
  let i = 0;
  for (const [k, n] of sizes.entries()) {
    if (k === failAfter) throw new Error('boom');
    yield Array.from({ length: n }, () => ev(i++, chars));
  }
}

async function collect(
  src: AsyncIterable<RawQueryEvent[]>,
  min: number,
  maxChars: number,
): Promise<RawQueryEvent[][]> {
  const out: RawQueryEvent[][] = [];
  for await (const b of joined(src, min, maxChars)) out.push(b);
  return out;
}

const lines = (bs: RawQueryEvent[][]): number[] =>
  bs.flat().map((e) => e.source.line);

describe('joined (hand-offs of the parse thread)', () => {
  it('joins small statements to at least `min`, in order', async () => {
    const out = await collect(
      batches([512, 512, 512, 512, 100], 100),
      2048,
      1 << 20,
    );
    expect(out.map((b) => b.length)).toEqual([2048, 100]);
    expect(lines(out)).toEqual(Array.from({ length: 2148 }, (_, i) => i));
  });

  it('cuts a hand-off before its SQL text passes `maxChars`', async () => {
    // 512-statement batches of 3,000-unit statements: 349 fit in 2^20 units.
    const out = await collect(batches([512, 512, 512], 3000), 2048, 1 << 20);
    expect(out.map((b) => b.length)).toEqual([349, 349, 349, 349, 140]);
    for (const b of out)
      expect(b.reduce((n, e) => n + e.sql.length, 0)).toBeLessThanOrEqual(
        1 << 20,
      );
    expect(lines(out)).toEqual(Array.from({ length: 1536 }, (_, i) => i));
  });

  it('sends a statement longer than `maxChars` alone', async () => {
    const out = await collect(batches([3], 5000), 2048, 4000);
    expect(out.map((b) => b.length)).toEqual([1, 1, 1]);
  });

  it('passes a large batch through whole when it fits', async () => {
    const src = batches([4096], 10);
    const out = await collect(src, 2048, 1 << 20);
    expect(out.map((b) => b.length)).toEqual([4096]);
  });

  it('gives what was joined before a failure, then the failure', async () => {
    const out: RawQueryEvent[][] = [];
    await expect(
      (async () => {
        for await (const b of joined(
          batches([512, 512, 512], 10, 2),
          2048,
          1 << 20,
        ))
          out.push(b);
      })(),
    ).rejects.toThrow('boom');
    expect(out.map((b) => b.length)).toEqual([1024]);
  });
});

describe('extractionRoute (where the parse thread sends a batch)', () => {
  const limits = { inFlight: 24, selfAt: 3 };
  const q = (...n: number[]): Int32Array => Int32Array.from(n);

  it('sends to the extraction thread with the fewest batches waiting, the first of equals', () => {
    expect(extractionRoute(q(2, 1, 1), 0, limits)).toBe(1);
    expect(extractionRoute(q(0, 0), 0, limits)).toBe(0);
    expect(extractionRoute(q(5, 4), 24, limits)).toBe(1);
  });

  it('extracts here only when even that thread is behind and half the credits are taken', () => {
    expect(extractionRoute(q(3, 4), 12, limits)).toBe('here');
    expect(extractionRoute(q(3), 0, limits)).toBe('here');
    // The parse thread is the busier one: credits to spare, so never here.
    expect(extractionRoute(q(3, 4), 13, limits)).toBe(0);
    // An extraction thread with room: it gets the batch.
    expect(extractionRoute(q(2, 9), 0, limits)).toBe(0);
  });
});
