import * as path from 'node:path';
import { describeLogFormat } from '@stb/testkit';
import * as parser from '../src/index';

// Every built-in format against a real sample. Counts are the servers' own
// (fixtures/samples/manifest.json) or grep counts of the log (slow log: `^# Query_time`
// entries, distinct `Thread_id`s); plain SQL makes each statement its own session.
const samples = path.resolve(__dirname, '../../../fixtures/samples');
const pg = (dir: string, ext: string) =>
  path.join(samples, dir, `postgresql.${ext}.gz`);
const gen = path.resolve(
  __dirname,
  'fixtures/generated/mariadb-sysbench-small',
);

describeLogFormat(parser.postgresStderr, {
  samples: [
    {
      name: 'pgbench -M extended, log_statement',
      file: pg('pg-tpcb-extended-logstatement', 'log'),
      expectedEvents: 3372,
      expectedSessions: 5,
    },
  ],
});
describeLogFormat(parser.postgresCsvlog, {
  samples: [
    {
      name: 'pgbench -M simple, log_min_duration_statement',
      file: pg('pg-tpcb-simple-logduration', 'csv'),
      expectedEvents: 3183,
      expectedSessions: 5,
    },
  ],
});
describeLogFormat(parser.postgresJsonlog, {
  samples: [
    {
      name: 'pgbench -M simple, log_min_duration_statement',
      file: pg('pg-tpcb-simple-logduration', 'json'),
      expectedEvents: 3183,
      expectedSessions: 5,
    },
  ],
});
describeLogFormat(parser.mysqlGeneral, {
  samples: [
    {
      name: 'sysbench, text protocol',
      file: path.join(
        samples,
        'mariadb-sysbench-text',
        'mariadb_general.log.gz',
      ),
      expectedEvents: 3921,
      expectedSessions: 5,
    },
  ],
});
describeLogFormat(parser.mysqlSlow, {
  samples: [
    {
      name: 'sysbench, slow log',
      file: path.join(gen, 'slow.log.gz'),
      expectedEvents: 420,
      expectedSessions: 9,
    },
  ],
});
describeLogFormat(parser.plainSql, {
  samples: [
    {
      name: 'a script',
      lines: [
        '-- setup',
        'SELECT 1;',
        'INSERT INTO t (a)',
        '  VALUES (1);',
        'UPDATE t SET a = 2 WHERE a = 1;',
      ],
      expectedEvents: 3,
      expectedSessions: 3,
    },
  ],
});
