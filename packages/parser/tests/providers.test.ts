import * as path from 'node:path';
import { GENERATED, comparable, parseAll } from './helpers';

// Managed-service envelopes around real server logs (fixtures/README.md): each must be detected
// without --format and give the same events (statements, sessions, parameters, times, errors) as
// the plain server log it wraps.
const PG = path.join(GENERATED, 'pg-providers');
const MY = path.join(GENERATED, 'mariadb-tables');

interface Case {
  envelope: string;
  format: string;
  plain: string;
  /** Compare times at this resolution (µs). */
  resolutionUs?: number;
  /** Sessions compared by partition only (ids carry the envelope's finer connection time). */
  sameIds?: boolean;
}

const CASES: Case[] = [
  {
    envelope: 'cloudsql.jsonl.gz',
    format: 'gcp-postgres',
    plain: 'cloudsql.log.gz',
  },
  {
    envelope: 'cloudsql-array.json.gz',
    format: 'gcp-postgres',
    plain: 'cloudsql.log.gz',
  },
  {
    envelope: 'cloudsql-notime.jsonl.gz',
    format: 'gcp-postgres',
    plain: 'cloudsql.log.gz',
  },
  {
    envelope: 'alloydb.json.gz',
    format: 'gcp-postgres',
    plain: 'cloudsql.log.gz',
  },
  {
    envelope: 'azure.jsonl.gz',
    format: 'azure-postgres',
    plain: 'azure.log.gz',
  },
  {
    envelope: 'azure-records.json.gz',
    format: 'azure-postgres',
    plain: 'azure.log.gz',
  },
  {
    envelope: 'azure-la.csv.gz',
    format: 'azure-postgres',
    plain: 'azure.log.gz',
  },
  {
    envelope: 'heroku-logplex.log.gz',
    format: 'heroku-postgres',
    plain: 'heroku.log.gz',
  },
  {
    envelope: 'rds-cloudwatch-s3.txt.gz',
    format: 'aws-postgres',
    plain: 'rds.log.gz',
  },
  {
    envelope: 'rds-cloudwatch-filter.json.gz',
    format: 'aws-postgres',
    plain: 'rds.log.gz',
  },
  {
    envelope: 'rds-cloudwatch-get.json.gz',
    format: 'aws-postgres',
    plain: 'rds.log.gz',
  },
  {
    envelope: 'rds-download-portion.json.gz',
    format: 'aws-postgres',
    plain: 'rds.log.gz',
  },
  {
    envelope: 'rds-insights.csv.gz',
    format: 'aws-postgres',
    plain: 'rds.log.gz',
  },
  // `--output text` is the server's own log (pages separated by a blank line).
  {
    envelope: 'rds-download-portion.txt.gz',
    format: 'postgres-stderr',
    plain: 'rds.log.gz',
  },
].map((c) => ({
  ...c,
  envelope: path.join(PG, c.envelope),
  plain: path.join(PG, c.plain),
}));
const MY_CASES: Case[] = [
  {
    envelope: 'general-cloudsql.jsonl.gz',
    format: 'gcp-mysql',
    plain: 'general.log',
  },
  {
    envelope: 'general-cloudwatch-s3.txt.gz',
    format: 'aws-mysql',
    plain: 'general.log',
  },
  {
    envelope: 'general-cloudwatch-filter.json.gz',
    format: 'aws-mysql',
    plain: 'general.log',
  },
  {
    envelope: 'general-cloudwatch-get.json.gz',
    format: 'aws-mysql',
    plain: 'general.log',
  },
  {
    envelope: 'general-insights.csv',
    format: 'aws-mysql',
    plain: 'general.log',
  },
  {
    envelope: 'azure-audit.json.gz',
    format: 'azure-mysql',
    plain: 'general.log',
  },
  {
    envelope: 'azure-audit-la.csv',
    format: 'azure-mysql',
    plain: 'general.log',
  },
  {
    envelope: 'azure-slow.jsonl.gz',
    format: 'azure-mysql',
    plain: 'slow.log',
    resolutionUs: 1e6,
    sameIds: false,
  },
  {
    envelope: 'general_log.tsv',
    format: 'mysql-table',
    plain: 'general.log',
    resolutionUs: 1e6,
    sameIds: false,
  },
  {
    envelope: 'general_log.txt',
    format: 'mysql-table',
    plain: 'general.log',
    resolutionUs: 1e6,
    sameIds: false,
  },
  {
    envelope: 'general_log.csv',
    format: 'mysql-table',
    plain: 'general.log',
    resolutionUs: 1e6,
    sameIds: false,
  },
  {
    envelope: 'slow_log.tsv',
    format: 'mysql-table',
    plain: 'slow.log',
    resolutionUs: 1e6,
    sameIds: false,
  },
].map((c) => ({
  ...c,
  envelope: path.join(MY, c.envelope),
  plain: path.join(MY, c.plain),
}));

describe('managed-service envelopes give the events of the log they wrap', () => {
  for (const c of [...CASES, ...MY_CASES]) {
    it(`${path.basename(c.envelope)} (${c.format}) = ${path.basename(c.plain)}`, async () => {
      const env = await parseAll(c.envelope);
      const plain = await parseAll(c.plain);
      expect(env.summary.files[0]?.format).toBe(c.format);
      expect(env.summary.skipped['invalid'] ?? 0).toBe(0);
      expect(plain.events.length).toBeGreaterThan(10);
      expect(env.events).toHaveLength(plain.events.length);
      const res = c.resolutionUs ?? 1;
      expect(comparable(env.events, res)).toEqual(
        comparable(plain.events, res),
      );
      if (c.sameIds !== false)
        expect([...new Set(env.events.map((e) => e.sessionId))].sort()).toEqual(
          [...new Set(plain.events.map((e) => e.sessionId))].sort(),
        );
    });
  }
});
