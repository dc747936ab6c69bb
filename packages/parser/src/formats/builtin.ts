import type { AnyLogFormat } from '../detect';
import { awsMysql, awsPostgres } from './aws-cloudwatch';
import { azureMysql } from './azure-mysql';
import { azurePostgres } from './azure-postgres';
import { gcpMysql, gcpPostgres } from './gcp-logging';
import { herokuPostgres } from './heroku-postgres';
import { mysqlGeneral } from './mysql-general';
import { mysqlSlow } from './mysql-slow';
import { mysqlTable } from './mysql-table';
import { plainSql } from './plain-sql';
import { postgresCsvlog } from './postgres-csvlog';
import { postgresJsonlog } from './postgres-jsonlog';
import { postgresStderr } from './postgres-stderr';

/**
 * The built-in log formats, in detection tie-break order: the managed-service envelopes first
 * (each also recognises the plain lines inside), then the servers' own formats.
 */
export const builtinLogFormats: readonly AnyLogFormat[] = [
  gcpPostgres,
  gcpMysql,
  azurePostgres,
  azureMysql,
  awsPostgres,
  awsMysql,
  herokuPostgres,
  mysqlTable,
  postgresJsonlog,
  postgresCsvlog,
  postgresStderr,
  mysqlSlow,
  mysqlGeneral,
  plainSql,
];
