import type { QueryTemplate, Rng } from '@stb/core';
import { AliasTable } from '@stb/core';
import { z } from 'zod';
import type { SequencePredictor, SequenceSampler } from '../sequence-model';
import { END_TOKEN, START_TOKEN, defineSequenceModel } from '../sequence-model';
import { throwIfAborted } from '../internal/abort';
import { boundaryTable } from '../internal/boundaries';
import { parseOrThrow } from '../internal/parse';

/** Options of the `markov` model. */
export const MarkovOptions = z.object({
  /** Context length k (1..3): how many previous templates condition the next one. */
  order: z.number().int().min(1).max(3).default(1),
  /**
   * Additive (Lidstone) smoothing α: every template and END gets α pseudo-counts in every seen
   * context. 0 (default) keeps only observed transitions.
   */
  smoothing: z.number().nonnegative().default(0),
});
export type MarkovOptions = z.infer<typeof MarkovOptions>;

/** Next-token counts per context key (context template ids joined by a space). */
const CountTable = z.record(
  z.string(),
  z.record(z.string(), z.number().nonnegative()),
);

/** Fitted state of the `markov` model: mergeable counts per order 0..k. */
export const MarkovState = z.object({
  stateVersion: z.literal(1),
  order: z.number().int().min(1).max(3),
  smoothing: z.number().nonnegative(),
  /** Template ids seen, in first-seen order. */
  symbols: z.array(z.string()),
  /** `counts[o]`: for contexts of length o (padded with START), counts of the next id or END. */
  counts: z.array(CountTable),
  sessions: z.number().int().nonnegative(),
  /** Longest session seen (bounds sampling of sessions that never reach END). */
  maxLength: z.number().int().nonnegative(),
  /**
   * The part of `counts` whose context leaves the session inside a transaction (after a BEGIN,
   * before its COMMIT/ROLLBACK, by the templates' `boundary` facts). A sampler draws from these
   * rows inside a transaction and from `counts` − `txnCounts` outside one, so a template that
   * occurs both in and out of transactions does not carry one context's next step into the
   * other. Absent when no session opened a transaction (and in states fitted before it existed).
   */
  txnCounts: z.array(CountTable).optional(),
});
export type MarkovState = z.infer<typeof MarkovState>;

/** Token of END in the fit's integer tables. */
const END = -1;
/** Distinct tokens the fit supports (context pairs are keyed as context × MAX_TOKENS + token). */
const MAX_TOKENS = 1 << 21;

function contextKey(history: readonly string[], order: number): string {
  const out: string[] = [];
  for (let i = history.length - order; i < history.length; i++)
    out.push(i < 0 ? START_TOKEN : (history[i] as string));
  return out.join(' ');
}

interface Dist {
  tokens: string[];
  weights: number[];
  total: number;
  alias: AliasTable;
}

function buildDist(row: Record<string, number>): Dist | undefined {
  const tokens: string[] = [];
  const weights: number[] = [];
  let total = 0;
  for (const [t, c] of Object.entries(row)) {
    if (c <= 0) continue;
    tokens.push(t);
    weights.push(c);
    total += c;
  }
  if (total <= 0) return undefined;
  return { tokens, weights, total, alias: new AliasTable(weights) };
}

/** Transaction side of a draw: the whole table, inside a transaction, or outside one. */
const enum Side {
  All = 0,
  In = 1,
  Out = 2,
}

/** The count row of `key` at order `o` for a side (outside = all − inside), or undefined. */
function sideRow(
  state: MarkovState,
  at: { o: number; key: string },
  side: Side,
): Record<string, number> | undefined {
  const { o, key } = at;
  const all = state.counts[o];
  const row = all && Object.hasOwn(all, key) ? all[key] : undefined;
  if (side === Side.All || !row) return row;
  const txn = state.txnCounts?.[o];
  const inRow = txn && Object.hasOwn(txn, key) ? txn[key] : undefined;
  if (side === Side.In) return inRow;
  if (!inRow) return row;
  const out: Record<string, number> = {};
  for (const [t, c] of Object.entries(row)) {
    const left = c - (inRow[t] ?? 0);
    if (left > 0) out[t] = left;
  }
  return out;
}

