// Shared by the bench scripts of this folder: a statement on the shared PostgreSQL's `postgres`
// database (to create and drop their scratch databases), on a connection of its own.
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
