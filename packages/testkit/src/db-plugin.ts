import { computeTemplateId } from '@stb/core';
import type { Dialect, ParamValue, QueryType } from '@stb/core';
import type {
  BenchOptions,
  BoundQuery,
  DbPlugin,
  DbSession,
  ExecOutcome,
  runBench,
} from '@stb/bench';
import { resolveTestFramework } from './framework';
import type { TestFramework } from './framework';
import { expectOptionsAccepted, pluginBaseProblems } from './plugin-shape';
import { TraceBuilder, interleave, template } from './trace-builder';

/** A scratch database the suite may write to. */
export interface DbTestTarget<TOptions> {
  /** Plugin options that reach the scratch database. */
  readonly options: TOptions;
  /** The same target as the runner takes it (URL or config file); needed by the runner checks. */
  readonly target?: string;
  /** Reads state back over an independent connection (runner checks). */
  readonly query?: (sql: string) => Promise<Record<string, unknown>[]>;
  /** Removes the scratch database. */
  readonly drop?: () => Promise<void>;
}

/** Options of {@link describeDbPlugin}. */
export interface DescribeDbPluginOptions<TOptions> {
  /**
   * The scratch target, or a function creating it that returns null to skip (e.g. the server is
   * unreachable; print why, and throw instead when your CI requires the database).
   */
  readonly target:
    DbTestTarget<TOptions> | (() => Promise<DbTestTarget<TOptions> | null>);
  /**
   * DDL of `kv(id int primary key, v int)` and `txlog(sess, txn, conn, xid)`, run by the runner
   * before the runner checks. The default is portable across PostgreSQL, MySQL and SQLite.
   */
  readonly setupSql?: string;
  /** Dialect of the traces the suite replays (default `mysql` for a `mysql` plugin, else `postgres`). */
  readonly traceDialect?: Dialect;
  /** SQL expression naming the server connection (`pg_backend_pid()`, `CONNECTION_ID()`), or null. */
  readonly connectionIdExpr?: string | null;
  /** SQL expression naming the current transaction (`txid_current()`), or null. */
  readonly txnIdExpr?: string | null;
  /**
   * Runner checks: pass `runBench` from `@stb/bench` to replay known traces through the real
   * runner (exact counts per template, transactions on one connection, error classes, fail-fast).
   */
  readonly runner?: {
    readonly runBench: typeof runBench;
    /** Extra runner options (workers, connections, an injected `plugin`). */
    readonly runOptions?: Partial<BenchOptions>;
  };
  /** Test functions (default: jest or vitest globals). */
  readonly framework?: Partial<TestFramework>;
  /** Timeout of each test in ms (default 60 000). */
  readonly timeoutMs?: number;
}

const DEFAULT_SETUP = `
CREATE TABLE kv (id int PRIMARY KEY, v int NOT NULL);
CREATE TABLE txlog (sess varchar(20), txn int, conn bigint, xid bigint);
`;
/** The table the plugin-level checks write (dropped before and after). */
const TABLE = 'stb_conformance';

const int = (v: number): ParamValue => ({ t: 'int', v });
const str = (v: string): ParamValue => ({ t: 'string', v });
/** A bound query; the template id is derived from the text, as in a trace (drivers cache by it). */
const q = (
  text: string,
  queryType: QueryType,
  params: ParamValue[] = [],
): BoundQuery => ({
  templateId: computeTemplateId('postgres', text),
  text,
  queryType,
  params,
});

/**
 * The DB plugin conformance suite. Plugin-level checks talk to the plugin directly: shape and
 * capabilities, connect and close, parameterised DML with row counts (an IN-list parameter too),
 * failures returned as outcomes (never thrown) on a session that stays usable, transactions, and
 * `prepare`. With `runner`, known traces also run through `runBench` on the same target.
 * @example
 * import { describeDbPlugin } from '@stb/testkit';
 * import { plugin } from '../src';
 * describeDbPlugin(plugin, { target: { options: { url: 'mydb://127.0.0.1/test' } } });
 */