/** Whether a session is in a transaction after `token`, given whether it was before. */
function txnAfter(
  bounds: ReadonlyMap<string, number>,
  token: string,
  before: boolean,
): boolean {
  const b = bounds.get(token);
  return b === 1 ? true : b === 2 ? false : before;
}

/**
 * Looks up the highest-order seen context for a history (backoff to lower orders); with
 * transaction counts, first on the session's side of a transaction, then on the whole table.
 */
function createLookup(
  state: MarkovState,
): (history: readonly string[], inTxn?: boolean) => Dist | undefined {
  const sides = state.txnCounts ? [Side.In, Side.Out] : [];
  const cache = new Map<string, Dist | undefined>();
  const find = (history: readonly string[], side: Side): Dist | undefined => {
    for (let o = Math.min(state.order, state.counts.length - 1); o >= 0; o--) {
      const key = contextKey(history, o);
      const ck = `${side}|${o}|${key}`;
      let d = cache.get(ck);
      if (d === undefined && !cache.has(ck)) {
        const row = sideRow(state, { o, key }, side);
        d = row ? buildDist(row) : undefined;
        cache.set(ck, d);
      }
      if (d) return d;
    }
    return undefined;
  };
  return (history, inTxn) => {
    if (sides.length > 0 && inTxn !== undefined) {
      const d = find(history, inTxn ? Side.In : Side.Out);
      if (d) return d;
    }
    return find(history, Side.All);
  };
}

/**
 * Next-token distributions by context for sampling: tokens are interned to integer codes (0 is
 * START) and each order's contexts are cached under a numeric key, so a draw builds no strings.
 * The string context key is built only on a cache miss. Falls back to {@link createLookup} when
 * the vocabulary is too large for exact numeric keys.
 */
function createCodedLookup(state: MarkovState):
  | {
      /** Token of a code (codes from 1). */
      tokens: readonly string[];
      code: (token: string) => number;
      /**
       * Distribution after the last `order` codes of `history[0..len)` (on the session's side
       * of a transaction when `inTxn` is given and the state has transaction counts); codes of
       * END are -1.
       */
      lookup: (
        history: Int32Array,
        len: number,
        inTxn?: boolean,
      ) => CodedDist | undefined;
    }
  | undefined {
  const codes = new Map<string, number>();
  const tokens: string[] = [START_TOKEN];
  const intern = (t: string): void => {
    if (t !== END_TOKEN && !codes.has(t)) {
      codes.set(t, tokens.length);
      tokens.push(t);
    }
  };
  for (const t of state.symbols) intern(t);
  for (const table of state.counts)
    for (const row of Object.values(table))
      for (const t of Object.keys(row)) intern(t);
  const base = tokens.length;
  const maxOrder = Math.min(state.order, state.counts.length - 1);
  if (maxOrder >= 0 && Math.pow(base, maxOrder) >= Number.MAX_SAFE_INTEGER)
    return undefined;
  // caches[side][order]: numeric context key → distribution (null: none on that side)
  const caches: Map<number, CodedDist | null>[][] = [
    Side.All,
    Side.In,
    Side.Out,
  ].map(() => state.counts.map(() => new Map()));
  const build = (
    context: { history: Int32Array; len: number },
    o: number,
    side: Side,
  ): CodedDist | null => {
    const { history, len } = context;
    const parts: string[] = [];
    for (let i = len - o; i < len; i++)
      parts.push(
        i < 0 ? START_TOKEN : (tokens[history[i] as number] as string),
      );
    const row = sideRow(state, { o, key: parts.join(' ') }, side);
    const d = row ? buildDist(row) : undefined;
    if (!d) return null;
    return {
      ...d,
      codes: Int32Array.from(d.tokens, (t) =>
        t === END_TOKEN ? -1 : (codes.get(t) as number),
      ),
    };
  };
  return {
    tokens,
    code: (token) => (token === END_TOKEN ? -1 : (codes.get(token) ?? -1)),
    lookup: (history, len, inTxn) => {
      const find = (side: Side): CodedDist | undefined => {
        const cache = caches[side] as Map<number, CodedDist | null>[];
        for (let o = maxOrder; o >= 0; o--) {
          let key = 0;
          for (let i = len - o; i < len; i++)
            key = key * base + (i < 0 ? 0 : (history[i] as number));
          const c = cache[o] as Map<number, CodedDist | null>;
          let d = c.get(key);
          if (d === undefined) {
            d = build({ history, len }, o, side);
            c.set(key, d);
          }
          if (d) return d;
        }
        return undefined;
      };
      if (inTxn !== undefined && state.txnCounts) {
        const d = find(inTxn ? Side.In : Side.Out);
        if (d) return d;
      }
      return find(Side.All);
    },
  };
}

