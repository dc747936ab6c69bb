/**
 * `stb bench` against a server that refuses a session's reconnect because it is full: a private
 * PostgreSQL and a private MariaDB (scratch data directory, free port; the shared servers are never
 * touched) that admit the run's user as many connections as the run opens, then one fewer while
 * the run goes on, and one session's connection is ended. That session cannot reconnect
 * (PostgreSQL 53300 "too many connections for database", MariaDB 1226 "has exceeded the
 * 'max_user_connections' resource") and gives up after --reconnect-timeout; the run goes on with
 * the other one, as the runner does for a full server. Until 2026-12-06 it then ended `completed`
 * with exit 0, a third of the trace not run. It must exit 3 with one line saying so, the result
 * written. Skips (with a message) when the server binaries are missing or the test does not run
 * as root, unless STB_REQUIRE_DB=1.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BenchResult, computeTemplateId } from '@stb/core';
import {
  canStartScratch,
  startScratchMariadb,
  startScratchPostgres,
} from '@stb/testkit';
import type { ScratchServer } from '@stb/testkit';
import { PG_TRACE_HEADER, runStb } from './helpers';

jest.setTimeout(120_000);

const PSQL = '/usr/lib/postgresql/15/bin/psql';
const required = process.env['STB_REQUIRE_DB'] === '1';
const isRoot = process.getuid?.() === 0;

/** A private server full at 3 connections of user `u`, that one fewer ends up filling. */
interface FullServer {
  readonly server: ScratchServer;
  readonly target: string;
  readonly dialect: 'postgres' | 'mysql';
  /** Connections of `u` open now (the run's control connection and its sessions'). */
  connections(): number;
  /** Admits `u` one connection fewer and ends one session's connection. */
  squeeze(): void;
  /** The connect error the session gives up on, as the line quotes it. */
  readonly refused: string;
}

async function fullPostgres(dir: string): Promise<FullServer> {
  const server = await startScratchPostgres(dir);
  const psql = (sql: string): string =>
    execFileSync(PSQL, [server.url, '-Atqc', sql], {
      encoding: 'utf8',
    }).trim();
  // the database's limit binds roles that are not superusers: the run's own
  psql('CREATE ROLE u LOGIN');
  psql('CREATE DATABASE d OWNER u CONNECTION LIMIT 3');
  return {
    server,
    target: `postgres://u@127.0.0.1:${String(server.port)}/d`,
    dialect: 'postgres',
    connections: () =>
      Number(psql("SELECT count(*) FROM pg_stat_activity WHERE usename = 'u'")),
    squeeze: () => {
      psql('ALTER DATABASE d CONNECTION LIMIT 2');
      // a session's backend: its last statement is the workload's (the control connection's is not)
      expect(
        psql(
          `SELECT count(pg_terminate_backend(pid)) FROM (SELECT pid FROM pg_stat_activity WHERE usename = 'u' AND query LIKE 'SELECT $1%' LIMIT 1) t`,
        ),
      ).toBe('1');
    },
    refused: `Cannot connect to postgres://u@127.0.0.1:${String(server.port)}/d: too many connections for database "d".`,
  };
}

async function fullMariadb(dir: string): Promise<FullServer> {
  const server = await startScratchMariadb(dir);
  const sql = (text: string): string =>
    execFileSync(
      'mariadb',
      ['-h127.0.0.1', `-P${String(server.port)}`, '-uroot', '-N', '-e', text],
      { encoding: 'utf8' },
    ).trim();
  sql(
    "CREATE DATABASE d; CREATE USER u@'%'; GRANT ALL ON d.* TO u@'%' WITH MAX_USER_CONNECTIONS 3",
  );
  return {
    server,
    target: `mysql://u@127.0.0.1:${String(server.port)}/d`,
    dialect: 'mysql',
    connections: () =>
      Number(
        sql(
          "SELECT count(*) FROM information_schema.processlist WHERE user = 'u'",
        ),
      ),
    squeeze: () => {
      sql("GRANT USAGE ON *.* TO u@'%' WITH MAX_USER_CONNECTIONS 2");
      // the sessions connect after the control connection: the newest is a session's
      sql(
        "SELECT max(id) FROM information_schema.processlist WHERE user = 'u' INTO @s; KILL @s",
      );
    },
    refused: `Cannot connect to mysql://u@127.0.0.1:${String(server.port)}/d: User 'u' has exceeded the 'max_user_connections' resource (current value: 2).`,
  };
}

