import type { Dialect, ParamValue } from '@stb/core';
import { runBench } from '../../src/runner';
import type { BenchOptions } from '../../src/runner';
import { TraceBuilder, interleave, template } from './trace';

/** How to reach a scratch target and read state back from it. */
export interface DbPluginSuiteOptions {
  readonly dialect: Dialect;
  /** Creates a scratch target, or null to skip (server unreachable). */
  readonly createTarget: () => Promise<{
    target: string;
    query: (sql: string) => Promise<Record<string, unknown>[]>;
    drop: () => Promise<void>;
  } | null>;
  /** SQL expression naming the server connection (pg_backend_pid(), CONNECTION_ID()), or null. */
  readonly connectionIdExpr: string | null;
  /** SQL expression naming the current transaction (txid_current()), or null. */
  readonly txnIdExpr: string | null;
  /** Extra runner options (workers, connections). */
  readonly runOptions?: Partial<BenchOptions>;
  /** DDL of `kv(id int primary key, v int)` and `txlog(sess, txn, conn, xid)`. */
  readonly setupSql: string;
}

const int = (v: number): ParamValue => ({ t: 'int', v });
const str = (v: string): ParamValue => ({ t: 'string', v });

/**
 * The DB plugin conformance suite: one call per plugin. Runs a known trace on a scratch target
 * and checks exact per-template counts, server-side effects, transactions on one connection and
 * error classification.
 */
export function describeDbPlugin(name: string, o: DbPluginSuiteOptions): void {
  describe(`db plugin ${name}`, () => {
    let t: Awaited<ReturnType<DbPluginSuiteOptions['createTarget']>> = null;
    beforeAll(async () => {
      t = await o.createTarget();
    }, 60_000);
    afterAll(async () => {
      await t?.drop();
    }, 60_000);

    const d = o.dialect;
    const begin = template(d, 'BEGIN', 'TCL');
    const commit = template(d, 'COMMIT', 'TCL');
    const ins = template(d, 'INSERT INTO kv (id, v) VALUES ($1, $2)', 'INSERT');
    const sel = template(d, 'SELECT v FROM kv WHERE id = $1', 'SELECT');
    const upd = template(d, 'UPDATE kv SET v = v + $2 WHERE id = $1', 'UPDATE');
    const inList = template(
      d,
      'SELECT id FROM kv WHERE id IN ($1) AND v >= $2',
      'SELECT',
    );
    const log = template(
      d,
      `INSERT INTO txlog (sess, txn, conn, xid) VALUES ($1, $2, ${o.connectionIdExpr ?? '0'}, ${o.txnIdExpr ?? '0'})`,
      'INSERT',
    );
    const dup = template(d, 'INSERT INTO kv (id, v) VALUES ($1, 0)', 'INSERT');

    it('executes a known trace with exact counts per template and the right effects', async () => {
      if (!t) return;
      const sessions = 6;
      const txns = 5;
      const b = new TraceBuilder(d);
      const perSession: [string, typeof ins, ParamValue[]][][] = [];
      for (let s = 0; s < sessions; s++) {
        const list: [string, typeof ins, ParamValue[]][] = [];
        for (let x = 0; x < txns; x++) {
          const id = s * 1000 + x;
          list.push([`s${s}`, begin, []]);
          list.push([`s${s}`, ins, [int(id), int(1)]]);
          list.push([`s${s}`, log, [str(`s${s}`), int(x)]]);
          list.push([`s${s}`, upd, [int(id), int(2)]]);
          list.push([`s${s}`, sel, [int(id)]]);
          list.push([`s${s}`, log, [str(`s${s}`), int(x)]]);
          list.push([`s${s}`, commit, []]);
          list.push([
            `s${s}`,
            inList,
            [{ t: 'list', v: [int(id), int(id - 1), int(-1)] }, int(0)],
          ]);
        }
        perSession.push(list);
      }
      for (const [sid, tpl, params] of interleave(perSession))
        b.add(sid, tpl, params);
      const result = await runBench(b.trace(), {
        target: t.target,
        mode: 'closed',
        connections: 3,
        setup: { sql: o.setupSql, name: 'setup.sql' },
        ...o.runOptions,
      });
      expect(result.status).toBe('completed');
      expect(result.overall.errors).toBe(0);
      const counts = Object.fromEntries(
        result.templates.map((x) => [x.templateId, x.count]),
      );
      expect(counts).toEqual(Object.fromEntries(b.counts));
      expect(result.overall.count).toBe(b.events.length);
      expect(result.sessions).toEqual({
        total: sessions,
        completed: sessions,
        aborted: 0,
      });
      // rows: each SELECT v finds its row; the IN-list finds id and id-1 (except in the first transaction)
      const selStats = result.templates.find((x) => x.templateId === sel.id);
      expect(selStats?.rows).toBe(sessions * txns);
      expect(selStats?.zeroRowShare).toBe(0);
      const inStats = result.templates.find((x) => x.templateId === inList.id);
      expect(inStats?.rows).toBe(sessions * (2 * txns - 1));
      const rows = await t.query('SELECT COUNT(*) AS n, SUM(v) AS s FROM kv');
      expect(Number(rows[0]?.['n'])).toBe(sessions * txns);
      expect(Number(rows[0]?.['s'])).toBe(sessions * txns * 3);
      // transactions intact: both log rows of a transaction share connection and transaction id
      const groups = await t.query(
        'SELECT sess, txn, COUNT(*) AS n, COUNT(DISTINCT conn) AS c, COUNT(DISTINCT xid) AS x FROM txlog GROUP BY sess, txn',
      );
      expect(groups).toHaveLength(sessions * txns);
      for (const g of groups) {
        expect(Number(g['n'])).toBe(2);
        expect(Number(g['c'])).toBe(1);
        expect(Number(g['x'])).toBe(1);
      }
      if (o.txnIdExpr !== null) {
        const x = await t.query('SELECT COUNT(DISTINCT xid) AS x FROM txlog');
        expect(Number(x[0]?.['x'])).toBe(sessions * txns);
      }
    }, 60_000);

    it('counts failed queries by class and keeps running', async () => {
      if (!t) return;
      const b = new TraceBuilder(d);
      for (let i = 0; i < 20; i++)
        b.add('e1', dup, [int(5_000_000 + (i % 10))]);
      const result = await runBench(b.trace(), {
        target: t.target,
        mode: 'closed',
        connections: 1,
        ...o.runOptions,
      });
      expect(result.status).toBe('completed');
      expect(result.overall.count).toBe(20);
      expect(result.overall.ok).toBe(10);
      expect(result.overall.errors).toBe(10);
      const classes = Object.keys(result.overall.errorsByClass);
      expect(classes).toHaveLength(1);
      expect(result.overall.errorsByClass[classes[0] as string]).toBe(10);
    }, 60_000);

    it('stops at the first error with failFast', async () => {
      if (!t) return;
      const b = new TraceBuilder(d);
      for (let i = 0; i < 2000; i++) b.add('f1', dup, [int(6_000_000)]);
      const result = await runBench(b.trace(), {
        target: t.target,
        mode: 'closed',
        connections: 1,
        failFast: true,
        ...o.runOptions,
      });
      expect(result.status).toBe('failed');
      expect(result.stopReason).toBe('fail-fast');
      expect(result.overall.count).toBeLessThan(2000);
      // events read but not run; the reader stops early, so some were never read
      expect(result.overall.count + result.skipped.notRun).toBeLessThanOrEqual(
        2000,
      );
      expect(result.overall.errors).toBeGreaterThanOrEqual(1);
    }, 60_000);
  });
}
