import { randomBytes } from 'node:crypto';
import pg from 'pg';
import mysql from 'mysql2/promise';

export const PG_ADMIN = 'postgres://postgres@127.0.0.1:5432/postgres';
export const MYSQL_ADMIN = 'mysql://root@127.0.0.1:3306/test';
const required = process.env['STB_REQUIRE_DB'] === '1';

export function scratchName(): string {
  return `stb_test_${randomBytes(5).toString('hex')}`;
}

/** Creates a scratch PostgreSQL database; returns its URL, or null (with a message) when the server is unreachable. */
export async function createPgDatabase(): Promise<{
  url: string;
  drop: () => Promise<void>;
} | null> {
  const name = scratchName();
  const admin = new pg.Client({
    connectionString: PG_ADMIN,
    connectionTimeoutMillis: 3000,
  });
  try {
    await admin.connect();
  } catch (err) {
    if (required) throw err;
    console.warn(
      `[bench tests] PostgreSQL at 127.0.0.1:5432 unreachable; skipping (${String(err)})`,
    );
    return null;
  }
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  return {
    url: `postgres://postgres@127.0.0.1:5432/${name}`,
    drop: async () => {
      const c = new pg.Client({ connectionString: PG_ADMIN });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/** Creates a scratch MariaDB database, or null when unreachable. */
export async function createMysqlDatabase(): Promise<{
  url: string;
  drop: () => Promise<void>;
} | null> {
  const name = scratchName();
  let admin: mysql.Connection;
  try {
    admin = await mysql.createConnection({
      uri: MYSQL_ADMIN,
      connectTimeout: 3000,
    });
  } catch (err) {
    if (required) throw err;
    console.warn(
      `[bench tests] MariaDB at 127.0.0.1:3306 unreachable; skipping (${String(err)})`,
    );
    return null;
  }
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  return {
    url: `mysql://root@127.0.0.1:3306/${name}`,
    drop: async () => {
      const c = await mysql.createConnection({ uri: MYSQL_ADMIN });
      await c.query(`DROP DATABASE IF EXISTS ${name}`);
      await c.end();
    },
  };
}

/**
 * A scratch PostgreSQL database for one test file: created before its tests, dropped after.
 * `url()` is null when the server is unreachable (the tests then return early).
 */
export function usePgDatabase(): { url(): string | null } {
  return useDatabase(createPgDatabase);
}

/** The same as {@link usePgDatabase} for a scratch MariaDB database. */
export function useMysqlDatabase(): { url(): string | null } {
  return useDatabase(createMysqlDatabase);
}

function useDatabase(
  create: () => Promise<{ url: string; drop: () => Promise<void> } | null>,
): { url(): string | null } {
  let db: Awaited<ReturnType<typeof create>> = null;
  beforeAll(async () => {
    db = await create();
  }, 30_000);
  afterAll(async () => {
    await db?.drop();
  }, 30_000);
  return { url: () => db?.url ?? null };
}

/** The rows of one query on a fresh connection to `url` (PostgreSQL or MariaDB), closed after. */
export async function queryRows<T>(
  kind: 'postgres' | 'mysql',
  url: string,
  sql: string,
): Promise<T[]> {
  if (kind === 'postgres') {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      return (await c.query(sql)).rows as T[];
    } finally {
      await c.end();
    }
  }
  const c = await mysql.createConnection({ uri: url });
  try {
    const [rows] = await c.query(sql);
    return rows as T[];
  } finally {
    await c.end();
  }
}
