import { isLoggingControl } from './logging-control';

describe('isLoggingControl', () => {
  it.each([
    'SET SESSION sql_log_off = 1',
    'set global general_log = OFF',
    'SET @@global.slow_query_log=0',
    "SET GLOBAL log_output = 'TABLE'",
    "SET log_statement = 'none'",
    'set log_min_duration_statement to -1',
    "ALTER SYSTEM SET log_statement = 'all'",
  ])('recognises %s', (sql) => expect(isLoggingControl(sql)).toBe(true));

  it.each([
    'SET SESSION sql_mode = 1',
    "SET application_name = 'x'",
    'SELECT general_log FROM t',
    'SET log_statement_stats = on',
    "UPDATE settings SET log_output = 'x'",
  ])('leaves %s', (sql) => expect(isLoggingControl(sql)).toBe(false));
});