const cases = [
  {
    name: 'PostgreSQL',
    available: canStartScratch('postgres'),
    make: fullPostgres,
  },
  {
    name: 'MariaDB',
    available: canStartScratch('mariadb') && isRoot,
    make: fullMariadb,
  },
];

/**
 * 2 sessions running a 1 ms statement every 5 ms for 8 s: the connection is ended while both
 * still have statements to run, however slowly the machine starts the run.
 */
function writeTrace(file: string, dialect: 'postgres' | 'mysql'): void {
  const text =
    dialect === 'postgres'
      ? 'SELECT $1::int, pg_sleep(0.001)'
      : 'SELECT ?, SLEEP(0.001)';
  const id = computeTemplateId(dialect, text);
  const lines: unknown[] = [
    { ...PG_TRACE_HEADER, dialect },
    { kind: 'template', id, text, queryType: 'SELECT', tables: [], slots: [] },
  ];
  for (let i = 0; i < 1600; i++)
    for (let s = 0; s < 2; s++)
      lines.push({
        kind: 'event',
        startUs: 1_700_000_000_000_000 + i * 5000 + s * 100,
        sessionId: `s${s}`,
        templateId: id,
        params: [{ t: 'int', v: i }],
      });
  writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
}

const sleep = (ms: number): Promise<void> =>
  new Promise((r) => setTimeout(r, ms));

let dir: string | undefined;
let server: ScratchServer | undefined;
afterEach(async () => {
  await server?.destroy();
  server = undefined;
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

const escape = (text: string): string =>
  text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe.each(cases)('a full $name', (c) => {
  const run = c.available || required ? it : it.skip;
  if (!c.available && !required)
    console.warn(
      `skipping the full-server test on ${c.name}: server binaries missing or not root`,
    );
  run(
    'exits 3, saying so, when a session cannot reconnect and the run goes on without it',
    async () => {
      dir = mkdtempSync(path.join(os.tmpdir(), 'stb-server-full-'));
      const full = await c.make(dir);
      server = full.server;
      const trace = path.join(dir, 'trace.jsonl');
      writeTrace(trace, full.dialect);
      const out = path.join(dir, 'result.json');
      const r = runStb(
        [
          'bench',
          '-i',
          trace,
          '--target',
          full.target,
          '-c',
          '2',
          '--workers',
          '0',
          '--reconnect-timeout',
          '1s',
          '--no-metrics',
          '-o',
          out,
        ],
        { timeoutMs: 60_000 },
      );
      // both sessions' connections and the control one: full from here on
      await until(() => full.connections() === 3);
      full.squeeze();
      const done = await r;
      expect(done.stderr).toMatch(
        new RegExp(
          `^${escape('[stb] [bench] 1 of 2 sessions could not connect and were aborted while the run went on (')}\\d+${escape(` events not run in all), so the result (in ${out}) holds less load than the trace's. A session could not connect within the reconnect timeout (1 s) and was aborted; the last attempt: ${full.refused} The server refused more connections: lower --connections (-c) or raise its limit.`)}$`,
          'm',
        ),
      );
      expect(done.code).toBe(3);
      const result = BenchResult.parse(JSON.parse(readFileSync(out, 'utf8')));
      // the runner did not stop: the other session ran its statements to the end
      expect(result.stopReason).toBeUndefined();
      expect(result.sessions).toEqual({
        total: 2,
        completed: 1,
        aborted: 1,
        gaveUp: 1,
      });
      expect(result.skipped.notRun).toBeGreaterThan(0);
      expect(result.overall.count).toBeGreaterThanOrEqual(1600);
    },
  );
});

/** Resolves once `fn()` holds (polled every 50 ms), or throws after 20 s. */
async function until(fn: () => boolean): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!fn()) {
    if (Date.now() > deadline)
      throw new Error('the run did not open its connections within 20 s');
    await sleep(50);
  }
}
