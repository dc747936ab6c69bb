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

  it('gives back an event line held without its start and ids, and drops a session with its last event', () => {
    const store = new EncodedStore(256);
    const held = new Map<number, { id: string; json: string }>();
    const sessions = ['s1', 'é"2', 's\n3'];
    for (let i = 0; i < 500; i++) {
      const sessionId = sessions[i % 3] as string;
      const templateId = i % 2 === 0 ? 'abc' : 't"ü';
      const startUs = 1_796_649_365_025_000 + i * 1000;
      const rest = `,"params":[{"t":"string","v":"€${i}"}],"txn":${i}}`;
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
      held.set(slot, { id: templateId, json });
      if (held.size > 7) {
        const [first] = held.keys();
        const want = held.get(first as number) as { id: string; json: string };
        expect(store.templateId(first as number)).toBe(want.id);
        expect(store.take(first as number)).toBe(want.json);
        held.delete(first as number);
      }
    }
    expect(store.sessions).toBe(3);
    for (const [slot, want] of held) expect(store.take(slot)).toBe(want.json);
    // Every session left with its last event.
    expect(store.sessions).toBe(0);
  });
});
