import type { QueryType } from '@stb/core';

/**
 * What the `mysql` and `mysql-lean` plugins decide alike, whatever sends the bytes (issue 16
 * follow-up).
 */

/**
 * Whether a statement of this type goes as text (COM_QUERY), never prepared: TCL, UTILITY and
 * DDL statements cannot always be prepared.
 */
export function isTextOnly(queryType: QueryType): boolean {
  return queryType === 'TCL' || queryType === 'UTILITY' || queryType === 'DDL';
}

/** The server's version with its product: `MariaDB <version>` or `MySQL <version>`. */
export function mysqlServerLabel(version: string): string {
  return /mariadb/i.test(version) ? `MariaDB ${version}` : `MySQL ${version}`;
}
