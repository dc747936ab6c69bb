import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { SAMPLES, comparable, countBy, parseCached } from './helpers';

interface PgManifest {
  statements_logged: number;
  sessions_with_statements: number;
  error_or_fatal_entries: number;
  log_entries_by_kind: Record<string, number>;
  application_names: Record<string, number>;
}
interface MariaManifest {
  statements_logged: number;
  connections: number;
  general_log_entries_by_command: Record<string, number>;
  sysbench_queries: number;
}

const manifest = JSON.parse(
  readFileSync(path.join(SAMPLES, 'manifest.json'), 'utf8'),
) as Record<string, PgManifest & MariaManifest>;

const pgFolders = Object.keys(manifest).filter((k) => k.startsWith('pg-'));
const mariaFolders = Object.keys(manifest).filter((k) =>
  k.startsWith('mariadb-'),
);

describe('PostgreSQL samples (pgbench on PostgreSQL 15)', () => {
  it('has the four sample runs', () => {
    expect(pgFolders).toHaveLength(4);
  });

  describe.each(pgFolders)('%s', (folder) => {
    const m = manifest[folder] as PgManifest;
    const file = (ext: string) =>
      path.join(SAMPLES, folder, `postgresql.${ext}.gz`);

    it.each([
      ['log', 'postgres-stderr'],
      ['csv', 'postgres-csvlog'],
      ['json', 'postgres-jsonlog'],
    ])(
      '%s: every logged statement once, sessions as logged',
      async (ext, format) => {
        const { events, summary } = await parseCached(file(ext));
        const f = summary.files[0];
        expect(f?.format).toBe(format);
        expect(events).toHaveLength(m.statements_logged);
        expect(f?.sessions).toBe(m.sessions_with_statements);
        expect(events.filter((e) => e.error)).toHaveLength(
          m.error_or_fatal_entries,
        );
        expect(f?.skipped['invalid']).toBeUndefined();
        expect(f?.timeResolutionUs).toBe(1000);
        expect(countBy(events, (e) => e.application ?? '?')).toEqual(
          m.application_names,
        );
        // Events of one session are in time order.
        const last = new Map<string, number>();
        let disorder = 0;
        for (const e of events) {
          if ((e.startUs ?? 0) < (last.get(e.sessionId) ?? -Infinity) - 1000)
            disorder++;
          last.set(e.sessionId, e.startUs ?? 0);
        }
        expect(disorder).toBe(0);
      },
    );

    it('stderr, csvlog and jsonlog of the run give the same events', async () => {
      const [stderr, csv, json] = await Promise.all(
        ['log', 'csv', 'json'].map(async (ext) =>
          comparable((await parseCached(file(ext))).events),
        ),
      );
      expect(csv).toEqual(stderr);
      expect(json).toEqual(stderr);
    });
  });

  it('parse/bind lines of -M prepared are not counted as statements', async () => {
    const folder = 'pg-tpcb-prepared-logduration';
    const { events, summary } = await parseCached(
      path.join(SAMPLES, folder, 'postgresql.log.gz'),
    );
    const m = manifest[folder] as PgManifest;
    expect(summary.files[0]?.skipped['parse']).toBe(
      m.log_entries_by_kind['parse'],
    );
    expect(summary.files[0]?.skipped['bind']).toBe(
      m.log_entries_by_kind['bind'],
    );
    const executes = events.filter((e) => e.preparedName !== undefined);
    expect(executes).toHaveLength(m.log_entries_by_kind['execute'] ?? -1);
    const upd = events.find((e) => e.sql.startsWith('UPDATE pgbench_accounts'));
    expect(upd?.params).toEqual([
      { index: 1, value: expect.stringMatching(/^-?\d+$/) as unknown },
      { index: 2, value: expect.stringMatching(/^\d+$/) as unknown },
    ]);
    // log_min_duration_statement stamps the end: start = log time − duration.
    expect(upd?.durationUs).toBeGreaterThan(0);
  });

  it('extended protocol: parameters attach to their execute', async () => {
    const { events } = await parseCached(
      path.join(SAMPLES, 'pg-tpcb-extended-logstatement', 'postgresql.log.gz'),
    );
    const withDollar = events.filter((e) => /\$\d/.test(e.sql));
    expect(withDollar.length).toBeGreaterThan(2000);
    for (const e of withDollar) {
      const n = new Set(e.sql.match(/\$\d+/g)).size;
      expect(e.params).toHaveLength(n);
    }
  });
});

describe('MariaDB samples (sysbench on MariaDB 10.11, general log)', () => {
  describe.each(mariaFolders)('%s', (folder) => {
    const m = manifest[folder] as MariaManifest;
    it('every Query/Execute once; thread sessions; sysbench counts', async () => {
      const { events, summary } = await parseCached(
        path.join(SAMPLES, folder, 'mariadb_general.log.gz'),
      );
      const f = summary.files[0];
      expect(f?.format).toBe('mysql-general');
      expect(f?.timeResolutionUs).toBe(1_000_000);
      // The admin session's `SET SESSION sql_log_off = 1` (the capture switching its log off) is
      // the capture tool's, not the workload's: skipped and counted as logging-control.
      expect(f?.skipped['logging-control']).toBe(1);
      expect(events).toHaveLength(m.statements_logged - 1);
      expect(events.some((e) => /sql_log_off/i.test(e.sql))).toBe(false);
      expect(f?.skipped['connection']).toBe(
        m.general_log_entries_by_command['Connect'],
      );
      expect(f?.skipped['disconnection']).toBe(
        m.general_log_entries_by_command['Quit'],
      );
      expect(f?.skipped['invalid']).toBeUndefined();
      // sysbench's own count: the 4 benchmark threads (the admin thread's one statement is gone).
      const bySession = countBy(events, (e) => e.sessionId);
      const sizes = Object.values(bySession);
      expect(sizes.reduce((a, b) => a + b, 0)).toBe(m.sysbench_queries);
      expect(Object.keys(bySession)).toHaveLength(4);
      const bench = events.filter((e) => e.user === 'sbtest');
      expect(bench).toHaveLength(m.sysbench_queries);
      // sysbench: reads / writes / other as the client counted them
      const client = readFileSync(
        path.join(SAMPLES, folder, 'client_output.txt'),
        'utf8',
      );
      const num = (k: string) =>
        Number(new RegExp(`${k}:\\s+(\\d+)`).exec(client)?.[1]);
      const kinds = countBy(bench, (e) => {
        const w = e.sql.trimStart().split(/\s/)[0]?.toUpperCase() ?? '';
        return w === 'SELECT'
          ? 'read'
          : w === 'BEGIN' || w === 'COMMIT'
            ? 'other'
            : 'write';
      });
      expect(kinds).toEqual({
        read: num('read'),
        write: num('write'),
        other: num('other'),
      });
      // Later lines inherit the timestamp of the first line of their second.
      expect(events.every((e) => typeof e.startUs === 'number')).toBe(true);
      expect(events.every((e) => (e.startUs as number) % 1_000_000 === 0)).toBe(
        true,
      );
    });
  });

  it('Execute lines of the binary protocol carry substituted values', async () => {
    const { events } = await parseCached(
      path.join(SAMPLES, 'mariadb-sysbench-prepared', 'mariadb_general.log.gz'),
    );
    const point = events.filter((e) =>
      /^SELECT c FROM sbtest\d WHERE id=\d+$/.test(e.sql),
    );
    expect(point.length).toBeGreaterThan(1000);
    expect(events.some((e) => e.sql.includes('?'))).toBe(false);
  });
});