// Long function: a conformance suite: a list of independent `it` cases, each short, registered in
// one describe block.
export function describeDbPlugin<TOptions>(
  plugin: DbPlugin<TOptions>,
  options: DescribeDbPluginOptions<TOptions>,
): void {
  const { describe, it, expect, beforeAll, afterAll } = resolveTestFramework(
    options.framework,
  );
  const timeoutMs = options.timeoutMs ?? 60_000;
  let t: DbTestTarget<TOptions> | null = null;

  /**
   * Runs `fn` on a fresh session with a fresh table, closed afterwards (one session at a time:
   * PGlite and SQLite allow one connection).
   */
  const withSession = async (
    fn: (s: DbSession) => Promise<void>,
    fresh = true,
  ): Promise<void> => {
    if (!t) return;
    const s = await plugin.connect(t.options);
    try {
      await s.execute(q(`DROP TABLE IF EXISTS ${TABLE}`, 'DDL'));
      if (fresh)
        await run(
          s,
          q(
            `CREATE TABLE ${TABLE} (id int PRIMARY KEY, v int NOT NULL, s varchar(40))`,
            'DDL',
          ),
        );
      await fn(s);
    } finally {
      await s.close();
    }
  };
  const run = async (s: DbSession, query: BoundQuery): Promise<ExecOutcome> => {
    const out = await s.execute(query);
    if (!out.ok)
      throw new Error(
        `${query.text} failed: ${out.errorCode ?? ''} (${out.errorClass ?? 'no class'})`,
      );
    return out;
  };

  // Long function: a conformance suite: a list of independent `it` cases, each short, registered in
  // one describe block.
  describe(`db plugin ${String(plugin.name)} (conformance)`, () => {
    beforeAll(async () => {
      t =
        typeof options.target === 'function'
          ? await options.target()
          : options.target;
    }, timeoutMs);
    afterAll(async () => {
      try {
        await withSession(async () => undefined, false);
      } finally {
        await t?.drop?.();
      }
    }, timeoutMs);

    it('has the plugin shape: kind, kebab-case name, apiVersion 1, capabilities, dependencies', () => {
      expect(pluginBaseProblems(plugin, 'db')).toEqual([]);
      expect(
        typeof plugin.dialect === 'string' && plugin.dialect.length > 0,
      ).toBe(true);
      const c = plugin.capabilities;
      expect(
        [c.prepared, c.transactions, c.cancel].map((b) => typeof b),
      ).toEqual(['boolean', 'boolean', 'boolean']);
      expect(
        c.maxConnections === null ||
          (Number.isInteger(c.maxConnections) && c.maxConnections >= 1),
      ).toBe(true);
      expect(Array.isArray(plugin.dependencies)).toBe(true);
      expect(typeof plugin.connect).toBe('function');
      if (t) expectOptionsAccepted(expect, plugin, t.options);
    });

    it(
      'connects, reports its server version and closes',
      async () => {
        await withSession(async (s) => {
          expect(typeof s.execute).toBe('function');
          expect(typeof s[Symbol.asyncDispose]).toBe('function');
          if (s.serverVersion) {
            const v = await s.serverVersion();
            expect(typeof v === 'string' && v.length > 0).toBe(true);
          }
        });
      },
      timeoutMs,
    );

    it(
      'runs parameterised statements with row counts, an IN-list parameter too',
      async () => {
        await withSession(async (s) => {
          const ins = `INSERT INTO ${TABLE} (id, v, s) VALUES ($1, $2, $3)`;
          for (const id of [1, 2, 3])
            expect(
              (
                await run(
                  s,
                  q(ins, 'INSERT', [
                    int(id),
                    int(id * 10),
                    id === 3 ? { t: 'null', v: null } : str(`r${id}`),
                  ]),
                )
              ).rows,
            ).toBe(1);
          const sel = `SELECT v, s FROM ${TABLE} WHERE id = $1`;
          expect((await run(s, q(sel, 'SELECT', [int(2)]))).rows).toBe(1);
          expect((await run(s, q(sel, 'SELECT', [int(99)]))).rows).toBe(0);
          const inList = `SELECT id FROM ${TABLE} WHERE id IN ($1) AND v >= $2`;
          expect(
            (
              await run(
                s,
                q(inList, 'SELECT', [
                  { t: 'list', v: [int(1), int(3), int(99)] },
                  int(0),
                ]),
              )
            ).rows,
          ).toBe(2);
          const upd = `UPDATE ${TABLE} SET v = v + $2 WHERE s = $1`;
          expect(
            (await run(s, q(upd, 'UPDATE', [str('r1'), int(5)]))).rows,
          ).toBe(1);
          expect(
            (
              await run(
                s,
                q(`SELECT id FROM ${TABLE} WHERE v = $1`, 'SELECT', [int(15)]),
              )
            ).rows,
          ).toBe(1);
          expect(
            (
              await run(
                s,
                q(`DELETE FROM ${TABLE} WHERE id >= $1`, 'DELETE', [int(1)]),
              )
            ).rows,
          ).toBe(3);
        });
      },
      timeoutMs,
    );

    it(
      'returns failures as outcomes, never throws, and the session stays usable',
      async () => {
        await withSession(async (s) => {
          const ins = q(
            `INSERT INTO ${TABLE} (id, v) VALUES ($1, 0)`,
            'INSERT',
            [int(7)],
          );
          await run(s, ins);
          const dup = await s.execute(ins);
          expect(dup.ok).toBe(false);
          expect(
            typeof dup.errorClass === 'string' && dup.errorClass.length > 0,
          ).toBe(true);
          expect(dup.connectionLost === true).toBe(false);
          const syntax = await s.execute(q('SELEC nonsense FROM', 'OTHER'));
          expect(syntax.ok).toBe(false);
          expect(syntax.errorClass).not.toEqual(undefined);
          expect(
            (
              await run(
                s,
                q(`SELECT id FROM ${TABLE} WHERE id = $1`, 'SELECT', [int(7)]),
              )
            ).rows,
          ).toBe(1);
          await run(
            s,
            q(`DELETE FROM ${TABLE} WHERE id = $1`, 'DELETE', [int(7)]),
          );
        });
      },
      timeoutMs,
    );

    if (plugin.capabilities.transactions)
      it(
        'keeps transactions on the session: ROLLBACK discards, COMMIT keeps',
        async () => {
          await withSession(async (s) => {
            const ins = `INSERT INTO ${TABLE} (id, v) VALUES ($1, 1)`;
            const count = q(
              `SELECT id FROM ${TABLE} WHERE id IN ($1)`,
              'SELECT',
              [{ t: 'list', v: [int(20), int(21)] }],
            );
            await run(s, q('BEGIN', 'TCL'));
            await run(s, q(ins, 'INSERT', [int(20)]));
            await run(s, q('ROLLBACK', 'TCL'));
            expect((await run(s, count)).rows).toBe(0);
            await run(s, q('BEGIN', 'TCL'));
            await run(s, q(ins, 'INSERT', [int(21)]));
            await run(s, q('COMMIT', 'TCL'));
            expect((await run(s, count)).rows).toBe(1);
            await run(
              s,
              q(`DELETE FROM ${TABLE} WHERE id = $1`, 'DELETE', [int(21)]),
            );
          });
        },
        timeoutMs,
      );

    it(
      'prepares a statement without running it (when it has prepare)',
      async () => {
        await withSession(async (s) => {
          if (!s.prepare) return;
          const out = await s.prepare(
            q(`INSERT INTO ${TABLE} (id, v) VALUES ($1, $2)`, 'INSERT', [
              int(30),
              int(1),
            ]),
          );
          expect(out.ok).toBe(true);
          expect(
            (
              await run(
                s,
                q(`SELECT id FROM ${TABLE} WHERE id = $1`, 'SELECT', [int(30)]),
              )
            ).rows,
          ).toBe(0);
        });
      },
      timeoutMs,
    );

    if (options.runner)
      describeRunnerChecks(options, {
        it,
        expect,
        target: () => t,
        timeoutMs,
        dialect:
          options.traceDialect ??
          (plugin.dialect === 'mysql' ? 'mysql' : 'postgres'),
      });
  });
}

