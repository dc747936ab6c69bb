/**
 * A bounded reorder buffer: a min-heap on (key, arrival sequence). Items leave once the newest key
 * is more than `windowUs` past theirs, or when the buffer holds `maxItems`.
 */
export class ReorderBuffer<T> {
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
    return this.#items.length;
  }

  #less(a: number, b: number): boolean {
    const ka = this.#keys[a] as number;
    const kb = this.#keys[b] as number;
    return ka < kb || (ka === kb && (this.#seqs[a] as number) < (this.#seqs[b] as number));
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
    let i = this.#items.length;
    this.#keys.push(key);
    this.#seqs.push(this.#seq++);
    this.#items.push(item);
    if (key > this.#maxKey) this.#maxKey = key;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.#less(i, p)) break;
      this.#swap(i, p);
      i = p;
    }
  }

  #pop(): T {
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

  /** Items that are ready (all of them when `all`), in key order. */
  *drain(all = false): Generator<T> {
    const limit = this.#maxKey - this.windowUs;
    while (this.#items.length > 0) {
      if (all || (this.#keys[0] as number) <= limit) yield this.#pop();
      else if (this.#items.length > this.maxItems) {
        this.overflowed++;
        yield this.#pop();
      } else break;
    }
  }
}
