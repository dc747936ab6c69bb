import type { AnyLogFormat } from '../detect';
import { mysqlGeneral } from './mysql-general';
import { mysqlSlow } from './mysql-slow';
import { plainSql } from './plain-sql';
import { postgresCsvlog } from './postgres-csvlog';
import { postgresJsonlog } from './postgres-jsonlog';
import { postgresStderr } from './postgres-stderr';

/** The built-in log formats, in detection tie-break order. */
export const builtinLogFormats: readonly AnyLogFormat[] = [
  postgresJsonlog,
  postgresCsvlog,
  postgresStderr,
  mysqlSlow,
  mysqlGeneral,
  plainSql,
];
