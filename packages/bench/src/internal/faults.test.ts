import { errorKey, OutageTracker } from './faults';

// Outage windows from the statements' (and connections') outcomes, as the aggregator takes them:
// batch after batch, each worker's in its own order.

const LOST = errorKey(
  {
    ok: false,
    rows: 0,
    errorClass: 'connection',
    errorCode: 'ECONNRESET',
    connectionLost: true,
  },
  0,
);

const ORIGIN = 1_000_000;

/** The windows after `seen` (end ms, and whether it failed so), taken in that order, 3 s run. */
function windows(
  seen: [number, boolean][],
): ReturnType<OutageTracker['result']> {
  const t = new OutageTracker();
  t.setOrigin(ORIGIN);
  for (const [end, lost] of seen) t.observe(end, lost ? LOST : undefined);
  return t.result(ORIGIN + 3000);
}

it('a window opens at the first connection error and closes at the next success after it', () => {
  const t = new OutageTracker();
  t.setOrigin(Date.UTC(2026, 11, 7));
  t.observe(100, undefined);
  t.observe(200, LOST);
  t.observe(250, LOST);
  // a statement that ended before the window opened does not close it
  t.observe(150, undefined);
  t.observe(900, undefined);
  expect(t.result(Date.UTC(2026, 11, 7) + 5000)).toEqual([
    {
      start: '2026-12-07T00:00:00.200Z',
      startMs: 200,
      durationMs: 700,
      failedQueries: 2,
    },
  ]);
});

it('a window still open at the end lasts until the end and is unresolved', () => {
  expect(windows([[200, true]])).toEqual([
    expect.objectContaining({
      startMs: 200,
      durationMs: 2800,
      failedQueries: 1,
      unresolved: true,
    }),
  ]);
});

it("a success taken before the failures but later than them (another worker's batch) ends the window", () => {
  // worker 2's batch arrives first: its statement succeeded at 500; then worker 1's, with a
  // connection lost at 300
  const [w] = windows([
    [500, false],
    [300, true],
  ]);
  expect(w).toEqual({
    start: new Date(ORIGIN + 300).toISOString(),
    startMs: 300,
    durationMs: 200,
    failedQueries: 1,
  });
});

it('a success between the failures does not end a window that failed again after it', () => {
  expect(
    windows([
      [400, false],
      [300, true],
      [700, true],
    ]),
  ).toEqual([expect.objectContaining({ startMs: 300, unresolved: true })]);
});
