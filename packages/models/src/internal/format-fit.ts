import type { ParamType, ParamValue } from '@stb/core';
import type {
  FrequencyState,
  JsonFormatState,
  SlotModelState,
  StringFormatsState,
} from '../state-schemas';
import type { PrivacySettings } from './param-counters';
import {
  FrequencyCounter,
  KEEP_ALL,
  StringShapeFitter,
  stringFreqKey,
} from './param-counters';

/** The format of a text value, which decides how a synthesised value is shaped. */
export type TextKind = 'email' | 'uuid' | 'json' | 'like' | 'plain';

/** Text value types that get format-preserving models. */
export type TextType = 'string' | 'json' | 'uuid';

const UUID_RE =
  /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const EMAIL_RE = /^([^@\s]{1,64})@((?:[^@\s.]+\.)+([^@\s.]{2,}))$/;
/** Leaf paths of a JSON slot with their own model; further paths share `*`. */
const LEAF_CAP = 64;
/** JSON documents longer than this (characters) are modelled as plain text. */
const JSON_MAX_LENGTH = 65_536;
const OTHER_LEAF = '*';

let lastJson: unknown;

/**
 * The format of `v` (of value type `t`). For `json`, the parsed document is left in
 * {@link lastParsedJson}. `allowJson` false (JSON leaves) never nests documents.
 */
export function textKind(v: string, t: ParamType, allowJson = true): TextKind {
  if (t === 'uuid' || (v.length === 36 && UUID_RE.test(v))) return 'uuid';
  const c = v.charCodeAt(0);
  if (
    allowJson &&
    (c === 123 || c === 91 || t === 'json') &&
    v.length <= JSON_MAX_LENGTH
  ) {
    try {
      lastJson = JSON.parse(v);
      if (typeof lastJson === 'object' && lastJson !== null) return 'json';
    } catch {
      // not JSON: fall through
    }
  }
  if (v.length <= 254 && v.includes('@') && EMAIL_RE.test(v)) return 'email';
  if (
    v.length > 1 &&
    (c === 37 || v.charCodeAt(v.length - 1) === 37) &&
    t === 'string'
  )
    return 'like';
  return 'plain';
}

/** The document parsed by the last {@link textKind} call that returned `json`. */
export function lastParsedJson(): unknown {
  return lastJson;
}

/** Number of code points of `s`. */
export function codePointLength(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

/** What a JSON leaf model needs from a slot fitter (injected: slot fitters own format fitters). */
export interface LeafFitter {
  add(p: ParamValue, eventUs: number, session: number): void;
  toState(privacy: PrivacySettings): SlotModelState;
}

/** Replaces every leaf by an empty value of its type, reporting leaves and keys on the way. */
function skeletonOf(
  x: unknown,
  path: string,
  visit: {
    leaf(path: string, p: ParamValue): void;
    key(path: string): void;
  },
): unknown {
  if (Array.isArray(x)) {
    const p = `${path}[]`;
    return x.map((e) => skeletonOf(e, p, visit));
  }
  if (x === null) {
    visit.leaf(path, { t: 'null', v: null });
    return null;
  }
  switch (typeof x) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(x as Record<string, unknown>)) {
        const p = path === '' ? k : `${path}.${k}`;
        visit.key(p);
        out[k] = skeletonOf(v, p, visit);
      }
      return out;
    }
    case 'string':
      visit.leaf(path, { t: 'string', v: x });
      return '';
    case 'number':
      visit.leaf(
        path,
        Number.isInteger(x) ? { t: 'int', v: x } : { t: 'float', v: x },
      );
      return 0;
    case 'boolean':
      visit.leaf(path, { t: 'bool', v: x });
      return false;
    default:
      return null;
  }
}

/** Drops object keys whose path is not in `keep`. */
function pruneSkeleton(
  x: unknown,
  path: string,
  keep: ReadonlySet<string>,
): unknown {
  if (Array.isArray(x))
    return x.map((e) => pruneSkeleton(e, `${path}[]`, keep));
  if (x === null || typeof x !== 'object') return x;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(x as Record<string, unknown>)) {
    const p = path === '' ? k : `${path}.${k}`;
    if (keep.has(p)) out[k] = pruneSkeleton(v, p, keep);
  }
  return out;
}

