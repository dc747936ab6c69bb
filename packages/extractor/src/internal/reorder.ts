/**
 * A bounded reorder buffer. Items leave in (key, arrival) order once the newest key is more than
 * `windowUs` past theirs, or early when the buffer holds more than `maxItems` (counted in
 * `overflowed`). Logs are nearly sorted, so items arriving in key order go to a FIFO run and only
 * the stragglers to a min-heap; the two are merged on the way out.
 */
export class ReorderBuffer<T> {
  // FIFO run of items whose keys never decrease: a ring (keys and arrival numbers in typed
  // arrays), grown by doubling, so a push writes three slots and allocates nothing.
  #runKeys = new Float64Array(1024);
  #runSeqs = new Float64Array(1024);
  #runItems: (T | undefined)[] = new Array<T | undefined>(1024);
  #runHead = 0;
  #runLength = 0;
  // min-heap on (key, seq) for items that arrived out of order
  readonly #keys: number[] = [];
  readonly #seqs: number[] = [];
  readonly #items: T[] = [];
  #seq = 0;
  #maxKey = Number.NEGATIVE_INFINITY;
  /** Items released early because the buffer was full. */
  overflowed = 0;

  constructor(
    readonly windowUs: number,
    readonly maxItems: number,
  ) {}

  get size(): number {
    return this.#runLength + this.#items.length;
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
      if (this.#runLength === this.#runKeys.length) this.#growRun();
      const at = (this.#runHead + this.#runLength) & (this.#runKeys.length - 1);
      this.#runKeys[at] = key;
      this.#runSeqs[at] = seq;
      this.#runItems[at] = item;
      this.#runLength++;
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

  /** Doubles the run's ring, its items in order from slot 0. */
  #growRun(): void {
    const n = this.#runKeys.length;
    const h = this.#runHead;
    const keys = new Float64Array(n * 2);
    const seqs = new Float64Array(n * 2);
    const items = new Array<T | undefined>(n * 2);
    for (let i = 0; i < n; i++) {
      const from = (h + i) & (n - 1);
      keys[i] = this.#runKeys[from] as number;
      seqs[i] = this.#runSeqs[from] as number;
      items[i] = this.#runItems[from];
    }
    this.#runKeys = keys;
    this.#runSeqs = seqs;
    this.#runItems = items;
    this.#runHead = 0;
  }

  #popRun(): T {
    const h = this.#runHead;
    const item = this.#runItems[h] as T;
    this.#runItems[h] = undefined;
    this.#runHead = (h + 1) & (this.#runKeys.length - 1);
    this.#runLength--;
    return item;
  }

  /** The next ready item (any item when `all`), in key order; undefined when none is ready. */
  pop(all = false): T | undefined {
    const hasRun = this.#runLength > 0;
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
