import type { BenchIncident, BenchResult } from '@stb/core';
import {
  nothingMeasured,
  runEnding,
  sessionsGaveUp,
  targetLost,
} from '../src/commands/bench';

// What `stb bench` says, and so how it exits, for runs that ended short of their trace: the
// checks read only the result, so each case is a result with the fields they read. The processes
// behind them run in bench-server-full.test.ts and bench-target-lost.test.ts.

const GAVE_UP =
  'A session could not connect within the reconnect timeout (1 s) and was aborted; the last attempt: Cannot connect to postgres://u@127.0.0.1:5432/d: too many connections for database "d". The server refused more connections: lower --connections (-c) or raise its limit.';

function result(o: {
  count?: number;
  stopReason?: string;
  sessions: BenchResult['sessions'];
  notRun?: number;
  incidents?: BenchIncident[];
  outages?: NonNullable<BenchResult['faults']['outages']>;
}): BenchResult {
  return {
    status: o.stopReason === undefined ? 'completed' : 'stopped',
    ...(o.stopReason !== undefined ? { stopReason: o.stopReason } : {}),
    warmupSeconds: 0,
    overall: { count: o.count ?? 100 },
    sessions: o.sessions,
    skipped: { readOnly: 0, notRun: o.notRun ?? 0 },
    faults: {
      reconnects: 0,
      workerCrashes: 0,
      incidents: o.incidents ?? [],
      ...(o.outages !== undefined ? { outages: o.outages } : {}),
    },
  } as unknown as BenchResult;
}

const gaveUp = (n: number): BenchIncident[] =>
  Array.from({ length: n }, (_, i) => ({
    kind: 'connection-lost',
    message: GAVE_UP,
    atMs: 1000 + i,
  }));

it('a session that gave up while the run went on: one line, whatever stopped the run', () => {
  for (const stopReason of [undefined, 'duration', 'max-queries']) {
    const r = result({
      stopReason,
      sessions: { total: 4, completed: 3, aborted: 1, gaveUp: 1 },
      notRun: 120,
      incidents: gaveUp(1),
    });
    expect(targetLost(r, 'r.json')).toBeUndefined();
    expect(sessionsGaveUp(r, 'r.json')).toBe(
      `[stb] [bench] 1 of 4 sessions could not connect and were aborted while the run went on (120 events not run in all), so the result (in r.json) holds less load than the trace's. ${GAVE_UP}`,
    );
  }
});

it("counts the sessions that gave up from the result's count, not from the incidents (the first 100 are listed)", () => {
  const reconnects: BenchIncident[] = Array.from({ length: 100 }, () => ({
    kind: 'reconnect',
    message: 'Connection lost (57P01); the session reconnects.',
    atMs: 10,
  }));
  const r = result({
    stopReason: 'duration',
    sessions: { total: 200, completed: 50, aborted: 150, gaveUp: 150 },
    incidents: reconnects,
  });
  expect(sessionsGaveUp(r, undefined)).toMatch(
    /^\[stb\] \[bench\] 150 of 200 sessions could not connect and were aborted while the run went on \(0 events not run in all\), so the result holds less load than the trace's\.$/,
  );
});

it('sessions aborted by a worker crash, a stop or a lost target are not sessions that gave up', () => {
  const crashed = result({
    sessions: { total: 4, completed: 2, aborted: 2, gaveUp: 0 },
    incidents: [
      {
        kind: 'worker-crashed',
        message:
          'Worker 1 crashed (exit 1); its 2 sessions are counted as aborted.',
        atMs: 5,
      },
    ],
  });
  expect(sessionsGaveUp(crashed, undefined)).toBeUndefined();
  const stopped = result({
    stopReason: 'duration',
    sessions: { total: 4, completed: 0, aborted: 4, gaveUp: 0 },
  });
  expect(sessionsGaveUp(stopped, undefined)).toBeUndefined();
  // a result of an earlier version has no count
  const v4 = result({ sessions: { total: 4, completed: 4, aborted: 0 } });
  expect(sessionsGaveUp(v4, undefined)).toBeUndefined();
  // the lost target's own line says it
  const lost = result({
    stopReason: 'target lost',
    sessions: { total: 4, completed: 0, aborted: 4, gaveUp: 1 },
    incidents: gaveUp(1),
  });
  expect(sessionsGaveUp(lost, undefined)).toBeUndefined();
  expect(targetLost(lost, undefined)).toMatch(
    /^\[stb\] \[bench\] The target became unreachable/,
  );
  const interrupted = result({
    stopReason: 'signal',
    sessions: { total: 4, completed: 0, aborted: 4, gaveUp: 1 },
  });
  expect(sessionsGaveUp(interrupted, undefined)).toBeUndefined();
});

