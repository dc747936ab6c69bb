import mysql from 'mysql2/promise';
import { runBench } from '../src/runner';
import { createMysqlDatabase } from './helpers/db';
import { TraceBuilder, template } from './helpers/trace';

// --setup scripts are split with the target's quoting rules: on MySQL/MariaDB a backslash
// escapes a quote, so `'it\'s; here'` is one string and the `;` inside it ends nothing.
const SETUP = [
  'CREATE TABLE notes (id int PRIMARY KEY, note text);',
  "INSERT INTO notes VALUES (1, 'it\\'s; here');",
  "INSERT INTO notes VALUES (2, 'plain');",
].join('\n');

describe('setup scripts on MariaDB', () => {
  it('split with MySQL quoting: a backslash-escaped quote does not end the string', async () => {
    const db = await createMysqlDatabase();
    if (!db) return;
    try {
      const t = template(
        'mysql',
        'SELECT note FROM notes WHERE id = $1',
        'SELECT',
      );
      const trace = new TraceBuilder('mysql')
        .add('s1', t, [{ t: 'int', v: 1 }])
        .trace();
      const result = await runBench(trace, {
        target: db.url,
        mode: 'closed',
        workers: 0,
        connections: 1,
        setup: { name: 'setup.sql', sql: SETUP },
      });
      expect(result.overall.count).toBe(1);
      expect(result.overall.errors).toBe(0);
      const c = await mysql.createConnection({ uri: db.url });
      try {
        const [rows] = await c.query('SELECT id, note FROM notes ORDER BY id');
        expect(rows).toEqual([
          { id: 1, note: "it's; here" },
          { id: 2, note: 'plain' },
        ]);
      } finally {
        await c.end();
      }
    } finally {
      await db.drop();
    }
  });
});
