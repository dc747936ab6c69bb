import { SequenceBuffer } from './sequence-buffer';

async function replay(
  b: SequenceBuffer,
  ids: string[],
): Promise<[string, string[]][]> {
  const out: [string, string[]][] = [];
  for await (const s of b.replay(ids, undefined))
    out.push([s.sessionId, [...s.templates]]);
  return out;
}

describe('SequenceBuffer', () => {
  it('replays sessions in order with template ids, growing past its first block', async () => {
    const b = new SequenceBuffer(100_000);
    const ids = ['a', 'b', 'c'];
    const long = Array.from({ length: 5000 }, (_, i) => i % 3);
    b.add('s1', [0, 1]);
    b.add('s2', []);
    b.add('s3', long);
    expect(b.overflow).toBe(false);
    const out = await replay(b, ids);
    expect(out.map((s) => s[0])).toEqual(['s1', 's2', 's3']);
    expect(out[0]?.[1]).toEqual(['a', 'b']);
    expect(out[1]?.[1]).toEqual([]);
    expect(out[2]?.[1]).toEqual(long.map((i) => ids[i]));
  });

  it('counts one symbol per statement and per session, and drops everything past the budget', async () => {
    const b = new SequenceBuffer(6);
    b.add('s1', [0, 0]); // 3
    b.add('s2', [0, 0]); // 6
    expect(b.overflow).toBe(false);
    b.add('s3', []); // 7 > 6
    expect(b.overflow).toBe(true);
    b.add('s4', [0]);
    expect(await replay(b, ['a'])).toEqual([]);
    expect(new SequenceBuffer(0).overflow).toBe(true);
  });
});