interface CodedDist extends Dist {
  /** Code of each of `tokens` (-1 for END). */
  codes: Int32Array;
}

/** The markov sequence sampler (integer-coded contexts). @internal */
export function createMarkovSampler(
  state: MarkovState,
  templates?: readonly QueryTemplate[],
): SequenceSampler {
  const coded = createCodedLookup(state);
  if (!coded) return createStringMarkovSampler(state, templates);
  const { tokens, lookup } = coded;
  const txn = state.txnCounts !== undefined && templates !== undefined;
  const bounds = boundaryTable(txn ? templates : undefined);
  // boundary of each code (index = code): 1 begin, 2 end
  const codeBound = Uint8Array.from(tokens, (t) => bounds.get(t) ?? 0);
  const vocab = [...state.symbols, END_TOKEN];
  const vocabCodes = Int32Array.from(vocab, coded.code);
  const alpha = state.smoothing;
  const cap = Math.max(1000, state.maxLength * 10);
  const order = state.order;
  return {
    *nextSession(rng: Rng) {
      // Only the last `order` codes matter: a ring would do, but sessions are short; keep a
      // window that is compacted when full.
      const window = 64;
      const history = new Int32Array(window + order);
      let len = 0;
      let inTxn = false;
      for (let produced = 0; produced < cap; produced++) {
        const d = lookup(history, len, txn ? inTxn : undefined);
        if (!d) return;
        let code: number;
        const smooth = alpha * vocab.length;
        if (smooth > 0 && rng.next() * (d.total + smooth) >= d.total)
          code = vocabCodes[rng.int(vocab.length)] as number;
        else code = d.codes[d.alias.sample(rng)] as number;
        if (code < 0) return;
        if (len === history.length) {
          history.copyWithin(0, len - order, len);
          len = order;
        }
        history[len++] = code;
        const b = codeBound[code] as number;
        if (b !== 0) inTxn = b === 1;
        yield tokens[code] as string;
      }
    },
  };
}

/**
 * The string-keyed sampler, for vocabularies too large for numeric context keys (and the reference
 * the coded one is tested against).
 * @internal
 */
export function createStringMarkovSampler(
  state: MarkovState,
  templates?: readonly QueryTemplate[],
): SequenceSampler {
  const lookup = createLookup(state);
  const txn = state.txnCounts !== undefined && templates !== undefined;
  const bounds = boundaryTable(txn ? templates : undefined);
  const vocab = [...state.symbols, END_TOKEN];
  const alpha = state.smoothing;
  const cap = Math.max(1000, state.maxLength * 10);
  return {
    *nextSession(rng: Rng) {
      const history: string[] = [];
      let inTxn = false;
      while (history.length < cap) {
        const d = lookup(history, txn ? inTxn : undefined);
        if (!d) return;
        let next: string;
        const smooth = alpha * vocab.length;
        if (smooth > 0 && rng.next() * (d.total + smooth) >= d.total)
          next = vocab[rng.int(vocab.length)] as string;
        else next = d.tokens[d.alias.sample(rng)] as string;
        if (next === END_TOKEN) return;
        history.push(next);
        inTxn = txnAfter(bounds, next, inTxn);
        yield next;
      }
    },
  };
}

