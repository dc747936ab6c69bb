import { splitSqlScript } from '@stb/core';
import type { Dialect } from '@stb/core';

/** One statement of an SQL script. */
export interface SqlStatement {
  /** Statement text without the terminating `;` (comments before it are dropped). */
  readonly text: string;
  /** 1-based line where the statement starts (its first significant character). */
  readonly line: number;
}

/**
 * Splits an SQL script (`--setup`/`--teardown`) at top-level `;`, respecting quotes, comments,
 * dollar quotes and MySQL `DELIMITER` lines (honoured for every dialect). Empty statements are
 * dropped. `options.dialect` sets the quoting rules of the target (default `postgres`; `mysql`
 * for MySQL/MariaDB scripts, where backslashes escape quotes; `sqlite` splits with the
 * `postgres` rules). A thin wrapper over `@stb/core`'s `splitSqlScript`.
 * @example
 * for (const st of splitSqlStatements(readFileSync('setup.sql', 'utf8'))) await run(st.text);
 */
export function splitSqlStatements(
  script: string,
  options: { dialect?: Dialect | 'sqlite' } = {},
): SqlStatement[] {
  const dialect = options.dialect === 'mysql' ? 'mysql' : 'postgres';
  return splitSqlScript(script, { dialect, delimiterCommand: true }).map(
    (s) => ({ text: s.sql, line: s.line }),
  );
}