class JsonFitter {
  n = 0;
  readonly skeletons: FrequencyCounter;
  readonly paths: FrequencyCounter;
  readonly leaves = new Map<string, LeafFitter>();
  readonly #visit: {
    leaf(path: string, p: ParamValue): void;
    key(path: string): void;
  };
  #eventUs = 0;
  #session = 0;

  constructor(
    sessionCap: number,
    readonly newLeaf: () => LeafFitter,
  ) {
    this.skeletons = new FrequencyCounter(sessionCap);
    this.paths = new FrequencyCounter(sessionCap);
    this.#visit = {
      leaf: (path, p) => {
        let f = this.leaves.get(path);
        if (!f) {
          const key = this.leaves.size < LEAF_CAP ? path : OTHER_LEAF;
          f = this.leaves.get(key);
          if (!f) this.leaves.set(key, (f = this.newLeaf()));
        }
        f.add(p, this.#eventUs, this.#session);
      },
      key: (path) => this.paths.add(stringFreqKey(path), this.#session),
    };
  }

  add(doc: unknown, eventUs: number, session: number): void {
    this.n++;
    this.#eventUs = eventUs;
    this.#session = session;
    const sk = JSON.stringify(skeletonOf(doc, '', this.#visit));
    this.skeletons.add(stringFreqKey(sk), session);
  }

  toState(privacy: PrivacySettings): JsonFormatState {
    // keys seen in fewer than k sessions are dropped from every skeleton (and their leaves)
    const keep = new Set<string>();
    for (const item of this.paths.toState(privacy).items)
      keep.add(item.key.slice(1));
    const merged = new Map<string, number>();
    const all = this.skeletons.toState(KEEP_ALL);
    for (const item of all.items) {
      const sk = JSON.stringify(
        pruneSkeleton(JSON.parse(item.key.slice(1)), '', keep),
      );
      merged.set(sk, (merged.get(sk) ?? 0) + item.count);
    }
    const skeletons: FrequencyState = {
      capacity: all.capacity,
      n: all.n,
      overflow: all.overflow,
      items: [...merged]
        .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
        .map(([sk, count]) => ({
          key: `s${sk}`,
          count,
          error: 0,
          sessions: 0,
        })),
    };
    const leaves: Record<string, SlotModelState> = {};
    for (const [path, f] of this.leaves) {
      const leafPath = path.replace(/(\[\])+$/, '');
      if (path !== OTHER_LEAF && !keep.has(leafPath) && leafPath !== '')
        continue;
      leaves[path] = f.toState(privacy);
    }
    return { n: this.n, skeletons, leaves };
  }
}

/**
 * Learns the formats of a slot's text values (emails, UUIDs, JSON, LIKE patterns, plain text),
 * so values synthesised for it look like its source values without being any of them.
 */
export class FormatsFitter {
  readonly kinds = new Map<string, Map<TextKind, number>>();
  email:
    | {
        n: number;
        maxLength: number;
        local: StringShapeFitter;
        domains: FrequencyCounter;
        tlds: FrequencyCounter;
      }
    | undefined;
  uuid: { n: number; versions: Map<string, number>; upper: number } | undefined;
  like:
    | { n: number; leading: number; trailing: number; core: StringShapeFitter }
    | undefined;
  json: JsonFitter | undefined;
  plain: StringShapeFitter | undefined;

  constructor(
    readonly sessionCap: number,
    readonly options: { newLeaf: () => LeafFitter; allowJson: boolean },
  ) {}

  add(v: string, t: TextType, at: { eventUs: number; session: number }): void {
    const { eventUs, session } = at;
    const kind = textKind(v, t, this.options.allowJson);
    let byType = this.kinds.get(t);
    if (!byType) this.kinds.set(t, (byType = new Map()));
    byType.set(kind, (byType.get(kind) ?? 0) + 1);
    switch (kind) {
      case 'uuid': {
        const u = (this.uuid ??= { n: 0, versions: new Map(), upper: 0 });
        u.n++;
        const version = v[14] ?? '4';
        u.versions.set(version, (u.versions.get(version) ?? 0) + 1);
        if (/[A-F]/.test(v)) u.upper++;
        return;
      }
      case 'json':
        (this.json ??= new JsonFitter(
          this.sessionCap,
          this.options.newLeaf,
        )).add(lastJson, eventUs, session);
        return;
      case 'email': {
        const m = EMAIL_RE.exec(v) as RegExpExecArray;
        const e = (this.email ??= {
          n: 0,
          maxLength: 0,
          local: new StringShapeFitter(),
          domains: new FrequencyCounter(this.sessionCap),
          tlds: new FrequencyCounter(this.sessionCap),
        });
        e.n++;
        e.maxLength = Math.max(e.maxLength, codePointLength(v));
        e.local.add(m[1] as string);
        e.domains.add(stringFreqKey((m[2] as string).toLowerCase()), session);
        e.tlds.add(stringFreqKey((m[3] as string).toLowerCase()), session);
        return;
      }
      case 'like': {
        const l = (this.like ??= {
          n: 0,
          leading: 0,
          trailing: 0,
          core: new StringShapeFitter(),
        });
        l.n++;
        const lead = v.startsWith('%');
        const trail = v.endsWith('%');
        if (lead) l.leading++;
        if (trail) l.trailing++;
        l.core.add(v.slice(lead ? 1 : 0, trail ? v.length - 1 : v.length));
        return;
      }
      case 'plain':
        (this.plain ??= new StringShapeFitter()).add(v);
    }
  }

  toState(privacy: PrivacySettings): StringFormatsState {
    const kinds: Record<string, Record<string, number>> = {};
    for (const [t, m] of this.kinds) kinds[t] = Object.fromEntries(m);
    const out: StringFormatsState = { kinds };
    if (this.email)
      out.email = {
        n: this.email.n,
        maxLength: this.email.maxLength,
        local: this.email.local.toState(),
        domains: this.email.domains.toState(privacy),
        tlds: this.email.tlds.toState(privacy),
      };
    if (this.uuid)
      out.uuid = {
        n: this.uuid.n,
        versions: Object.fromEntries(this.uuid.versions),
        upper: this.uuid.upper,
      };
    if (this.like)
      out.like = {
        n: this.like.n,
        leading: this.like.leading,
        trailing: this.like.trailing,
        core: this.like.core.toState(),
      };
    if (this.json) out.json = this.json.toState(privacy);
    if (this.plain) out.plain = this.plain.toState();
    return out;
  }
}
