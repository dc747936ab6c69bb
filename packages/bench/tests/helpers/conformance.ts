import type { Dialect } from '@stb/core';
import { describeDbPlugin as describeConformance } from '@stb/testkit';
import { plugin as mysql } from '../../src/db/mysql';
import { plugin as postgres } from '../../src/db/postgres';
import { plugin as sqlite } from '../../src/db/sqlite';
import type { DbPlugin } from '../../src/db-plugin';
import { runBench } from '../../src/runner';
import type { BenchOptions } from '../../src/runner';
import { resolveTarget } from '../../src/target';

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

const BUILTIN: Record<string, DbPlugin> = { mysql, postgres, sqlite };

/** The @stb/testkit DB plugin conformance suite, plugin-level and through the runner. */
export function describeDbPlugin(name: string, o: DbPluginSuiteOptions): void {
  const plugin = o.runOptions?.plugin ?? BUILTIN[name];
  if (!plugin) throw new Error(`no built-in DB plugin ${name}`);
  describeConformance(plugin, {
    traceDialect: o.dialect,
    setupSql: o.setupSql,
    connectionIdExpr: o.connectionIdExpr,
    txnIdExpr: o.txnIdExpr,
    runner: { runBench, runOptions: o.runOptions },
    target: async () => {
      const t = await o.createTarget();
      if (!t) return null;
      return { ...t, options: (await resolveTarget(t.target)).options };
    },
  });
}
