import { createKnexPgTarget, createKnexSqliteTarget } from './helpers/targets';
import { describeDbPlugin } from './helpers/conformance';

// The generic knex plugin through the same conformance suite as the dedicated plugins.
// (knex's `sqlite3` client is not installed here; `better-sqlite3` covers knex's SQLite path.)
describe('knex with its pg client, on the shared PostgreSQL', () => {
  describeDbPlugin('knex', createKnexPgTarget());
});
describe('knex with its better-sqlite3 client', () => {
  describeDbPlugin('knex', createKnexSqliteTarget());
});
