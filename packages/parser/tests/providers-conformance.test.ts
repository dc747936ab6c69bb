import * as path from 'node:path';
import { describeLogFormat } from '@stb/testkit';
import * as parser from '../src/index';
import { GENERATED } from './helpers';

// Each managed-service format against its real-server fixture (tests/fixtures/README.md). The
// PostgreSQL client ran 56 statements on 3 connections (client.json) plus one long statement
// from psql on a 4th; the MariaDB run logged 16 statements on 4 connections (general.log).
const pg = (f: string) => path.join(GENERATED, 'pg-providers', f);
const my = (f: string) => path.join(GENERATED, 'mariadb-tables', f);
const PG_EVENTS = 57;
const PG_SESSIONS = 4;
const MY_EVENTS = 16;
const MY_SESSIONS = 4;

describeLogFormat(parser.gcpPostgres, {
  samples: [
    {
      name: 'Cloud SQL, JSON lines',
      file: pg('cloudsql.jsonl.gz'),
      expectedEvents: PG_EVENTS,
      expectedSessions: PG_SESSIONS,
    },
    {
      name: 'Cloud SQL, gcloud JSON array',
      file: pg('cloudsql-array.json.gz'),
      expectedEvents: PG_EVENTS,
      expectedSessions: PG_SESSIONS,
    },
    {
      name: 'AlloyDB, jsonPayload.message',
      file: pg('alloydb.json.gz'),
      expectedEvents: PG_EVENTS,
      expectedSessions: PG_SESSIONS,
    },
  ],
});
describeLogFormat(parser.gcpMysql, {
  samples: [
    {
      name: 'Cloud SQL for MySQL general log',
      file: my('general-cloudsql.jsonl.gz'),
      expectedEvents: MY_EVENTS,
      expectedSessions: MY_SESSIONS,
    },
  ],
});
describeLogFormat(parser.azurePostgres, {
  samples: [
    {
      name: 'diagnostic settings, JSON lines',
      file: pg('azure.jsonl.gz'),
      expectedEvents: PG_EVENTS,
      expectedSessions: PG_SESSIONS,
    },
    {
      name: 'Log Analytics, portal CSV',
      file: pg('azure-la.csv.gz'),
      expectedEvents: PG_EVENTS,
      expectedSessions: PG_SESSIONS,
    },
  ],
});
describeLogFormat(parser.azureMysql, {
  samples: [
    {
      name: 'audit log, diagnostic settings {"records": […]}',
      file: my('azure-audit.json.gz'),
      expectedEvents: MY_EVENTS,
      expectedSessions: MY_SESSIONS,
    },
    {
      name: 'audit log, Log Analytics portal CSV',
      file: my('azure-audit-la.csv'),
      expectedEvents: MY_EVENTS,
      expectedSessions: MY_SESSIONS,
    },
  ],
});
describeLogFormat(parser.awsPostgres, {
  samples: [
    {
      name: 'Logs Insights CSV',
      file: pg('rds-insights.csv.gz'),
      expectedEvents: PG_EVENTS,
      expectedSessions: PG_SESSIONS,
    },
    {
      name: 'CloudWatch S3 export',
      file: pg('rds-cloudwatch-s3.txt.gz'),
      expectedEvents: PG_EVENTS,
      expectedSessions: PG_SESSIONS,
    },
    {
      name: 'filter-log-events JSON',
      file: pg('rds-cloudwatch-filter.json.gz'),
      expectedEvents: PG_EVENTS,
      expectedSessions: PG_SESSIONS,
    },
  ],
});
describeLogFormat(parser.awsMysql, {
  samples: [
    {
      name: 'CloudWatch S3 export of the general log',
      file: my('general-cloudwatch-s3.txt.gz'),
      expectedEvents: MY_EVENTS,
      expectedSessions: MY_SESSIONS,
    },
    {
      name: 'get-log-events JSON',
      file: my('general-cloudwatch-get.json.gz'),
      expectedEvents: MY_EVENTS,
      expectedSessions: MY_SESSIONS,
    },
    {
      name: 'Logs Insights CSV of the general log',
      file: my('general-insights.csv'),
      expectedEvents: MY_EVENTS,
      expectedSessions: MY_SESSIONS,
    },
  ],
});
describeLogFormat(parser.herokuPostgres, {
  samples: [
    {
      name: 'logplex',
      file: pg('heroku-logplex.log.gz'),
      expectedEvents: PG_EVENTS,
      expectedSessions: PG_SESSIONS,
    },
  ],
});
describeLogFormat(parser.mysqlTable, {
  samples: [
    {
      name: 'general_log, mysql --batch',
      file: my('general_log.tsv'),
      expectedEvents: MY_EVENTS,
      expectedSessions: MY_SESSIONS,
    },
    {
      name: 'general_log, INTO OUTFILE CSV',
      file: my('general_log.csv'),
      expectedEvents: MY_EVENTS,
      expectedSessions: MY_SESSIONS,
    },
    {
      name: 'slow_log, mysql --batch',
      file: my('slow_log.tsv'),
      expectedEvents: MY_EVENTS,
      expectedSessions: MY_SESSIONS,
    },
  ],
});
