/**
 * Example 3: run a benchmark programmatically against PostgreSQL through a custom DB plugin
 * (./tagged-postgres.ts), with live Prometheus metrics, and keep the JSON result.
 *
 * It creates a scratch database, loads the pgbench schema and data into it (`setup`), replays
 * the trace in a closed loop, prints QPS and latency percentiles, checks on the server that the
 * trace's INSERTs all landed, and drops the database.
 *
 * The INSERTs are counted by a trigger into a table of the example's own: a generated pgbench
 * workload keeps pgbench's setup connection, whose `TRUNCATE pgbench_history` may run after some
 * clients' INSERTs in a closed loop (sessions run side by side), so `count(*)` of
 * pgbench_history itself can be lower than the rows the run wrote.
 *
 * Usage: node dist/03-bench-custom-plugin/main.js <trace> [result.json]
 * Server: STB_PG_URL (default postgres://postgres@127.0.0.1:5432/postgres).
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { isStbError, openTrace, writeFileAtomic } from '@stb/core';
import {
  createMetricsRegistry,
  redactSecrets,
  runBench,
  startMetricsServer,
} from '@stb/bench';
import type { PluginDescriptor } from '@stb/bench';

const here = path.dirname(fileURLToPath(import.meta.url));
/** Setup after the pgbench schema: every row inserted into pgbench_history is also logged here. */
const COUNT_INSERTS_SQL = `
CREATE TABLE stb_example_history_inserts (at timestamptz NOT NULL DEFAULT now());
CREATE FUNCTION stb_example_count_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO stb_example_history_inserts DEFAULT VALUES;
  RETURN NULL;
END $$;
CREATE TRIGGER stb_example_count_insert AFTER INSERT ON pgbench_history
  FOR EACH ROW EXECUTE FUNCTION stb_example_count_insert();
`;
const [trace, resultFile] = process.argv.slice(2);
const serverUrl =
  process.env['STB_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function main(): Promise<number> {
  if (trace === undefined) {
    console.error('usage: main.js <trace> [result.json]');
    return 2;
  }
  // A scratch database of our own, dropped at the end.
  const db = `stb_example_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${db}`);
  const url = new URL(serverUrl);
  url.pathname = `/${db}`;
  try {
    // The runner receives the plugin as a descriptor (module URL + options), never as an
    // object, so worker threads can import it themselves.
    const target: PluginDescriptor = {
      module: new URL('./tagged-postgres.js', import.meta.url).href,
      exportName: 'plugin',
      options: { url: url.href, statementTimeoutMs: 2000, tag: 'stb-example' },
      name: 'tagged-postgres',
      dialect: 'postgres',
      display: redactSecrets(url.href),
    };
    const setupFile = path.resolve(here, '../../data/pgbench-schema.sql');
    const registry = createMetricsRegistry();
    const metrics = await startMetricsServer(registry, { port: 0 }); // any free port
    console.log(`metrics on ${metrics.url}`);
    const t = await openTrace(trace);
    let result;
    try {
      result = await runBench(
        { header: t.header, templates: t.catalog, events: t.events },
        {
          target,
          mode: 'closed',
          connections: 4,
          durationSeconds: 60,
          setup: {
            sql: `${await readFile(setupFile, 'utf8')}\n${COUNT_INSERTS_SQL}`,
            name: setupFile,
          },
          registry,
          traceInfo: { path: trace },
        },
      );
    } finally {
      await metrics.close();
    }
    const o = result.overall;
    console.log(
      `${result.status}: ${o.count} queries, ${o.qps.toFixed(0)} q/s, p50 ${o.latencyMs.p50} ms, p99 ${o.latencyMs.p99} ms, ${o.errors} errors`,
    );
    console.log(`server: ${result.context.target.serverVersion ?? '?'}`);
    if (resultFile !== undefined)
      await writeFileAtomic(resultFile, `${JSON.stringify(result, null, 2)}\n`);

    // Check the effect on the server: every INSERT the runner counted as ok wrote a row
    // (committed: the trigger's log rows roll back with the INSERT's transaction).
    const check = new pg.Client({ connectionString: url.href });
    await check.connect();
    try {
      const r = await check.query<{ n: string }>(
        'SELECT count(*) AS n FROM stb_example_history_inserts',
      );
      const inserts = result.templates
        .filter((x) => x.queryType === 'INSERT')
        .reduce((sum, x) => sum + x.ok, 0);
      console.log(
        `pgbench_history rows: ${r.rows[0]?.n ?? '?'} (INSERTs ok: ${inserts})`,
      );
      return result.status === 'completed' && o.errors === 0 ? 0 : 1;
    } finally {
      await check.end();
    }
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    await admin.end();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(isStbError(err) ? `${err.code}: ${err.message}` : err);
    process.exitCode = 3;
  },
);
