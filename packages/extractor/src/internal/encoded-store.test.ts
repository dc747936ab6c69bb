import { EncodedStore } from './encoded-store';

describe('EncodedStore', () => {
  it('gives back every line, whatever the order of leaving, across slabs and slab reuse', () => {
    const store = new EncodedStore(64);
    const lines = new Map<number, { id: string; json: string }>();
    let seed = 7;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const texts = [
      '{"a":1}',
      '{"é":"ü€"}',
      'x'.repeat(30),
      'y'.repeat(100),
      '',
    ];
    for (let i = 0; i < 2000; i++) {
      const json = `${texts[i % texts.length] as string}${i}`;
      const id = `t${i % 3}`;
      if (i % 2 === 0) lines.set(store.put(id, json), { id, json });
      else {
        // In parts: an ASCII head, bytes (from inside a larger array), a UTF-8 tail.
        const head = `{"n":${i},`;
        const bytes = Buffer.from(`__${json}__`);
        const tail = i % 4 === 1 ? '"ü€"}' : '}';
        store.begin(head.length + bytes.length + tail.length * 3);
        store.writeAscii(head);
        store.copy(bytes, 2, bytes.length - 2);
        store.write(tail);
        lines.set(store.end(id), { id, json: head + json + tail });
      }
      // Leave mostly in order, sometimes a random one (a reorder heap's straggler).
      while (lines.size > 20 || (lines.size > 0 && rnd() < 0.3)) {
        const keys = [...lines.keys()];
        const slot = (
          rnd() < 0.8 ? keys[0] : keys[Math.floor(rnd() * keys.length)]
        ) as number;
        const want = lines.get(slot) as { id: string; json: string };
        expect(store.templateId(slot)).toBe(want.id);
        expect(store.take(slot)).toBe(want.json);
        lines.delete(slot);
      }
    }
    for (const [slot, want] of lines) expect(store.take(slot)).toBe(want.json);
    // Slabs are reused: a few standard ones at most, no long-line slab left.
    expect(store.slabBytes).toBeLessThanOrEqual(64 * 4);
  });
});
