import * as api from '../src/index';

it('public API of @stb/parser', () => {
  expect(Object.keys(api).sort()).toMatchInlineSnapshot(`
   [
     "CLOUDSQL_PG_PREFIX",
     "COMMON_PG_PREFIXES",
     "MIN_DETECT_CONFIDENCE",
     "PgRangeStitcher",
     "awsMysql",
     "awsPostgres",
     "azureMysql",
     "azurePostgres",
     "builtinLogFormats",
     "defineLogFormat",
     "detectLogFormat",
     "emptyParseSummary",
     "explainNoStatements",
     "findPgRangeStart",
     "gcpMysql",
     "gcpPostgres",
     "herokuPostgres",
     "loadFormatPackage",
     "mysqlGeneral",
     "mysqlSlow",
     "mysqlTable",
     "parseLogBatches",
     "parseLogs",
     "parsePgRange",
     "pgRangeInputChanged",
     "pgRangeTag",
     "plainSql",
     "planPgRanges",
     "postgresCsvlog",
     "postgresJsonlog",
     "postgresStderr",
     "withFormats",
   ]
  `);
});

it('every built-in format is a valid plugin with a unique name and options schema', () => {
  const names = api.builtinLogFormats.map((f) => f.name);
  expect(new Set(names).size).toBe(names.length);
  expect(names).toEqual([
    'gcp-postgres',
    'gcp-mysql',
    'azure-postgres',
    'azure-mysql',
    'aws-postgres',
    'aws-mysql',
    'heroku-postgres',
    'mysql-table',
    'postgres-jsonlog',
    'postgres-csvlog',
    'postgres-stderr',
    'mysql-slow',
    'mysql-general',
    'plain-sql',
  ]);
  for (const f of api.builtinLogFormats) {
    expect(f.kind).toBe('log-format');
    expect(f.apiVersion).toBe(1);
    expect(f.options.safeParse({}).success).toBe(true);
    expect(typeof f.detect).toBe('function');
  }
});
