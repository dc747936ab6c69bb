import type { ParamValue, TraceEvent, ValidationLeak } from '@stb/core';
import { hash32 } from '@stb/core';

/** Sizes of the leak check. @internal */
export interface LeakConfig {
  /** k: a literal seen in fewer distinct sessions of the original is rare. */
  minSessions: number;
  /** Distinct original literals tracked before the check samples literals by hash. */
  maxLiterals: number;
}

/** Marks a literal seen in at least k sessions. */
const FREQUENT = -1;
/** 2^52: hashes are 52-bit integers. */
const HASH_SPACE = 4503599627370496;
/** JSON documents longer than this (characters) are checked whole, not leaf by leaf. */
const JSON_MAX_LENGTH = 65_536;

/** 52-bit hash of a literal's text (two independent 32-bit hashes). */
function hashText(s: string): number {
  return hash32(s) * 1048576 + (hash32(`\u0001${s}`) >>> 12);
}

/**
 * Calls `visit` with every literal of `p` the leak check covers: the text of strings, UUIDs and
 * bytes (not the empty string, which carries nothing); for containers, their parts: each element
 * of a list, and each string leaf of a JSON object or array (typed `json` or a string that parses
 * as one). Numbers, booleans, nulls, dates and timestamps are not literals here: numbers keep
 * their distribution by design, and dates and times are generated as offsets from the
 * statement's time.
 */
function eachLiteral(p: ParamValue, visit: (text: string) => void): void {
  switch (p.t) {
    case 'string':
    case 'json':
    case 'uuid':
    case 'bytes': {
      const v = p.v;
      if (v.length === 0) return;
      const c = v.charCodeAt(0);
      if ((c === 123 || c === 91) && v.length <= JSON_MAX_LENGTH) {
        let doc: unknown;
        try {
          doc = JSON.parse(v);
        } catch {
          doc = undefined;
        }
        if (typeof doc === 'object' && doc !== null) {
          // a document is a container, like a list: its string leaves are the literals
          jsonLeaves(doc, visit);
          return;
        }
      }
      visit(v);
      return;
    }
    case 'list':
      for (const e of p.v) eachLiteral(e, visit);
      return;
    default:
      return;
  }
}

function jsonLeaves(x: unknown, visit: (text: string) => void): void {
  if (typeof x === 'string') {
    if (x.length > 0) visit(x);
    return;
  }
  if (x === null || typeof x !== 'object') return;
  for (const v of Array.isArray(x) ? x : Object.values(x)) jsonLeaves(v, visit);
}

/**
 * The leak check (DESIGN.md "Validation"): which literals of the generated trace occur verbatim
 * in the original but were rare there (seen in fewer than k distinct sessions). The original's
 * literals are tracked by 52-bit hash with their distinct sessions (up to k); memory is bounded
 * by `maxLiterals`: beyond it, only literals whose hash falls below a halving threshold are
 * tracked (on both sides alike), and the share is estimated from that sample.
 * @internal
 */
export class LeakTracker {
  /** hash → first session key, a list of session keys (fewer than k), or {@link FREQUENT}. */
  readonly #original = new Map<number, number | number[]>();
  #threshold = HASH_SPACE;
  #session = 0;
  #sessionId = '';
  #generatedLiterals = 0;
  #checked = 0;
  #leaked = 0;
  readonly #bySlot = new Map<string, number>();

  constructor(readonly config: LeakConfig) {}

  readonly #addOriginal = (text: string): void => {
    const h = hashText(text);
    if (h >= this.#threshold) return;
    const m = this.#original;
    const s = this.#session;
    const seen = m.get(h);
    if (seen === undefined) {
      m.set(h, this.config.minSessions <= 1 ? FREQUENT : s);
      if (m.size > this.config.maxLiterals) this.#shrink();
      return;
    }
    if (seen === FREQUENT || seen === s) return;
    if (typeof seen === 'number') {
      m.set(h, this.config.minSessions <= 2 ? FREQUENT : [seen, s]);
      return;
    }
    if (seen.includes(s)) return;
    seen.push(s);
    if (seen.length >= this.config.minSessions) m.set(h, FREQUENT);
  };

  #shrink(): void {
    while (this.#original.size > this.config.maxLiterals) {
      this.#threshold /= 2;
      for (const h of this.#original.keys())
        if (h >= this.#threshold) this.#original.delete(h);
    }
  }

  /** Records the literals of an original event. */
  addOriginal(e: TraceEvent): void {
    if (e.params.length === 0) return;
    if (e.sessionId !== this.#sessionId || this.#session === 0) {
      this.#sessionId = e.sessionId;
      this.#session = hashText(e.sessionId);
    }
    for (const p of e.params) eachLiteral(p, this.#addOriginal);
  }

  /** Checks the literals of a generated event (call after every original event). */
  addGenerated(e: TraceEvent): void {
    const params = e.params;
    for (let i = 0; i < params.length; i++) {
      eachLiteral(params[i] as ParamValue, (text) => {
        this.#generatedLiterals++;
        const h = hashText(text);
        if (h >= this.#threshold) return;
        this.#checked++;
        const seen = this.#original.get(h);
        if (seen === undefined || seen === FREQUENT) return;
        this.#leaked++;
        const key = `${e.templateId}#${i}`;
        this.#bySlot.set(key, (this.#bySlot.get(key) ?? 0) + 1);
      });
    }
  }

  /** The report section; `columnOf` names a slot's column when the template knows it. */
  result(
    columnOf: (templateId: string, slot: number) => string | null,
    maxLeak?: number,
  ): ValidationLeak {
    let rare = 0;
    for (const v of this.#original.values()) if (v !== FREQUENT) rare++;
    const share = this.#checked === 0 ? 0 : this.#leaked / this.#checked;
    const slots = [...this.#bySlot]
      .map(([key, leaked]) => {
        const hash = key.lastIndexOf('#');
        const templateId = key.slice(0, hash);
        const slot = Number(key.slice(hash + 1));
        return { templateId, slot, column: columnOf(templateId, slot), leaked };
      })
      .sort(
        (a, b) =>
          b.leaked - a.leaked ||
          (a.templateId < b.templateId
            ? -1
            : a.templateId > b.templateId
              ? 1
              : 0) ||
          a.slot - b.slot,
      );
    const out: ValidationLeak = {
      minSessions: this.config.minSessions,
      share,
      leaked: this.#leaked,
      checked: this.#checked,
      generatedLiterals: this.#generatedLiterals,
      rareOriginalLiterals: rare,
      samplingRate: this.#threshold / HASH_SPACE,
      slots,
    };
    if (maxLeak !== undefined) {
      out.maxLeak = maxLeak;
      out.passed = share <= maxLeak;
    }
    return out;
  }
}
