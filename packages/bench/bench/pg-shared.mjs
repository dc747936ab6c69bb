// Shared by the PostgreSQL bench scripts of this folder: a statement on the shared server's
// `postgres` database (to create and drop their scratch databases), the schedule lag in pgbench's
// per-transaction logs, and the median of a run's rounds.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';

export const ADMIN = 'postgres://postgres@127.0.0.1:5432/postgres';

/** Runs `sql` on a connection to ADMIN, then closes it; 10 s to connect, 120 s for the statement. */
export async function admin(sql) {
  const c = new pg.Client({ connectionString: ADMIN, connectionTimeoutMillis: 10_000, query_timeout: 120_000 });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

/** The median of the finite values of `xs` (NaN if none). */
export const median = (xs) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/**
 * The schedule lag of every transaction in the `-l` logs pgbench wrote to `dir` (run with `-R`:
 * the last of a line's 7 fields, µs), in ms, sorted.
 */
export function pgbenchLogLags(dir) {
  const lags = [];
  for (const f of readdirSync(dir))
    for (const line of readFileSync(path.join(dir, f), 'utf8').split('\n')) {
      const x = line.trim().split(/\s+/);
      if (x.length >= 7) lags.push(Number(x[x.length - 1]) / 1000);
    }
  return lags.sort((a, b) => a - b);
}
