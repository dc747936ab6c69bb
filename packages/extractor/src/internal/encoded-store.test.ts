import { eventLineField, eventLineHead } from '@stb/core';
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

  it('gives back an event line held without its start and ids, whatever the start, ids and length', () => {
    const store = new EncodedStore(256);
    const held = new Map<number, string>();
    const sessions = ['s1', 'é"2', 's\n3', '\ud800x'];
    const starts = [NaN, -0, Infinity, -Infinity, 1e21, 2 ** 53 + 2];
    for (let i = 0; i < 600; i++) {
      const sessionId = `${sessions[i % 4] as string}${i % 7}`;
      const templateId = i % 2 === 0 ? 'abc' : 't"ü\u2028';
      const startUs =
        i % 10 === 0
          ? (starts[(i / 10) % starts.length] as number)
          : 1_796_649_365_025_000 + i * 1000;
      // Some rests longer than a slab (a slab of their own).
      const value = i % 50 === 3 ? 'x'.repeat(400) : `€${i}`;
      const rest = `,"params":[{"t":"string","v":"${value}"}],"txn":${i}}`;
      const json =
        eventLineHead(startUs) +
        eventLineField('sessionId', sessionId) +
        eventLineField('templateId', templateId) +
        rest;
      // Whole lines and event lines side by side, one in parts, one at once.
      let slot: number;
      if (i % 5 === 0) slot = store.put(templateId, json);
      else if (i % 5 === 1) {
        store.begin(rest.length * 3);
        store.write(rest);
        slot = store.endEvent(templateId, startUs, sessionId);
      } else
        slot = store.putEvent(
          { kind: 'event', startUs, sessionId, templateId, params: [] },
          rest,
        );
      held.set(slot, json);
      expect(store.templateId(slot)).toBe(templateId);
      // Leave in order, sometimes several at once (slots and slabs reused).
      while (held.size > (i % 13 === 0 ? 0 : 7)) {
        const [first] = held.keys();
        expect(store.take(first as number)).toBe(held.get(first as number));
        held.delete(first as number);
      }
    }
    for (const [slot, want] of held) expect(store.take(slot)).toBe(want);
    expect(store.slabBytes).toBeLessThanOrEqual(256 * 4);
  });
});
