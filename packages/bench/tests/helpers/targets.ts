import { mkdtempSync, rmSync } from 'node:fs';
import type { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import mysql from 'mysql2/promise';
import { plugin as knexPlugin } from '../../src/db/knex';
import { createPglitePlugin } from '../../src/db/pglite';
import type { PgliteLib } from '../../src/db/pglite';
import type { DbPluginSuiteOptions } from './conformance';
import { createMysqlDatabase, createPgDatabase } from './db';

const PG_SETUP = `
CREATE TABLE kv (id int PRIMARY KEY, v int NOT NULL);
CREATE TABLE txlog (sess text, txn int, conn int, xid bigint);
`;

/** SQLite on a scratch file (one connection). */
export function createSqliteTarget(): DbPluginSuiteOptions {
  return {
    dialect: 'postgres',
    connectionIdExpr: null,
    txnIdExpr: null,
    setupSql: PG_SETUP,
    createTarget: async () => {
      const dir = mkdtempSync(join(tmpdir(), 'stb-sqlite-'));
      const file = join(dir, 'db.sqlite');
      return {
        target: `sqlite:${file}`,
        query: async (sql) => {
          const db = new Database(file, { readonly: true });
          try {
            return db.prepare(sql).all() as Record<string, unknown>[];
          } finally {
            db.close();
          }
        },
        drop: async () => rmSync(dir, { recursive: true, force: true }),
      };
    },
  };
}

// PGlite imports its own modules dynamically, which jest's VM refuses without
// --experimental-vm-modules: load it with Node's own require and inject it as `lib`.
const nativeRequire = (
  process as unknown as {
    getBuiltinModule(id: 'module'): { createRequire: typeof createRequire };
  }
)
  .getBuiltinModule('module')
  .createRequire(__filename);
const loadPglite = (): PgliteLib =>
  nativeRequire('@electric-sql/pglite') as PgliteLib;

/** PGlite in a scratch data directory (one connection). */
export function createPgliteTarget(): DbPluginSuiteOptions {
  return {
    dialect: 'postgres',
    connectionIdExpr: 'pg_backend_pid()',
    txnIdExpr: 'txid_current()',
    setupSql: PG_SETUP,
    runOptions: {
      plugin: createPglitePlugin({ lib: loadPglite() }),
    },
    createTarget: async () => {
      const dir = mkdtempSync(join(tmpdir(), 'stb-pglite-'));
      return {
        target: `pglite:${dir}`,
        query: async (sql) => {
          const db = new (loadPglite().PGlite)(dir);
          try {
            return (await db.query(sql)).rows as Record<string, unknown>[];
          } finally {
            await db.close();
          }
        },
        drop: async () => rmSync(dir, { recursive: true, force: true }),
      };
    },
  };
}

/** A scratch database on the shared PostgreSQL. */
export function createPostgresTarget(workers: number): DbPluginSuiteOptions {
  return {
    dialect: 'postgres',
    connectionIdExpr: 'pg_backend_pid()',
    txnIdExpr: 'txid_current()',
    setupSql: PG_SETUP,
    runOptions: { workers },
    createTarget: async () => {
      const db = await createPgDatabase();
      if (!db) return null;
      return {
        target: db.url,
        query: async (sql) => {
          const c = new pg.Client({ connectionString: db.url });
          await c.connect();
          try {
            return (await c.query(sql)).rows as Record<string, unknown>[];
          } finally {
            await c.end();
          }
        },
        drop: db.drop,
      };
    },
  };
}

/** A scratch database on the shared MariaDB. */
export function createMysqlTarget(workers: number): DbPluginSuiteOptions {
  return {
    dialect: 'mysql',
    connectionIdExpr: 'CONNECTION_ID()',
    // InnoDB assigns transaction ids lazily, so the connection id is the oracle here
    txnIdExpr: null,
    setupSql: `
CREATE TABLE kv (id int PRIMARY KEY, v int NOT NULL) ENGINE=InnoDB;
CREATE TABLE txlog (sess varchar(20), txn int, conn bigint, xid bigint) ENGINE=InnoDB;
`,
    runOptions: { workers },
    createTarget: async () => {
      const db = await createMysqlDatabase();
      if (!db) return null;
      return {
        target: db.url,
        query: async (sql) => {
          const c = await mysql.createConnection({ uri: db.url });
          try {
            return (await c.query(sql))[0] as Record<string, unknown>[];
          } finally {
            await c.end();
          }
        },
        drop: db.drop,
      };
    },
  };
}

/** knex with its `pg` client on a scratch database of the shared PostgreSQL. */
export function createKnexPgTarget(): DbPluginSuiteOptions {
  const pgTarget = createPostgresTarget(0);
  return {
    ...pgTarget,
    runOptions: { plugin: knexPlugin },
    createTarget: async () => {
      const t = await pgTarget.createTarget();
      return t && { ...t, target: `knex:pg:${t.target}` };
    },
  };
}

/** knex with its `better-sqlite3` client on a scratch file (one connection: SQLite has one writer). */
export function createKnexSqliteTarget(): DbPluginSuiteOptions {
  const sqlite = createSqliteTarget();
  return {
    ...sqlite,
    runOptions: { plugin: knexPlugin, connections: 1 },
    createTarget: async () => {
      const t = await sqlite.createTarget();
      return (
        t && {
          ...t,
          target: t.target.replace(/^sqlite:/, 'knex:better-sqlite3:'),
        }
      );
    },
  };
}
