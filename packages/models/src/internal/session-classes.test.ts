import {
  ConnKeys,
  SessionProfiles,
  SessionRole,
  classConns,
  classifySessions,
  connLabel,
} from './session-classes';

/** A session of `n` statements from `firstS` to `lastS` (seconds), gaps ≤ `maxGapS`. */
function session([firstS, lastS, maxGapS, n = 20, conn = 0]: number[]) {
  return {
    conn,
    firstUs: (firstS as number) * 1e6,
    lastStartUs: (lastS as number) * 1e6,
    lastEndUs: (lastS as number) * 1e6 + 1000,
    events: n,
    maxGapUs: (maxGapS as number) * 1e6,
    dominant: 0,
  };
}

describe('classifySessions: session roles (issue 13)', () => {
  it('counts long-lived sessions stopped with the workload as pooled, short ones not', () => {
    // pgbench -c 60 -R 150 -T 8: clients connect at 2.7–3.2 s and stop over the last second
    // (7.75–8.84 s), each more than twice its largest gap (~0.5 s) from the capture's end
    const p = new SessionProfiles();
    p.add(session([0, 0.04, 0.01, 5]), true); // the setup connection
    p.add(session([2.72, 7.75, 0.48]), true); // stopped with the run, 1.09 s before its end
    p.add(session([3.1, 8.84, 0.5]), true); // the capture's last statement
    p.add(session([2.9, 5.0, 0.4]), true); // ended by itself, mid-capture
    p.add(session([8.5, 8.8, 0.1, 4]), true); // short, near the end: not long-lived
    const c = classifySessions(p, 1000);
    expect(Array.from(c.roleOf)).toEqual([
      SessionRole.Initial,
      SessionRole.Pool,
      SessionRole.Pool,
      SessionRole.Arrival,
      SessionRole.Arrival,
    ]);
  });
});

describe('classifySessions: connection attributes first (issue 13)', () => {
  it('keeps sessions of different users apart even when they behave alike, each class with its attributes', () => {
    const keys = new ConnKeys();
    const web = keys.intern({
      user: 'web',
      database: 'shop',
      application: 'web',
    });
    const admin = keys.intern({
      application: 'admin',
      user: 'ops',
      database: 'shop',
    });
    // the same attributes in another key order are the same set
    expect(
      keys.intern({ application: 'web', database: 'shop', user: 'web' }),
    ).toBe(web);
    expect(keys.intern(undefined)).toBe(0);
    const p = new SessionProfiles();
    for (let i = 0; i < 10; i++)
      p.add(session([1 + i * 0.5, 1.2 + i * 0.5, 0.1, 4, web]), false);
    for (let i = 0; i < 6; i++)
      p.add(session([1.1 + i * 0.5, 1.3 + i * 0.5, 0.1, 4, admin]), false);
    const withConn = classifySessions(p, 1000, { connKeys: keys.keys });
    expect(withConn.classes).toHaveLength(2);
    const conns = withConn.classes.map((c) => classConns(c.conns, 1));
    expect(conns).toEqual([
      [{ user: 'web', database: 'shop', application: 'web', sessions: 10 }],
      [{ user: 'ops', database: 'shop', application: 'admin', sessions: 6 }],
    ]);
    expect(connLabel(conns[0])).toBe(' of web@shop/web');
    // without attributes the same sessions form one class
    const q = new SessionProfiles();
    for (let i = 0; i < 16; i++)
      q.add(session([1 + i * 0.5, 1.2 + i * 0.5, 0.1, 4]), false);
    expect(classifySessions(q, 1000).classes).toHaveLength(1);
  });

  it('drops attributes fewer than k sessions named (strict privacy), counting them as none', () => {
    const m = new Map([
      ['{"user":"alice"}', 2],
      ['{"user":"app"}', 9],
    ]);
    expect(classConns(m, 5)).toEqual([
      { user: 'app', sessions: 9 },
      { sessions: 2 },
    ]);
    expect(classConns(new Map([['', 3]]), 1)).toBeUndefined();
    expect(connLabel(classConns(m, 1))).toBe(' of 2 connection kinds');
  });
});
