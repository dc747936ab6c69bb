import * as api from '../src/index';
import * as knex from '../src/db/knex';
import * as mysql from '../src/db/mysql';
import * as mysqlLean from '../src/db/mysql-lean';
import * as pgLean from '../src/db/pg-lean';
import * as pgNative from '../src/db/pg-native';
import * as pglite from '../src/db/pglite';
import * as postgres from '../src/db/postgres';
import * as sqlite from '../src/db/sqlite';

// Any change to the surface of @stb/bench (and its `./db/*` entry points) shows up here in review.
test('public API surface', () => {
  expect(Object.keys(api).sort()).toMatchSnapshot();
});

test.each([
  ['db/postgres', postgres],
  ['db/mysql', mysql],
  ['db/sqlite', sqlite],
  ['db/pglite', pglite],
  ['db/knex', knex],
  ['db/pg-lean', pgLean],
  ['db/pg-native', pgNative],
  ['db/mysql-lean', mysqlLean],
])('public API surface of @stb/bench/%s', (_name, mod) => {
  expect(Object.keys(mod).sort()).toMatchSnapshot();
});
