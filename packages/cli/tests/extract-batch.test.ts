import type { RawQueryEvent } from '@stb/core';
import { createExtractor, ResultPacker } from '@stb/extractor';
import type { ExtractedResult, Extractor, PackedResults } from '@stb/extractor';
import { extractBatch } from '../src/extract-batch';
import { packRaw } from '../src/raw-pack';

// A batch extracted on the parse thread (`stb parse --workers`): all of it, or, when a statement
// fails, the statements before it and the failure, packed or as JSON, so the caller posts those
// first and raises the failure where one thread raises it.

const ev = (i: number): RawQueryEvent => ({
  sessionId: `s${i % 3}`,
  sql: `UPDATE t SET v = v + ${i} WHERE id = ${i}`,
  source: { file: 'x.log', line: i + 1 },
  dialect: 'postgres',
  startUs: 1_700_000_000_000_000 + i * 1000,
});

/** The real extractor, but statement `failAt` (by its line) throws. */
async function failingAt(failAt: number): Promise<Extractor> {
  const real = await createExtractor();
  return {
    extract: (raw: RawQueryEvent) => {
      if (raw.source.line === failAt + 1) throw new Error('boom');
      return real.extract(raw);
    },
  } as unknown as Extractor;
}

const part = Array.from({ length: 10 }, (_, i) => ev(i));

describe('extractBatch (a batch extracted on the parse thread)', () => {
  it('extracts the whole batch, packed or as JSON', async () => {
    const ex = await createExtractor();
    const packed = extractBatch(ex, part, { packer: new ResultPacker() });
    expect(packed).toMatchObject({ count: 10, failed: false });
    expect((packed.results as PackedResults).count).toBe(10);
    expect(packed.transfer).toHaveLength(3);
    const json = extractBatch(ex, part);
    expect(json).toMatchObject({ count: 10, failed: false, transfer: [] });
    expect(JSON.parse(json.results as string)).toHaveLength(10);
  });

  it('extracts a packed raw batch (an extraction thread) as it does the events', async () => {
    const ex = await createExtractor();
    const fromEvents = extractBatch(ex, part, { packer: new ResultPacker() });
    const fromPacked = extractBatch(
      await createExtractor(),
      packRaw(part).packed,
      { packer: new ResultPacker() },
    );
    expect(fromPacked).toMatchObject({ count: 10, failed: false });
    const a = fromEvents.results as PackedResults;
    const b = fromPacked.results as PackedResults;
    expect(Buffer.from(b.bodies).toString()).toBe(
      Buffer.from(a.bodies).toString(),
    );
    expect([...b.ints]).toEqual([...a.ints]);
    const cut = extractBatch(await failingAt(4), packRaw(part).packed, {
      packer: new ResultPacker(),
    });
    expect(cut).toMatchObject({ count: 4, failed: true });
    expect((cut.results as PackedResults).count).toBe(4);
  });

  it('gives the statements before a failure and the failure, packed', async () => {
    const got = extractBatch(await failingAt(6), part, {
      packer: new ResultPacker(),
    });
    expect(got.failed).toBe(true);
    expect(got.count).toBe(6);
    const p = got.results as PackedResults;
    expect(p.count).toBe(6);
    expect(p.ints).toHaveLength(6 * 4);
    expect(new TextDecoder().decode(p.bodies)).toContain('"sessionId":"s2"');
    expect(got.error).toMatchObject({ code: 'STB_EXTRACT_FAILED' });
    expect(String((got.error as Error).message)).toContain('x.log:7');
  });

  it('gives the statements before a failure and the failure, as JSON', async () => {
    const got = extractBatch(await failingAt(0), part);
    expect(got).toMatchObject({ count: 0, failed: true });
    expect(JSON.parse(got.results as string)).toEqual([]);
    const late = extractBatch(await failingAt(9), part);
    const results = JSON.parse(late.results as string) as ExtractedResult[];
    expect(results.map((r) => r.event.sessionId)).toEqual(
      part.slice(0, 9).map((e) => e.sessionId),
    );
    expect(late.error).toMatchObject({ code: 'STB_EXTRACT_FAILED' });
  });
});