/** The runner checks: known traces through `runBench` with exact counts and server-side effects. */
// Long function: a conformance suite: a list of independent `it` cases, each short, registered in
// one describe block.
function describeRunnerChecks<TOptions>(
  o: DescribeDbPluginOptions<TOptions>,
  env: {
    it: TestFramework['it'];
    expect: TestFramework['expect'];
    target: () => DbTestTarget<TOptions> | null;
    timeoutMs: number;
    dialect: Dialect;
  },
): void {
  const { it, expect, timeoutMs } = env;
  const { runBench: bench, runOptions } = o.runner as NonNullable<
    typeof o.runner
  >;
  const d = env.dialect;
  const setupSql = o.setupSql ?? DEFAULT_SETUP;
  const urlOf = (t: DbTestTarget<TOptions>): string => {
    if (t.target === undefined)
      throw new Error(
        "The runner checks need `target` (the runner's target string) in the DbTestTarget.",
      );
    return t.target;
  };
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

  it(
    'runner: executes a known trace with exact counts per template and the right effects',
    async () => {
      const t = env.target();
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
      const result = await bench(b.trace(), {
        target: urlOf(t),
        mode: 'closed',
        connections: 3,
        setup: { sql: setupSql, name: 'setup.sql' },
        ...runOptions,
      });
      expect(result.status).toBe('completed');
      expect(result.overall.errors).toBe(0);
      expect(
        Object.fromEntries(
          result.templates.map((x) => [x.templateId, x.count]),
        ),
      ).toEqual(Object.fromEntries(b.counts));
      expect(result.overall.count).toBe(b.events.length);
      expect(result.sessions).toEqual({
        total: sessions,
        completed: sessions,
        aborted: 0,
        gaveUp: 0,
      });
      // rows: each SELECT v finds its row; the IN-list finds id and id-1 (except in the first transaction)
      const selStats = result.templates.find((x) => x.templateId === sel.id);
      expect(selStats?.rows).toBe(sessions * txns);
      expect(selStats?.zeroRowShare).toBe(0);
      const inStats = result.templates.find((x) => x.templateId === inList.id);
      expect(inStats?.rows).toBe(sessions * (2 * txns - 1));
      if (!t.query) return;
      const rows = await t.query('SELECT COUNT(*) AS n, SUM(v) AS s FROM kv');
      expect(Number(rows[0]?.['n'])).toBe(sessions * txns);
      expect(Number(rows[0]?.['s'])).toBe(sessions * txns * 3);
      // transactions intact: both log rows of a transaction share connection and transaction id
      const groups = await t.query(
        'SELECT sess, txn, COUNT(*) AS n, COUNT(DISTINCT conn) AS c, COUNT(DISTINCT xid) AS x FROM txlog GROUP BY sess, txn',
      );
      expect(groups).toHaveLength(sessions * txns);
      for (const g of groups)
        expect([g['n'], g['c'], g['x']].map(Number)).toEqual([2, 1, 1]);
      if (o.txnIdExpr != null) {
        const x = await t.query('SELECT COUNT(DISTINCT xid) AS x FROM txlog');
        expect(Number(x[0]?.['x'])).toBe(sessions * txns);
      }
    },
    timeoutMs,
  );

  it(
    'runner: counts failed queries by class and keeps running',
    async () => {
      const t = env.target();
      if (!t) return;
      const b = new TraceBuilder(d);
      for (let i = 0; i < 20; i++)
        b.add('e1', dup, [int(5_000_000 + (i % 10))]);
      const result = await bench(b.trace(), {
        target: urlOf(t),
        mode: 'closed',
        connections: 1,
        ...runOptions,
      });
      expect(result.status).toBe('completed');
      expect([
        result.overall.count,
        result.overall.ok,
        result.overall.errors,
      ]).toEqual([20, 10, 10]);
      expect(Object.values(result.overall.errorsByClass)).toEqual([10]);
    },
    timeoutMs,
  );

  it(
    'runner: stops at the first error with failFast',
    async () => {
      const t = env.target();
      if (!t) return;
      const b = new TraceBuilder(d);
      for (let i = 0; i < 2000; i++) b.add('f1', dup, [int(6_000_000)]);
      const result = await bench(b.trace(), {
        target: urlOf(t),
        mode: 'closed',
        connections: 1,
        failFast: true,
        ...runOptions,
      });
      expect(result.status).toBe('failed');
      expect(result.stopReason).toBe('fail-fast');
      expect(result.overall.count).toBeLessThan(2000);
      // events read but not run; the reader stops early, so some were never read
      expect(result.overall.count + result.skipped.notRun).toBeLessThanOrEqual(
        2000,
      );
      expect(result.overall.errors).toBeGreaterThanOrEqual(1);
    },
    timeoutMs,
  );
}