function createMarkovPredictor(state: MarkovState): SequencePredictor {
  const lookup = createLookup(state);
  const vocab = [...state.symbols, END_TOKEN];
  const alpha = state.smoothing;
  return {
    nextDistribution(history) {
      const out = new Map<string, number>();
      const d = lookup(history);
      if (!d) {
        out.set(END_TOKEN, 1);
        return out;
      }
      const denom = d.total + alpha * vocab.length;
      if (alpha > 0) for (const v of vocab) out.set(v, alpha / denom);
      for (let i = 0; i < d.tokens.length; i++) {
        const t = d.tokens[i] as string;
        out.set(t, (out.get(t) ?? 0) + (d.weights[i] as number) / denom);
      }
      return out;
    },
  };
}

function mergeCounts(
  a: Record<string, Record<string, number>>,
  b: Record<string, Record<string, number>>,
): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const src of [a, b]) {
    for (const [ctx, row] of Object.entries(src)) {
      const dst = (out[ctx] ??= {});
      for (const [t, c] of Object.entries(row)) dst[t] = (dst[t] ?? 0) + c;
    }
  }
  return out;
}

/**
 * The `markov` sequence model: an order-k chain (k = 1..3) over template ids within sessions,
 * with explicit session start and end, backoff to lower orders for unseen contexts, optional
 * additive smoothing and mergeable counts.
 */
