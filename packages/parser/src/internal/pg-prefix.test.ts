import { CompiledPrefix, detectPgPrefix } from './pg-prefix';

describe('CompiledPrefix', () => {
  it('matches the samples’ prefix, with %q cutting non-session lines', () => {
    const p = new CompiledPrefix('%m [%p] %q%u@%d/%a ');
    const m = p.match(
      '2026-11-24 11:01:22.901 UTC [17514] bench@bench/pg bench app LOG:  statement: SELECT 1',
    );
    expect(m).toMatchObject({
      timeUs: Date.UTC(2026, 10, 24, 11, 1, 22, 901) * 1000,
      pid: '17514',
      user: 'bench',
      database: 'bench',
      application: 'pg bench app',
      severity: 'LOG',
    });
    const line = '2026-11-24 11:01:25.063 UTC [17367] LOG:  received SIGHUP';
    expect(p.match(line)?.pid).toBe('17367');
    expect(line.slice(p.match(line)?.messageStart)).toBe('received SIGHUP');
    expect(p.match('garbage LOG:  x')).toBeUndefined();
  });

  it('reads %t %r %c %x %v %e %l %h %n and time zones', () => {
    const rds = new CompiledPrefix('%t:%r:%u@%d:[%p]:');
    expect(rds.timeResolutionUs).toBe(1_000_000);
    expect(
      rds.match(
        '2026-11-24 13:33:03 CET:10.0.0.1(46800):u@d:[10874]:ERROR:  x',
      ),
    ).toMatchObject({
      timeUs: Date.UTC(2026, 10, 24, 12, 33, 3) * 1000,
      client: '10.0.0.1:46800',
      pid: '10874',
      severity: 'ERROR',
    });
    const full = new CompiledPrefix('%n [%p-%l] %c %x %v %e %h ');
    expect(
      full.match(
        '1764000000.123 [42-7] 6b056eb3.4ad1 731 3/55 42P01 ::1 STATEMENT:  SELECT',
      ),
    ).toMatchObject({
      timeUs: 1764000000123000,
      pid: '42',
      sessionKey: '6b056eb3.4ad1',
      xid: '731',
      vxid: '3/55',
      sqlstate: '42P01',
      client: '::1',
      severity: 'STATEMENT',
    });
    const tz = new CompiledPrefix('%m ');
    expect(tz.match('2026-06-01 12:00:00.000 +0530 LOG:  x')?.timeUs).toBe(
      Date.UTC(2026, 5, 1, 6, 30) * 1000,
    );
    expect(tz.match('2026-06-01 12:00:00.000 -03 LOG:  x')?.timeUs).toBe(
      Date.UTC(2026, 5, 1, 15, 0) * 1000,
    );
    expect(tz.match('2026-06-01 12:00:00.000 XYZT LOG:  x')).toBeUndefined();
    expect(() => new CompiledPrefix('%Z')).toThrow(/%Z/);
  });

  it('detects the prefix that matches most lines', () => {
    const sample = [
      '2026-11-24 11:01:22 UTC [17514]: [3-1] user=bench,db=bench,app=pgbench,client=127.0.0.1 LOG:  statement: SELECT 1',
      '2026-11-24 11:01:22 UTC [17514]: [4-1] user=bench,db=bench,app=pgbench,client=127.0.0.1 LOG:  statement: SELECT 2',
      '\tcontinued',
    ];
    expect(detectPgPrefix(sample)).toMatchObject({
      prefix: { prefix: '%t [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h ' },
      score: 1,
    });
  });
});
