import type { ParamValue, Rng } from '@stb/core';
import { AliasTable } from '@stb/core';
import type {
  FrequencyState,
  SlotModelState,
  StringFormatsState,
  StringShapeState,
} from '../state-schemas';
import type { TextKind, TextType } from './format-fit';
import { textKind } from './format-fit';
import { InverseCdfSampler } from './inverse-cdf';
import { CLASS_COUNT, SHAPE_POSITIONS } from './param-counters';

const CLASS_CHARS = [
  'abcdefghijklmnopqrstuvwxyz',
  'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
  '0123456789',
  ' ',
];
const HEX = '0123456789abcdef';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const KINDS: readonly TextKind[] = ['plain', 'email', 'uuid', 'json', 'like'];

/** A random RFC 9562 UUID of `version` (a hex digit; the variant bits are `10`) drawn from `rng`. */
export function randomUuid(rng: Rng, version = 4): string {
  let out = '';
  for (let i = 0; i < 32; i++) {
    let d = rng.int(16);
    if (i === 12) d = version;
    else if (i === 16) d = 8 + (d & 3);
    out += HEX[d] as string;
    if (i === 7 || i === 11 || i === 15 || i === 19) out += '-';
  }
  return out;
}

/**
 * Draws strings with the learned length (in code points, never above the longest seen) and
 * per-position character classes; `other` characters (punctuation, non-ASCII letters, emoji)
 * are drawn from those seen, so scripts and symbols keep their shares.
 */
export function shapeGenerator(
  shape: StringShapeState,
): (rng: Rng, maxLength?: number) => string {
  const len = InverseCdfSampler.fromSketch(shape.length);
  const longest = shape.length.max ?? Infinity;
  const tables = shape.positions.map((p) =>
    p.some((c) => c > 0) ? new AliasTable(p) : undefined,
  );
  const global = shape.classes.some((c) => c > 0)
    ? new AliasTable(shape.classes)
    : undefined;
  const otherChars = Object.keys(shape.others);
  const others =
    otherChars.length > 0
      ? new AliasTable(otherChars.map((c) => shape.others[c] as number))
      : undefined;
  return (rng, maxLength = Infinity) => {
    const drawn = len ? Math.max(0, Math.round(len.sample(rng))) : 0;
    const n = Math.min(drawn, longest, maxLength);
    let s = '';
    for (let i = 0; i < n; i++) {
      const table = (i < SHAPE_POSITIONS ? tables[i] : undefined) ?? global;
      const c = table ? table.sample(rng) : 0;
      if (c < CLASS_COUNT - 1) {
        const chars = CLASS_CHARS[c] as string;
        s += chars[rng.int(chars.length)] as string;
      } else s += others ? (otherChars[others.sample(rng)] as string) : '-';
    }
    return s;
  };
}

/** Picks a kept item of a frequency table by count (undefined: the table keeps none). */
function keptPicker(
  freq: FrequencyState,
): { kept: number; pick(rng: Rng): string } | undefined {
  const items = freq.items;
  if (items.length === 0) return undefined;
  const alias = new AliasTable(items.map((i) => i.count));
  return {
    kept: items.reduce((a, i) => a + i.count, 0),
    pick: (rng) => (items[alias.sample(rng)]?.key ?? 's').slice(1),
  };
}

/** An email local part: the learned shape, limited to characters mail systems accept. */
function localPart(raw: string, rng: Rng): string {
  let s = raw.replace(/[^A-Za-z0-9._+-]/g, () => LOWER[rng.int(26)] as string);
  s = s.replace(/\.{2,}/g, '.').replace(/^\.|\.$/g, '');
  return s === '' ? (LOWER[rng.int(26)] as string) : s;
}

/** Samples the values of a slot (a leaf of a JSON document). */
export interface LeafSampler {
  sample(rng: Rng, eventUs: number): ParamValue;
}

type Draw = (rng: Rng, eventUs: number) => string;

function emailDraw(e: NonNullable<StringFormatsState['email']>): Draw {
  const local = shapeGenerator(e.local);
  const domains = keptPicker(e.domains);
  const tlds = keptPicker(e.tlds);
  const pKept = domains && e.n > 0 ? Math.min(1, domains.kept / e.n) : 0;
  return (rng) => {
    const domain =
      domains && rng.next() < pKept
        ? domains.pick(rng)
        : `${shapeLabel(rng)}.${tlds ? tlds.pick(rng) : 'example'}`;
    const room = Math.max(1, e.maxLength - domain.length - 1);
    const l = localPart(local(rng, room), rng).slice(0, room);
    return `${l}@${domain}`;
  };
}

function shapeLabel(rng: Rng): string {
  let s = '';
  for (let i = 4 + rng.int(7); i > 0; i--) s += LOWER[rng.int(26)] as string;
  return s;
}

function uuidDraw(u: NonNullable<StringFormatsState['uuid']>): Draw {
  const versions = Object.keys(u.versions).filter(
    (v) => /^[0-9a-f]$/i.test(v) && (u.versions[v] as number) > 0,
  );
  const table =
    versions.length > 0
      ? new AliasTable(versions.map((v) => u.versions[v] as number))
      : undefined;
  const pUpper = u.n > 0 ? u.upper / u.n : 0;
  return (rng) => {
    const version = table
      ? parseInt(versions[table.sample(rng)] as string, 16)
      : 4;
    const s = randomUuid(rng, version);
    return pUpper > 0.5 ? s.toUpperCase() : s;
  };
}