export const markovModel = defineSequenceModel<MarkovOptions, MarkovState>({
  kind: 'model',
  name: 'markov',
  apiVersion: 1,
  description:
    'Order-k Markov chain over templates per session, with START/END states and backoff.',
  options: MarkovOptions,
  async fit(source, options, ctx) {
    const k = options.order;
    // Tokens are small integers: 0 = START, 1.. = template ids (catalog first), -1 = END.
    const symbols = new Map<string, number>();
    const names: string[] = [START_TOKEN];
    const tokenOf = (id: string): number => {
      let t = symbols.get(id);
      if (t === undefined) {
        if (names.length >= MAX_TOKENS)
          throw new RangeError(
            `[stb] [model:markov] More than ${MAX_TOKENS - 1} distinct templates.`,
          );
        symbols.set(id, (t = names.length));
        names.push(id);
      }
      return t;
    };
    for (const t of ctx.templates) tokenOf(t.id);
    // Contexts of order o >= 1 are interned as (token t[i-o], context of order o-1) pairs, so a
    // context is one small integer; ids are assigned in order of first use, which keeps the
    // tables' key order.
    const pairs: Map<number, number>[] = [];
    const parentOf: number[][] = [];
    const firstOf: number[][] = [];
    /** rows[o][context]: next token → count; txnRows: the same, from inside a transaction. */
    const rows: Map<number, number>[][] = [];
    const txnRows: Map<number, number>[][] = [];
    for (let o = 0; o <= k; o++) {
      pairs.push(new Map());
      parentOf.push([]);
      firstOf.push([]);
      rows.push([]);
      txnRows.push([]);
    }
    let inTxn = false;
    let sawTxn = false;
    const bump = (o: number, context: number, next: number): void => {
      for (const tables of inTxn ? [rows, txnRows] : [rows]) {
        const table = tables[o] as Map<number, number>[];
        let row = table[context];
        if (!row) table[context] = row = new Map();
        row.set(next, (row.get(next) ?? 0) + 1);
      }
    };
    // 1 begin, 2 end, by token
    const bounds = boundaryTable(ctx.templates);
    const boundOf: number[] = [];
    const window = new Int32Array(k);
    let sessions = 0;
    let maxLength = 0;
    for await (const s of source()) {
      throwIfAborted(ctx.signal, 'markov');
      sessions++;
      const seq = s.templates;
      if (seq.length > maxLength) maxLength = seq.length;
      window.fill(0);
      inTxn = false;
      for (let i = 0; i <= seq.length; i++) {
        const next = i < seq.length ? tokenOf(seq[i] as string) : END;
        bump(0, 0, next);
        let context = 0;
        for (let o = 1; o <= k; o++) {
          const first = window[k - o] as number;
          const key = context * MAX_TOKENS + first;
          const table = pairs[o] as Map<number, number>;
          let id = table.get(key);
          if (id === undefined) {
            table.set(key, (id = table.size));
            (parentOf[o] as number[]).push(context);
            (firstOf[o] as number[]).push(first);
          }
          context = id;
          bump(o, context, next);
        }
        if (i < seq.length) {
          window.copyWithin(0, 1);
          window[k - 1] = next;
          let b = boundOf[next];
          if (b === undefined)
            boundOf[next] = b = bounds.get(seq[i] as string) ?? 0;
          if (b !== 0) {
            inTxn = b === 1;
            if (inTxn) sawTxn = true;
          }
        }
      }
      if (sessions % 10000 === 0)
        ctx.onProgress?.({ phase: 'count', step: sessions });
    }
    const tokenName = (t: number): string =>
      t === END ? END_TOKEN : (names[t] as string);
    const contextName = (o: number, context: number): string => {
      const parts: string[] = [];
      for (let c = context, p = o; p >= 1; p--) {
        parts.push(names[(firstOf[p] as number[])[c] as number] as string);
        c = (parentOf[p] as number[])[c] as number;
      }
      return parts.join(' ');
    };
    const seen = new Set<string>();
    for (const t of rows[0]?.[0]?.keys() ?? []) seen.add(tokenName(t));
    const named = (tables: Map<number, number>[][]) =>
      tables.map((table, o) => {
        const out: Record<string, Record<string, number>> = {};
        table.forEach((row, context) => {
          out[contextName(o, context)] = Object.fromEntries(
            Array.from(row, ([t, c]) => [tokenName(t), c]),
          );
        });
        return out;
      });
    return {
      stateVersion: 1,
      order: k,
      smoothing: options.smoothing,
      symbols: [...symbols.keys()].filter((id) => seen.has(id)),
      counts: named(rows),
      sessions,
      maxLength,
      ...(sawTxn ? { txnCounts: named(txnRows) } : {}),
    };
  },
  createSampler(state, ctx) {
    return createMarkovSampler(state, ctx?.templates);
  },
  createPredictor(state) {
    return createMarkovPredictor(state);
  },
  parseState(state) {
    return parseOrThrow(MarkovState, state, 'Invalid markov state');
  },
  merge(a, b) {
    if (a.order !== b.order)
      throw new RangeError(
        `[stb] [model:markov] Cannot merge states of order ${a.order} and ${b.order}. Fit every shard with the same --order.`,
      );
    const symbols = [...new Set([...a.symbols, ...b.symbols])];
    const txn =
      a.txnCounts || b.txnCounts
        ? a.counts.map((_, o) =>
            mergeCounts(a.txnCounts?.[o] ?? {}, b.txnCounts?.[o] ?? {}),
          )
        : undefined;
    return {
      stateVersion: 1,
      order: a.order,
      smoothing: a.smoothing,
      symbols,
      counts: a.counts.map((table, o) => mergeCounts(table, b.counts[o] ?? {})),
      sessions: a.sessions + b.sessions,
      maxLength: Math.max(a.maxLength, b.maxLength),
      ...(txn ? { txnCounts: txn } : {}),
    };
  },
});
