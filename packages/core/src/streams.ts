import { StbError } from './errors';

/**
 * Small async-iterable operators. Each is an `async function*` that pulls lazily (backpressure by
 * construction) and closes its source in `finally` when the consumer stops early.
 */

/** Any sync or async iterable. */
export type AnyIterable<T> = AsyncIterable<T> | Iterable<T>;

/** Lifts a sync iterable into an async one; passes async iterables through. */
export async function* toAsyncIterable<T>(
  source: AnyIterable<T>,
): AsyncGenerator<T> {
  yield* source;
}

/** Applies `fn` to every item. */
export async function* map<TIn, TOut>(
  source: AnyIterable<TIn>,
  fn: (item: TIn, index: number) => TOut | Promise<TOut>,
): AsyncGenerator<TOut> {
  let i = 0;
  for await (const item of source) yield await fn(item, i++);
}

/** Keeps items for which `predicate` is true. */
export async function* filter<T>(
  source: AnyIterable<T>,
  predicate: (item: T, index: number) => boolean | Promise<boolean>,
): AsyncGenerator<T> {
  let i = 0;
  for await (const item of source) if (await predicate(item, i++)) yield item;
}

/** Calls `fn` on every item and passes it on unchanged. */
export async function* tap<T>(
  source: AnyIterable<T>,
  fn: (item: T, index: number) => void | Promise<void>,
): AsyncGenerator<T> {
  let i = 0;
  for await (const item of source) {
    await fn(item, i++);
    yield item;
  }
}

/** Groups items into arrays of at most `size` (the last may be shorter). */
export async function* batch<T>(
  source: AnyIterable<T>,
  size: number,
): AsyncGenerator<T[]> {
  if (!(size >= 1))
    throw new StbError(
      'STB_OPTIONS_INVALID',
      `[stb] [core] batch size must be >= 1, got ${size}.`,
    );
  let buf: T[] = [];
  for await (const item of source) {
    buf.push(item);
    if (buf.length >= size) {
      yield buf;
      buf = [];
    }
  }
  if (buf.length > 0) yield buf;
}

/** The first `count` items, then stops (closing the source). */
export async function* take<T>(
  source: AnyIterable<T>,
  count: number,
): AsyncGenerator<T> {
  if (count <= 0) return;
  let n = 0;
  for await (const item of source) {
    yield item;
    if (++n >= count) return;
  }
}

/**
 * Splits one source into `n` iterables that each see every item. Items are buffered only as far
 * as the fastest consumer is ahead of the slowest, so consume the branches concurrently.
 */
export function tee<T>(source: AnyIterable<T>, n = 2): AsyncGenerator<T>[] {
  const iterator =
    Symbol.asyncIterator in source
      ? (source as AsyncIterable<T>)[Symbol.asyncIterator]()
      : toAsyncIterable(source)[Symbol.asyncIterator]();
  const buffers: T[][] = Array.from({ length: n }, () => []);
  const active = new Array<boolean>(n).fill(true);
  let done = false;
  let pending: Promise<void> | undefined;
  const pull = async (): Promise<void> => {
    const r = await iterator.next();
    if (r.done) {
      done = true;
      return;
    }
    for (let i = 0; i < n; i++) if (active[i]) buffers[i]?.push(r.value);
  };
  const branch = async function* (i: number): AsyncGenerator<T> {
    const buf = buffers[i] as T[];
    try {
      for (;;) {
        if (buf.length > 0) {
          yield buf.shift() as T;
          continue;
        }
        if (done) return;
        pending ??= pull().finally(() => {
          pending = undefined;
        });
        await pending;
      }
    } finally {
      active[i] = false;
      buf.length = 0;
      if (!active.some(Boolean) && !done) await iterator.return?.();
    }
  };
  return Array.from({ length: n }, (_, i) => branch(i));
}

/**
 * Interleaves several sources, yielding items as they become available (no ordering guarantee
 * across sources). Closes every source when the consumer stops.
 */
export async function* merge<T>(
  ...sources: AnyIterable<T>[]
): AsyncGenerator<T> {
  const iterators = sources.map((s) =>
    toAsyncIterable(s)[Symbol.asyncIterator](),
  );
  const nextOf = (i: number) =>
    (iterators[i] as AsyncIterator<T>).next().then((r) => ({ i, r }));
  const inflight = new Map<
    number,
    Promise<{ i: number; r: IteratorResult<T> }>
  >();
  iterators.forEach((_, i) => inflight.set(i, nextOf(i)));
  try {
    while (inflight.size > 0) {
      const { i, r } = await Promise.race(inflight.values());
      if (r.done) {
        inflight.delete(i);
        continue;
      }
      inflight.set(i, nextOf(i));
      yield r.value;
    }
  } finally {
    await Promise.allSettled(iterators.map((it) => it.return?.(undefined)));
  }
}

/**
 * Merges sources that are each sorted by `key` into one sorted stream (k-way merge, memory =
 * one item per source). Items of equal key come in `tie` order when it is given (negative: the
 * first argument first), then in the order of the sources.
 */
export async function* mergeSorted<T>(
  sources: AnyIterable<T>[],
  key: (item: T) => number,
  tie?: (a: T, b: T) => number,
): AsyncGenerator<T> {
  const its = sources.map((s) => toAsyncIterable(s)[Symbol.asyncIterator]());
  const heads: (T | undefined)[] = await Promise.all(
    its.map(async (it) => {
      const r = await it.next();
      return r.done ? undefined : r.value;
    }),
  );
  try {
    for (;;) {
      let best = -1;
      let bestKey = Infinity;
      for (let i = 0; i < heads.length; i++) {
        const h = heads[i];
        if (h === undefined) continue;
        const k = key(h);
        if (
          best === -1 ||
          k < bestKey ||
          (k === bestKey && tie !== undefined && tie(h, heads[best] as T) < 0)
        ) {
          best = i;
          bestKey = k;
        }
      }
      if (best === -1) return;
      yield heads[best] as T;
      const r = await (its[best] as AsyncIterator<T>).next();
      heads[best] = r.done ? undefined : r.value;
    }
  } finally {
    await Promise.allSettled(its.map((it) => it.return?.(undefined)));
  }
}

/** Collects an iterable into an array. For tests and small inputs only: never on a whole trace. */
export async function collect<T>(source: AnyIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of source) out.push(item);
  return out;
}