it('every session gave up and nothing was measured: the sessions line, not "Nothing was measured" (exit 3, not 2)', () => {
  const r = result({
    count: 0,
    sessions: { total: 2, completed: 0, aborted: 2, gaveUp: 2 },
    notRun: 600,
    incidents: gaveUp(2),
  });
  const opts = { mode: 'closed' as const };
  expect(nothingMeasured(r, opts)).toBeUndefined();
  expect(sessionsGaveUp(r, undefined)).toMatch(
    /^\[stb\] \[bench\] 2 of 2 sessions could not connect/,
  );
  // without sessions that gave up, nothing measured is said as before
  const none = result({
    count: 0,
    sessions: { total: 2, completed: 2, aborted: 0, gaveUp: 0 },
  });
  expect(nothingMeasured(none, opts)).toMatch(
    /^\[stb\] \[cli\] Nothing was measured/,
  );
});

it('--duration stopped the run while the target was unreachable: one line, not exit 0', () => {
  const outage = {
    start: '2026-12-07T01:00:02.500Z',
    startMs: 2500,
    durationMs: 1500,
    failedQueries: 4,
  };
  const sessions = { total: 4, completed: 0, aborted: 0, gaveUp: 0 };
  const open = result({
    stopReason: 'duration',
    sessions,
    outages: [{ ...outage, unresolved: true }],
  });
  expect(targetLost(open, 'r.json')).toBe(
    '[stb] [bench] The target became unreachable 2.5 s into the run and still was when --duration stopped the run (an outage of 1.5 s until the run ended, 4 queries failed), so the result (in r.json) covers only what ran before.',
  );
  // lost within the warm-up: the loss is said (exit 3, the result written), not "Nothing was
  // measured" (exit 2, no result)
  const inWarmup = { ...open, overall: { count: 0 } } as BenchResult;
  expect(nothingMeasured(inWarmup, { mode: 'replay' })).toBeUndefined();
  expect(targetLost(inWarmup, undefined)).toMatch(
    /^\[stb\] \[bench\] The target became unreachable 2\.5 s into the run and still was/,
  );
  // the target answered again before the stop: an outage the result lists, not a lost target
  const over = result({ stopReason: 'duration', sessions, outages: [outage] });
  expect(targetLost(over, 'r.json')).toBeUndefined();
  // a signal says what happened itself (exit 130)
  const interrupted = result({
    stopReason: 'signal',
    sessions,
    outages: [{ ...outage, unresolved: true }],
  });
  expect(targetLost(interrupted, 'r.json')).toBeUndefined();
});

it('a crashed worker: one line and exit 70; with a lost target, exit 3 and both lines; a worker given up at a stop is no crash', () => {
  const crash: BenchIncident = {
    kind: 'worker-crashed',
    message: 'Worker 1 crashed (boom); its 2 sessions are counted as aborted.',
    atMs: 5,
  };
  const sessions = { total: 4, completed: 2, aborted: 2, gaveUp: 0 };
  const crashed = result({ sessions, notRun: 30, incidents: [crash] });
  expect(runEnding(crashed, { out: 'r.json' })).toEqual({
    lines: [
      "[stb] [bench] 1 worker thread crashed while the run went on (2 of 4 sessions aborted, 30 events not run in all), so the result (in r.json) holds less load than the trace's. Worker 1 crashed (boom); its 2 sessions are counted as aborted. A crash is a bug, in the DB plugin or in stb: rerun with --debug and report it.",
    ],
    code: 70,
  });
  // every worker crashed before a measurement reached the main thread: the crash is said
  const none = result({ count: 0, sessions, incidents: [crash] });
  expect(nothingMeasured(none, { mode: 'closed' })).toBeUndefined();
  // with a lost target: its code, and both lines
  const both = result({
    stopReason: 'target lost',
    sessions,
    incidents: [crash, ...gaveUp(1)],
  });
  const ending = runEnding(both, { out: undefined });
  expect(ending.code).toBe(3);
  expect(ending.lines).toEqual([
    expect.stringMatching(/^\[stb\] \[bench\] The target became unreachable/),
    expect.stringMatching(/^\[stb\] \[bench\] 1 worker thread crashed/),
  ]);
  // a worker that did not finish within the stop's grace is given up (an `aborted` incident)
  const abandoned = result({
    stopReason: 'duration',
    sessions,
    incidents: [
      {
        kind: 'aborted',
        message:
          'Worker 0 did not finish within the stop grace period + 1 s and was abandoned; its 2 sessions are counted as aborted.',
        atMs: 9,
      },
    ],
  });
  expect(runEnding(abandoned, { out: undefined })).toEqual({
    lines: [],
    code: undefined,
  });
});

it('a signal in the grace period of a --duration stop: exit 130 and one line, though the run stopped for its duration', () => {
  const sessions = { total: 1, completed: 1, aborted: 0, gaveUp: 0 };
  const r = result({ stopReason: 'duration', sessions });
  expect(runEnding(r, { out: 'r.json' })).toEqual({
    lines: [],
    code: undefined,
  });
  expect(runEnding(r, { out: 'r.json', interrupted: true })).toEqual({
    lines: [
      '[stb] Interrupted while the run was ending (stopped by duration): statements still running were cancelled; the result is in r.json.',
    ],
    code: 130,
  });
  // a --fail-fast failure keeps its own code
  const failed = { ...r, status: 'failed' } as BenchResult;
  expect(runEnding(failed, { out: undefined, interrupted: true }).code).toBe(1);
});
