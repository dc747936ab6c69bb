/** Something ordered by time, ties broken by a unique index (session or stream index). */
export interface Timed {
  timeUs: number;
  index: number;
}

function less(a: Timed, b: Timed): boolean {
  return a.timeUs < b.timeUs || (a.timeUs === b.timeUs && a.index < b.index);
}

/**
 * A binary min-heap over `(timeUs, index)`. Items are re-keyed in place: change the top's
 * `timeUs` and call {@link TimedHeap.fixTop} instead of pop + push.
 */
export class TimedHeap<T extends Timed> {
  readonly #items: T[] = [];

  get size(): number {
    return this.#items.length;
  }

  peek(): T | undefined {
    return this.#items[0];
  }

  push(item: T): void {
    const a = this.#items;
    a.push(item);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = a[p] as T;
      if (!less(item, parent)) break;
      a[i] = parent;
      i = p;
    }
    a[i] = item;
  }

  pop(): T | undefined {
    const a = this.#items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last !== undefined) {
      a[0] = last;
      this.#down(0);
    }
    return top;
  }

  /** Restores the order after the top item's key grew. */
  fixTop(): void {
    if (this.#items.length > 1) this.#down(0);
  }

  /** Removes and returns every item, in no particular order. */
  drain(): T[] {
    return this.#items.splice(0);
  }

  #down(start: number): void {
    const a = this.#items;
    const n = a.length;
    const item = a[start] as T;
    let i = start;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      if (r < n && less(a[r] as T, a[l] as T)) c = r;
      const child = a[c] as T;
      if (!less(child, item)) break;
      a[i] = child;
      i = c;
    }
    a[i] = item;
  }
}
