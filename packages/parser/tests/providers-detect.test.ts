import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import { readLines } from '@stb/core';
import { builtinLogFormats } from '../src/index';
import { GENERATED, SAMPLES } from './helpers';

// Every fixture against every detector: the right format wins, and no managed-service format
// claims (≥ 0.3) a file that is not its own, so detection never mistakes one for another.
const EXPECTED: Record<string, string> = {
  'pg-providers/cloudsql.jsonl.gz': 'gcp-postgres',
  'pg-providers/cloudsql-notime.jsonl.gz': 'gcp-postgres',
  'pg-providers/cloudsql-array.json.gz': 'gcp-postgres',
  'pg-providers/alloydb.json.gz': 'gcp-postgres',
  'pg-providers/azure.jsonl.gz': 'azure-postgres',
  'pg-providers/azure-records.json.gz': 'azure-postgres',
  'pg-providers/azure-la.csv.gz': 'azure-postgres',
  'pg-providers/heroku-logplex.log.gz': 'heroku-postgres',
  'pg-providers/rds-cloudwatch-s3.txt.gz': 'aws-postgres',
  'pg-providers/rds-cloudwatch-filter.json.gz': 'aws-postgres',
  'pg-providers/rds-cloudwatch-get.json.gz': 'aws-postgres',
  'pg-providers/rds-download-portion.json.gz': 'aws-postgres',
  'pg-providers/rds-download-portion.txt.gz': 'postgres-stderr',
  'pg-providers/rds-insights.csv.gz': 'aws-postgres',
  'pg-providers/cloudsql.log.gz': 'postgres-stderr',
  'pg-providers/azure.log.gz': 'postgres-stderr',
  'pg-providers/heroku.log.gz': 'postgres-stderr',
  'pg-providers/rds.log.gz': 'postgres-stderr',
  'pg-providers/nostatements.log.gz': 'postgres-stderr',
  'mariadb-tables/general-cloudsql.jsonl.gz': 'gcp-mysql',
  'mariadb-tables/general-cloudwatch-s3.txt.gz': 'aws-mysql',
  'mariadb-tables/general-cloudwatch-filter.json.gz': 'aws-mysql',
  'mariadb-tables/general-cloudwatch-get.json.gz': 'aws-mysql',
  'mariadb-tables/general-insights.csv': 'aws-mysql',
  'mariadb-tables/azure-audit.json.gz': 'azure-mysql',
  'mariadb-tables/azure-audit-la.csv': 'azure-mysql',
  'mariadb-tables/azure-slow.jsonl.gz': 'azure-mysql',
  'mariadb-tables/general_log.tsv': 'mysql-table',
  'mariadb-tables/general_log.txt': 'mysql-table',
  'mariadb-tables/general_log.csv': 'mysql-table',
  'mariadb-tables/slow_log.tsv': 'mysql-table',
  'mariadb-tables/general.log': 'mysql-general',
  'mariadb-tables/slow.log': 'mysql-slow',
  'pg-logstatement-duration/postgresql.log.gz': 'postgres-stderr',
  'pg-logstatement-duration/postgresql.csv.gz': 'postgres-csvlog',
  'pg-logstatement-duration/postgresql.json.gz': 'postgres-jsonlog',
  'pg-mindur-rds/postgresql.log.gz': 'postgres-stderr',
  'mariadb-sysbench-small/general.log.gz': 'mysql-general',
  'mariadb-sysbench-small/slow.log.gz': 'mysql-slow',
};
const ENVELOPES = new Set([
  'gcp-postgres',
  'gcp-mysql',
  'azure-postgres',
  'azure-mysql',
  'aws-postgres',
  'aws-mysql',
  'heroku-postgres',
  'mysql-table',
]);

async function head(file: string): Promise<string[]> {
  const out: string[] = [];
  for await (const l of readLines(file)) {
    out.push(l.text);
    if (out.length >= 200) break;
  }
  return out;
}

const sampleDirs = readdirSync(SAMPLES, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name);

it('lists every generated provider fixture', () => {
  for (const dir of ['pg-providers', 'mariadb-tables'])
    for (const f of readdirSync(path.join(GENERATED, dir)))
      if (/\.(gz|tsv|txt|csv|log)$/.test(f) && f !== 'tables.txt')
        expect(Object.keys(EXPECTED)).toContain(`${dir}/${f}`);
});

describe.each(Object.entries(EXPECTED))('%s', (file, expected) => {
  it(`is detected as ${expected}, and no other format scores as high`, async () => {
    const sample = await head(path.join(GENERATED, file));
    const scores = builtinLogFormats.map((f) => ({
      name: f.name,
      score: f.detect ? f.detect(sample) : 0,
    }));
    const own = scores.find((s) => s.name === expected)?.score ?? 0;
    expect(own).toBeGreaterThan(0.5);
    const rivals = scores.filter((s) => s.name !== expected && s.score >= own);
    expect(rivals).toEqual([]);
    const claims = scores.filter(
      (s) => s.name !== expected && ENVELOPES.has(s.name) && s.score >= 0.3,
    );
    expect(claims).toEqual([]);
  });
});

describe.each(sampleDirs)('real sample %s', (dir) => {
  it('is claimed by no managed-service format', async () => {
    for (const f of readdirSync(path.join(SAMPLES, dir))) {
      if (!/\.(gz|log|sql|csv|json)$/.test(f)) continue;
      const sample = await head(path.join(SAMPLES, dir, f));
      const claims = builtinLogFormats
        .filter((x) => ENVELOPES.has(x.name))
        .map((x) => ({ file: f, name: x.name, score: x.detect?.(sample) ?? 0 }))
        .filter((s) => s.score >= 0.3);
      expect(claims).toEqual([]);
    }
  });
});
