import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import pg from 'pg';

/** Admin connections of the machine's shared servers (loopback only). */
export const PG_ADMIN = 'postgres://postgres@127.0.0.1:5432/postgres';
export const MYSQL_ADMIN = 'mysql://root@127.0.0.1:3306/test';
const required = process.env['STB_REQUIRE_DB'] === '1';

/** A scratch database, dropped by `drop()`. */
export interface ScratchDb {
  name: string;
  url: string;
  drop(): Promise<void>;
}

function scratchName(): string {
  return `stb_test_${randomBytes(5).toString('hex')}`;
}

function unreachable(server: string, err: unknown): null {
  if (required) throw err;
  console.warn(
    `[generator tests] ${server} unreachable; skipping its tests (set STB_REQUIRE_DB=1 to fail instead): ${String(err)}`,
  );
  return null;
}

/** Creates `stb_test_<random>` on PostgreSQL, or null (with a message) when the server is down. */
export async function createPgDatabase(): Promise<ScratchDb | null> {
  const name = scratchName();
  const admin = new pg.Client({
    connectionString: PG_ADMIN,
    connectionTimeoutMillis: 3000,
  });
  try {
    await admin.connect();
  } catch (err) {
    return unreachable('PostgreSQL at 127.0.0.1:5432', err);
  }
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return {
    name,
    url: `postgres://postgres@127.0.0.1:5432/${name}`,
    async drop() {
      const c = new pg.Client({ connectionString: PG_ADMIN });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/** Creates `stb_test_<random>` on MariaDB, or null (with a message) when the server is down. */
export async function createMysqlDatabase(): Promise<ScratchDb | null> {
  const name = scratchName();
  let admin: mysql.Connection;
  try {
    admin = await mysql.createConnection({
      uri: MYSQL_ADMIN,
      connectTimeout: 3000,
    });
  } catch (err) {
    return unreachable('MariaDB at 127.0.0.1:3306', err);
  }
  try {
    await admin.query(
      `CREATE DATABASE ${name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`,
    );
  } finally {
    await admin.end();
  }
  return {
    name,
    url: `mysql://root@127.0.0.1:3306/${name}`,
    async drop() {
      const c = await mysql.createConnection({ uri: MYSQL_ADMIN });
      await c.query(`DROP DATABASE IF EXISTS ${name}`);
      await c.end();
    },
  };
}
