import type { Dialect, QueryType } from '@stb/core';
import { classifyText } from './internal/classify';

/**
 * The query type of a SQL statement by its leading keywords (works on any text, never throws):
 * SELECT, INSERT, UPDATE, DELETE, MERGE (also upserts: `ON CONFLICT DO UPDATE`,
 * `ON DUPLICATE KEY UPDATE`, `REPLACE`), DDL, TCL, UTILITY or OTHER.
 */
export function classifyQuery(
  sql: string,
  dialect: Dialect = 'postgres',
): QueryType {
  return classifyText(sql, dialect);
}
