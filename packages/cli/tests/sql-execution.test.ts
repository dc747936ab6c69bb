import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createRng, readTraceRecords } from '@stb/core';
import type { TraceEvent } from '@stb/core';
import { renderSql } from '@stb/generator';
import {
  createModelRegistry,
  createWorkloadSampler,
  readModelArtifact,
} from '@stb/models';
import mysql from 'mysql2/promise';
import pg from 'pg';
import type { ScratchDb } from '../../generator/tests/helpers/db';
import {
  createMysqlDatabase,
  createPgDatabase,
} from '../../generator/tests/helpers/db';
import { SAMPLES_DIR, runStb } from './helpers';

/**
 * Generated SQL must execute on the real servers against the schema the source workload used:
 * pgbench's tables (made by `pgbench -i`) and sysbench's `sbtest` tables. Sessions run one after
 * another, each on its own connection, so transactions replay intact. Integrity violations (a
 * generated INSERT reusing an existing key) are data outcomes, not SQL errors, and are counted;
 * any other error fails the test.
 */

const PGBENCH = '/usr/lib/postgresql/15/bin/pgbench';
const dir = mkdtempSync(path.join(tmpdir(), 'stb-cli-sql-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function generated(
  log: string,
  name: string,
): Promise<{
  bySession: Map<string, TraceEvent[]>;
  model: string;
}> {
  const file = path.join(dir, `${name}.jsonl`);
  const r = await runStb([
    'generate',
    '-m',
    'markov',
    '-i',
    log,
    '-n',
    '1500',
    '--render-sql',
    '--seed',
    '3',
    '-o',
    file,
  ]);
  if (r.code !== 0) throw new Error(r.stderr);
  const bySession = new Map<string, TraceEvent[]>();
  for await (const rec of readTraceRecords(file)) {
    if (rec.kind !== 'event') continue;
    let l = bySession.get(rec.sessionId);
    if (!l) bySession.set(rec.sessionId, (l = []));
    l.push(rec);
  }
  return { bySession, model: path.join(dir, `${name}.model.json`) };
}

/** Every template of the model, rendered with parameters drawn from the model. */
async function everyTemplate(model: string): Promise<string[]> {
  const artifact = await readModelArtifact(model);
  const sampler = createWorkloadSampler(artifact, {
    registry: createModelRegistry(),
  });
  const rng = createRng(7);
  return artifact.templates.map((t) =>
    renderSql(
      t.text,
      sampler.params(
        t.id,
        sampler.newSession(rng),
        rng,
        artifact.source.startUs,
      ),
      artifact.dialect,
    ),
  );
}

describe('generated SQL on real PostgreSQL (pgbench schema)', () => {
  let db: ScratchDb | null = null;
  beforeAll(async () => {
    db = await createPgDatabase();
    if (!db) return;
    execFileSync(
      PGBENCH,
      ['-i', '-q', '-s', '1', '-h', '127.0.0.1', '-U', 'postgres', db.name],
      {
        stdio: 'pipe',
      },
    );
  }, 60_000);
  afterAll(async () => {
    await db?.drop();
  });

  it.each([
    'pg-tpcb-simple-logstatement',
    'pg-tpcb-extended-logstatement',
    'pg-tpcb-prepared-logduration',
  ])(
    'executes every generated statement and every template of %s',
    async (name) => {
      if (!db) return;
      const { bySession, model } = await generated(
        path.join(SAMPLES_DIR, name, 'postgresql.csv.gz'),
        name,
      );
      let executed = 0;
      const failures: string[] = [];
      const run = async (client: pg.Client, sql: string): Promise<void> => {
        try {
          await client.query(sql);
          executed++;
        } catch (err) {
          const code = (err as { code?: string }).code ?? '';
          if (!code.startsWith('23'))
            failures.push(`${code} ${(err as Error).message}: ${sql}`);
        }
      };
      for (const events of bySession.values()) {
        const client = new pg.Client({ connectionString: db.url });
        await client.connect();
        try {
          for (const e of events) await run(client, e.sql as string);
        } finally {
          await client.end();
        }
      }
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      try {
        for (const sql of await everyTemplate(model)) {
          await run(client, sql);
          await client.query('ROLLBACK').catch(() => undefined);
        }
      } finally {
        await client.end();
      }
      expect(failures).toEqual([]);
      expect(executed).toBeGreaterThan(1500);
    },
    60_000,
  );
});

describe('generated SQL on real MariaDB (sysbench schema)', () => {
  let db: ScratchDb | null = null;
  beforeAll(async () => {
    db = await createMysqlDatabase();
    if (!db) return;
    const c = await mysql.createConnection({
      uri: db.url,
      multipleStatements: true,
    });
    for (const t of ['sbtest1', 'sbtest2'])
      await c.query(
        `CREATE TABLE ${t} (id INTEGER NOT NULL AUTO_INCREMENT, k INTEGER DEFAULT '0' NOT NULL, c CHAR(120) DEFAULT '' NOT NULL, pad CHAR(60) DEFAULT '' NOT NULL, PRIMARY KEY (id), KEY k_${t.slice(-1)} (k)) ENGINE=InnoDB`,
      );
    await c.end();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it.each(['mariadb-sysbench-text', 'mariadb-sysbench-prepared'])(
    'executes every generated statement and every template of %s',
    async (name) => {
      if (!db) return;
      const { bySession, model } = await generated(
        path.join(SAMPLES_DIR, name, 'mariadb_general.log.gz'),
        name,
      );
      let executed = 0;
      const failures: string[] = [];
      const run = async (c: mysql.Connection, sql: string): Promise<void> => {
        try {
          await c.query(sql);
          executed++;
        } catch (err) {
          const errno = (err as { errno?: number }).errno;
          if (errno !== 1062)
            failures.push(`${errno} ${(err as Error).message}: ${sql}`);
        }
      };
      for (const events of bySession.values()) {
        const c = await mysql.createConnection({ uri: db.url });
        try {
          for (const e of events) await run(c, e.sql as string);
        } finally {
          await c.end();
        }
      }
      const c = await mysql.createConnection({ uri: db.url });
      try {
        for (const sql of await everyTemplate(model)) await run(c, sql);
      } finally {
        await c.end();
      }
      expect(failures).toEqual([]);
      expect(executed).toBeGreaterThan(1500);
    },
    60_000,
  );
});