function likeDraw(l: NonNullable<StringFormatsState['like']>): Draw {
  const core = shapeGenerator(l.core);
  const pLead = l.n > 0 ? l.leading / l.n : 0;
  const pTrail = l.n > 0 ? l.trailing / l.n : 0;
  return (rng) => {
    const lead = rng.next() < pLead;
    const trail = rng.next() < pTrail;
    // a pattern keeps at least one wildcard, and a core that is not itself a wildcard
    const body = core(rng).replace(/%/g, '_') || (LOWER[rng.int(26)] as string);
    return `${lead || !trail ? '%' : ''}${body}${trail ? '%' : ''}`;
  };
}

function jsonDraw(
  j: NonNullable<StringFormatsState['json']>,
  leafSampler: (state: SlotModelState) => LeafSampler,
): Draw | undefined {
  const items = j.skeletons.items;
  if (items.length === 0) return undefined;
  const skeletons = items.map((i) => JSON.parse(i.key.slice(1)) as unknown);
  const alias = new AliasTable(items.map((i) => i.count));
  const leaves = new Map<string, LeafSampler>();
  for (const [path, state] of Object.entries(j.leaves))
    leaves.set(path, leafSampler(state));
  const other = leaves.get('*');
  interface LeafDraw {
    rng: Rng;
    eventUs: number;
  }
  const leaf = (path: string, like: unknown, at: LeafDraw): unknown => {
    const s = leaves.get(path) ?? other;
    for (let tries = 0; s && tries < 4; tries++) {
      const p = s.sample(at.rng, at.eventUs);
      switch (typeof like) {
        case 'string':
          if (p.t === 'string') return p.v;
          break;
        case 'number':
          if (p.t === 'int' || p.t === 'float') return p.v;
          break;
        case 'boolean':
          if (p.t === 'bool') return p.v;
          break;
        default:
          if (p.t === 'null') return null;
      }
    }
    return like;
  };
  const fill = (x: unknown, path: string, at: LeafDraw): unknown => {
    if (Array.isArray(x)) return x.map((e) => fill(e, `${path}[]`, at));
    if (x !== null && typeof x === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(x as Record<string, unknown>))
        out[k] = fill(v, path === '' ? k : `${path}.${k}`, at);
      return out;
    }
    return leaf(path, x, at);
  };
  return (rng, eventUs) =>
    JSON.stringify(fill(skeletons[alias.sample(rng)], '', { rng, eventUs }));
}

/**
 * A generator of synthesised values of type `type` for the mass of a slot that is not kept
 * verbatim: a format is drawn with the share it had among the values not kept (`kept`), then a
 * value of that format. Undefined when the slot has no text values of this type.
 */
export function formatGenerator(
  formats: StringFormatsState,
  options: {
    type: TextType;
    /** Values kept verbatim (their share of each format is not synthesised). */
    kept: readonly ParamValue[];
    keptCounts: readonly number[];
    leafSampler: (state: SlotModelState) => LeafSampler;
  },
): ((rng: Rng, eventUs: number) => ParamValue) | undefined {
  const counts = formats.kinds[options.type];
  if (!counts) return undefined;
  const synth = new Map<TextKind, number>();
  for (const k of KINDS) synth.set(k, counts[k] ?? 0);
  options.kept.forEach((p, i) => {
    if (p.t !== options.type) return;
    const k = textKind(String(p.v), p.t);
    synth.set(k, (synth.get(k) ?? 0) - (options.keptCounts[i] ?? 0));
  });
  const draws: Draw[] = [];
  const weights: number[] = [];
  const add = (draw: Draw | undefined, w: number): void => {
    if (draw && w > 0) {
      draws.push(draw);
      weights.push(w);
    }
  };
  const plain = formats.plain ? shapeGenerator(formats.plain) : undefined;
  const use = (k: TextKind): number => Math.max(0, synth.get(k) ?? 0);
  add(plain ? (rng) => plain(rng) : undefined, use('plain'));
  if (formats.email) add(emailDraw(formats.email), use('email'));
  if (formats.uuid) add(uuidDraw(formats.uuid), use('uuid'));
  if (formats.like) add(likeDraw(formats.like), use('like'));
  if (formats.json)
    add(jsonDraw(formats.json, options.leafSampler), use('json'));
  if (draws.length === 0) {
    // the kept values covered every format: fall back to the formats' raw counts
    for (const k of KINDS) {
      const w = counts[k] ?? 0;
      if (w <= 0) continue;
      const draw =
        k === 'plain'
          ? plain && ((rng: Rng) => plain(rng))
          : k === 'email' && formats.email
            ? emailDraw(formats.email)
            : k === 'uuid' && formats.uuid
              ? uuidDraw(formats.uuid)
              : k === 'like' && formats.like
                ? likeDraw(formats.like)
                : k === 'json' && formats.json
                  ? jsonDraw(formats.json, options.leafSampler)
                  : undefined;
      add(draw, w);
    }
  }
  if (draws.length === 0) return undefined;
  const table = new AliasTable(weights);
  const type = options.type;
  return (rng, eventUs) => ({
    t: type,
    v: (draws[table.sample(rng)] as Draw)(rng, eventUs),
  });
}
