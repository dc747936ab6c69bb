import type { ParamValue } from '@stb/core';
import { createRng } from '@stb/core';
import type { PrivacySettings } from './param-fit';
import { SlotFitter } from './param-fit';
import { SlotSampler } from './param-sample';

const DEFAULT: PrivacySettings = {
  enabled: false,
  minSessions: 5,
  mode: 'default',
};
const KEEP: PrivacySettings = { ...DEFAULT, mode: 'keep-literals' };

/** Fits one slot on `values` (value i in session `session(i)`) and draws `n` values. */
function roundTrip(
  values: ParamValue[],
  options: {
    privacy?: PrivacySettings;
    session?: (i: number) => number;
    n?: number;
  } = {},
): { out: ParamValue[]; state: ReturnType<SlotFitter['toState']> } {
  const f = new SlotFitter(5);
  values.forEach((v, i) => f.add(v, 0, options.session?.(i) ?? i));
  const state = f.toState(options.privacy ?? DEFAULT);
  const s = new SlotSampler(state);
  const rng = createRng(7);
  const out: ParamValue[] = [];
  for (let i = 0; i < (options.n ?? 600); i++) out.push(s.sample(rng, 0));
  return { out, state };
}

const str = (v: string): ParamValue => ({ t: 'string', v });
const texts = (ps: ParamValue[]): string[] =>
  ps.map((p) =>
    p.t === 'string' || p.t === 'json' || p.t === 'uuid' ? p.v : '',
  );

describe('format-preserving synthesis (issue 18)', () => {
  it('synthesises rare emails, keeping frequent domains and their share', () => {
    const domains = ['gmail.com', 'gmail.com', 'yahoo.com', 'outlook.com'];
    const src: ParamValue[] = [];
    for (let i = 0; i < 400; i++)
      src.push(
        str(
          `user+${i}.x@${i === 5 ? 'rare-corp.io' : (domains[i % 4] as string)}`,
        ),
      );
    const { out, state } = roundTrip(src);
    // every source email was seen in one session: none is stored or emitted
    expect(state.freq.items.filter((i) => i.key.startsWith('s'))).toEqual([]);
    const source = new Set(texts(src));
    const gen = texts(out);
    for (const e of gen) {
      expect(e).toMatch(/^[A-Za-z0-9._+-]+@[a-z0-9.-]+\.[a-z]+$/);
      expect(source.has(e)).toBe(false);
      expect(e.length).toBeLessThanOrEqual(
        Math.max(...texts(src).map((s) => s.length)),
      );
    }
    const share = (d: string): number =>
      gen.filter((e) => e.endsWith(`@${d}`)).length / gen.length;
    expect(Math.abs(share('gmail.com') - 0.5)).toBeLessThan(0.07);
    expect(Math.abs(share('yahoo.com') - 0.25)).toBeLessThan(0.07);
    // a domain seen in one session is not kept
    expect(share('rare-corp.io')).toBe(0);
  });

  it('keeps frequent categories verbatim and copies everything with keep-literals', () => {
    const src: ParamValue[] = [];
    for (let i = 0; i < 300; i++)
      src.push(str(i % 3 === 0 ? 'active' : `note ${i}`));
    const safe = texts(roundTrip(src).out);
    expect(safe.filter((v) => v === 'active').length / safe.length).toBeCloseTo(
      1 / 3,
      1,
    );
    const source = new Set(texts(src));
    expect(safe.filter((v) => v !== 'active' && source.has(v))).toEqual([]);
    const kept = texts(roundTrip(src, { privacy: KEEP }).out);
    expect(kept.every((v) => source.has(v))).toBe(true);
  });

  it('keeps UUID versions valid', () => {
    const hex = '0123456789abcdef';
    const rng = createRng(1);
    const src: ParamValue[] = [];
    for (let i = 0; i < 200; i++) {
      let s = '';
      for (let j = 0; j < 32; j++) {
        let d = rng.int(16);
        if (j === 12) d = 7;
        else if (j === 16) d = 8 + (d & 3);
        s += hex[d] as string;
        if (j === 7 || j === 11 || j === 15 || j === 19) s += '-';
      }
      src.push(i % 2 === 0 ? { t: 'uuid', v: s } : str(s));
    }
    const { out } = roundTrip(src);
    const source = new Set(texts(src));
    expect(new Set(out.map((p) => p.t))).toEqual(new Set(['uuid', 'string']));
    for (const v of texts(out)) {
      expect(v).toMatch(
        /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      );
      expect(source.has(v)).toBe(false);
    }
  });

  it('keeps JSON keys, structure and frequent leaves, and synthesises rare leaves', () => {
    const themes = ['dark', 'light'];
    const src: ParamValue[] = [];
    for (let i = 0; i < 300; i++) {
      const doc: Record<string, unknown> = {
        theme: themes[i % 2],
        bio: `I am person number ${i}`,
        tags: i % 3 === 0 ? ['a', 'b'] : ['a'],
      };
      if (i === 17) doc[`secret_key_${i}`] = 'x';
      src.push({ t: 'json', v: JSON.stringify(doc) });
    }
    const { out } = roundTrip(src);
    const bios = new Set(
      texts(src).map((v) => (JSON.parse(v) as { bio: string }).bio),
    );
    for (const p of out) {
      expect(p.t).toBe('json');
      const doc = JSON.parse(texts([p])[0] ?? '') as Record<string, unknown>;
      // the key seen in one session is dropped; the others stay
      expect(Object.keys(doc).sort()).toEqual(['bio', 'tags', 'theme']);
      expect(themes).toContain(doc['theme']);
      expect(bios.has(doc['bio'] as string)).toBe(false);
      expect([1, 2]).toContain((doc['tags'] as unknown[]).length);
    }
  });

  it('keeps scripts, emoji and the longest length of text, as whole characters', () => {
    const names = [
      "Zoë O'Brien 🚀",
      'Ангелина Иванова',
      '佐藤 美咲',
      'Łukasz Nowak',
    ];
    const src = Array.from({ length: 200 }, (_, i) =>
      str(`${names[i % 4] as string} ${i}`),
    );
    const { out } = roundTrip(src);
    const gen = texts(out);
    const longest = Math.max(...texts(src).map((s) => [...s].length));
    const joined = gen.join('');
    expect(joined).toMatch(/[\u0400-\u04ff]/); // Cyrillic
    expect(joined).toMatch(/[\u4e00-\u9fff]/); // CJK
    expect(joined).toContain('🚀');
    for (const s of gen) {
      expect([...s].length).toBeLessThanOrEqual(longest);
      // no lone surrogate: an emoji is drawn whole
      expect(s).toBe(Buffer.from(s, 'utf8').toString('utf8'));
    }
    const source = new Set(texts(src));
    expect(gen.filter((s) => source.has(s))).toEqual([]);
  });

  it('keeps the wildcards of LIKE patterns', () => {
    const src = Array.from({ length: 200 }, (_, i) =>
      str(i % 2 === 0 ? `%term${i}%` : `word${i}%`),
    );
    const gen = texts(roundTrip(src).out);
    for (const s of gen) expect(s).toMatch(/^%?[^%]+%$|^%[^%]+%?$/);
    const both = gen.filter((s) => s.startsWith('%') && s.endsWith('%'));
    expect(both.length / gen.length).toBeGreaterThan(0.35);
    expect(both.length / gen.length).toBeLessThan(0.65);
  });
});
