/**
 * `stb bench` against a server that refuses a session's reconnect because it is full: a private
 * PostgreSQL (scratch data directory, free port; the shared server is never touched) whose
 * database admits as many connections as the run opens, then one fewer while the run goes on,
 * and one session's backend is ended. That session cannot reconnect (53300, "too many
 * connections for database") and gives up after --reconnect-timeout; the run goes on with the
 * other one, as the runner does for a full server. Until 2026-12-06 it then ended `completed`
 * with exit 0, a third of the trace not run. It must exit 3 with one line saying so, the result
 * written. Skips (with a message) when the server binaries are missing or the test does not run
 * as root, unless STB_REQUIRE_DB=1.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BenchResult, computeTemplateId } from '@stb/core';
import { canStartScratch, startScratchPostgres } from '@stb/testkit';
import type { ScratchServer } from '@stb/testkit';
import { PG_TRACE_HEADER, runStb } from './helpers';

jest.setTimeout(120_000);

const PSQL = '/usr/lib/postgresql/15/bin/psql';
const required = process.env['STB_REQUIRE_DB'] === '1';
const available = canStartScratch('postgres');
const run = available || required ? it : it.skip;
if (!available && !required)
  console.warn(
    'skipping the full-server test: PostgreSQL binaries missing or not root',
  );

const TEXT = 'SELECT $1::int, pg_sleep(0.001)';
/** The run's sessions' backends in `pg_stat_activity` (the control connection runs other statements). */
const WORKLOAD = `usename = 'u' AND query = '${TEXT}'`;

/**
 * 2 sessions running {@link TEXT} every 5 ms for 8 s: the backend is ended while both still have
 * statements to run, however slowly the machine starts the run.
 */
function writeTrace(file: string): void {
  const id = computeTemplateId('postgres', TEXT);
  const lines: unknown[] = [
    PG_TRACE_HEADER,
    {
      kind: 'template',
      id,
      text: TEXT,
      queryType: 'SELECT',
      tables: [],
      slots: [],
    },
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

let dir: string;
let pg: ScratchServer | undefined;
afterEach(async () => {
  await pg?.destroy();
  pg = undefined;
  rmSync(dir, { recursive: true, force: true });
});

run(
  'exits 3, saying so, when a session cannot reconnect to a full server and the run goes on without it',
  async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'stb-server-full-'));
    pg = await startScratchPostgres(dir);
    const admin = pg.url;
    const psql = (sql: string): string =>
      execFileSync(PSQL, [admin, '-Atqc', sql], { encoding: 'utf8' }).trim();
    // the database's limit binds roles that are not superusers: the run's own
    psql('CREATE ROLE u LOGIN');
    psql('CREATE DATABASE d OWNER u CONNECTION LIMIT 3');
    const trace = path.join(dir, 'trace.jsonl');
    writeTrace(trace);
    const out = path.join(dir, 'result.json');
    const target = `postgres://u@127.0.0.1:${String(pg.port)}/d`;
    const running = stbRunning(psql);
    const r = runStb(
      [
        'bench',
        '-i',
        trace,
        '--target',
        target,
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
    // both sessions' connections and the control one: the database is full from here on
    await running;
    psql('ALTER DATABASE d CONNECTION LIMIT 2');
    expect(
      psql(
        `SELECT count(pg_terminate_backend(pid)) FROM (SELECT pid FROM pg_stat_activity WHERE ${WORKLOAD} LIMIT 1) t`,
      ),
    ).toBe('1');
    const done = await r;
    expect(done.stderr).toMatch(
      /^\[stb\] \[bench\] 1 of 2 sessions could not connect and were aborted while the run went on \(\d+ events not run in all\), so the result \(in .*result\.json\) holds less load than the trace's\. A session could not connect within the reconnect timeout \(1 s\) and was aborted; the last attempt: Cannot connect to postgres:\/\/u@127\.0\.0\.1:\d+\/d: too many connections for database "d"\. The server refused more connections: lower --connections \(-c\) or raise its limit\.$/m,
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

/** Resolves once both sessions run their statements, or throws after 20 s. */
async function stbRunning(psql: (sql: string) => string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (
    psql(`SELECT count(*) FROM pg_stat_activity WHERE ${WORKLOAD}`) !== '2'
  ) {
    if (Date.now() > deadline)
      throw new Error('the run did not start both sessions within 20 s');
    await sleep(50);
  }
}
