/**
 * A bounded reorder buffer. Items leave in (key, arrival) order once the newest key is more than
 * `windowUs` past theirs, or early when the buffer holds more than `maxItems` (counted in
 * `overflowed`). Logs are nearly sorted, so items arriving in key order go to a FIFO run and only
 * the stragglers to a min-heap; the two are merged on the way out.
 */
export class ReorderBuffer<T> {
  // FIFO run of items whose keys never decrease
  #runKeys: number[] = [];
  #runItems: T[] = [];
  #runHead = 0;
  // min-heap on (key, seq) for items that arrived out of order
  readonly #keys: number[] = [];
  readonly #seqs: number[] = [];
  readonly #items: T[] = [];
  #runSeqs: number[] = [];
  #seq = 0;
  #maxKey = Number.NEGATIVE_INFINITY;
  /** Items released early because the buffer was full. */
  overflowed = 0;

  constructor(
    readonly windowUs: number,
    readonly maxItems: number,
  ) {}

  get size(): number {
    return this.#runKeys.length - this.#runHead + this.#items.length;
  }

  #less(a: number, b: number): boolean {
    const ka = this.#keys[a] as number;
    const kb = this.#keys[b] as number;
    return (
      ka < kb ||
      (ka === kb && (this.#seqs[a] as number) < (this.#seqs[b] as number))
    );
  }

  #swap(a: number, b: number): void {
    const k = this.#keys[a] as number;
    this.#keys[a] = this.#keys[b] as number;
    this.#keys[b] = k;
    const s = this.#seqs[a] as number;
    this.#seqs[a] = this.#seqs[b] as number;
    this.#seqs[b] = s;
    const it = this.#items[a] as T;
    this.#items[a] = this.#items[b] as T;
    this.#items[b] = it;
  }

  /** Adds an item; then call {@link drain} to take what is ready. */
  push(key: number, item: T): void {
    const seq = this.#seq++;
    if (key >= this.#maxKey) {
      this.#maxKey = key;
      this.#runKeys.push(key);
      this.#runSeqs.push(seq);
      this.#runItems.push(item);
      return;
    }
    let i = this.#items.length;
    this.#keys.push(key);
    this.#seqs.push(seq);
    this.#items.push(item);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.#less(i, p)) break;
      this.#swap(i, p);
      i = p;
    }
  }

  #popHeap(): T {
    const top = this.#items[0] as T;
    const last = this.#items.length - 1;
    this.#swap(0, last);
    this.#keys.pop();
    this.#seqs.pop();
    this.#items.pop();
    let i = 0;
    const n = this.#items.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.#less(l, m)) m = l;
      if (r < n && this.#less(r, m)) m = r;
      if (m === i) break;
      this.#swap(i, m);
      i = m;
    }
    return top;
  }

  #popRun(): T {
    const h = this.#runHead++;
    const item = this.#runItems[h] as T;
    if (this.#runHead >= 4096 && this.#runHead * 2 >= this.#runKeys.length) {
      this.#runKeys = this.#runKeys.slice(this.#runHead);
      this.#runSeqs = this.#runSeqs.slice(this.#runHead);
      this.#runItems = this.#runItems.slice(this.#runHead);
      this.#runHead = 0;
    }
    return item;
  }

  /** The next ready item (any item when `all`), in key order; undefined when none is ready. */
  pop(all = false): T | undefined {
    const hasRun = this.#runHead < this.#runKeys.length;
    const hasHeap = this.#items.length > 0;
    if (!hasRun && !hasHeap) return undefined;
    let fromRun: boolean;
    if (hasRun && hasHeap) {
      const rk = this.#runKeys[this.#runHead] as number;
      const hk = this.#keys[0] as number;
      fromRun =
        rk < hk ||
        (rk === hk &&
          (this.#runSeqs[this.#runHead] as number) < (this.#seqs[0] as number));
    } else fromRun = hasRun;
    const key = fromRun
      ? (this.#runKeys[this.#runHead] as number)
      : (this.#keys[0] as number);
    if (!all && key > this.#maxKey - this.windowUs) {
      if (this.size <= this.maxItems) return undefined;
      this.overflowed++;
    }
    return fromRun ? this.#popRun() : this.#popHeap();
  }
}
