import {
  batch,
  collect,
  filter,
  map,
  merge,
  mergeSorted,
  take,
  tap,
  tee,
} from './streams';

async function* count(n: number, onClose?: () => void): AsyncGenerator<number> {
  try {
    for (let i = 0; i < n; i++) yield i;
  } finally {
    onClose?.();
  }
}

describe('stream operators', () => {
  it('map, filter, tap', async () => {
    const seen: number[] = [];
    const out = await collect(
      tap(
        filter(
          map(count(6), (x) => x * 2),
          (x) => x % 4 === 0,
        ),
        (x) => {
          seen.push(x);
        },
      ),
    );
    expect(out).toEqual([0, 4, 8]);
    expect(seen).toEqual(out);
  });

  it('batch groups and keeps the remainder', async () => {
    expect(await collect(batch(count(7), 3))).toEqual([
      [0, 1, 2],
      [3, 4, 5],
      [6],
    ]);
    // a coded StbError (issue 15), no longer a plain RangeError
    await expect(batch([1], 0).next()).rejects.toMatchObject({
      code: 'STB_OPTIONS_INVALID',
    });
  });

  it('take stops early and closes its source', async () => {
    let closed = false;
    expect(
      await collect(
        take(
          count(100, () => (closed = true)),
          3,
        ),
      ),
    ).toEqual([0, 1, 2]);
    expect(closed).toBe(true);
  });

  it('tee gives every branch every item', async () => {
    const [a, b] = tee(count(5));
    const [ra, rb] = await Promise.all([collect(a!), collect(b!)]);
    expect(ra).toEqual([0, 1, 2, 3, 4]);
    expect(rb).toEqual([0, 1, 2, 3, 4]);
  });

  it('merge yields every item of every source', async () => {
    const out = await collect(merge(count(3), [10, 11], count(2)));
    expect(out.sort((x, y) => x - y)).toEqual([0, 0, 1, 1, 2, 10, 11]);
  });

  it('mergeSorted keeps global order', async () => {
    const out = await collect(
      mergeSorted([[1, 4, 9], [2, 3, 10], []], (x) => x),
    );
    expect(out).toEqual([1, 2, 3, 4, 9, 10]);
  });
});
