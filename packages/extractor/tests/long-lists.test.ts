import type { RawQueryEvent } from '@stb/core';
import { createExtractor } from '../src/index';
import { readPgSample } from './sample-logs';

const raw = (sql: string, i: number): RawQueryEvent => ({
  sessionId: 's1',
  sql,
  source: { file: 'test', line: i + 1 },
  dialect: 'postgres',
  startUs: 1_700_000_000_000_000 + i,
});

/** Statements with lists and with literals PostgreSQL's normaliser keeps (casts' type modifiers). */
const STATEMENTS = [
  "INSERT INTO t (id, name, day) VALUES (1, 'a'::varchar(5), '2024-01-01'), (2, 'b'::varchar(5), '2024-01-02'), (3, 'c'::varchar(5), '2024-01-03')",
  "SELECT a::numeric(10, 2) FROM t WHERE id IN (1, 2, 3, 4) AND k IN ('x', 'y') ORDER BY 1 LIMIT 5",
  'INSERT INTO t VALUES (1, 2), (3, 4), (5, 6) ON CONFLICT (id) DO UPDATE SET v = excluded.v + 1',
  "SELECT * FROM t WHERE (a, b) IN ((1, 2), (3, 4)) AND c = ANY (ARRAY[1, 2, 3]) AND d::char(3) = 'abc'",
  'UPDATE t SET v = v + 1 WHERE id IN (7, 8, 9) RETURNING id',
  "INSERT INTO t VALUES (1, 'x'), (2, 'y') /* a comment */",
  'SELECT 1 FROM t WHERE id IN ($1, $2, $3)',
  'INSERT INTO t VALUES ($1, $2), ($3, $4)',
  // libpg-query cannot parse it: the lexer's template either way
  'INSERT INTO t VALUES (1, 2), (3, 4) garbage here',
  `INSERT INTO big (id, name, score) VALUES ${Array.from({ length: 2000 }, (_, i) => `(${i}, 'n${i}', ${i * 1.5})`).join(', ')}`,
];

describe('long statements: libpg-query normalises their lists cut to one element', () => {
  it('gives the templates, parameters and paths of the whole statement, on samples and on lists', async () => {
    const whole = await createExtractor();
    const cut = await createExtractor({ cutListsAbove: 0 });
    const events = [
      ...STATEMENTS.map(raw),
      ...readPgSample('pg-webapp-logstatement'),
      ...readPgSample('pg-tpcb-simple-logstatement').slice(0, 2000),
    ];
    let withLists = 0;
    for (const e of events) {
      const a = whole.extract(e);
      const b = cut.extract(e);
      expect(b.template).toEqual(a.template);
      expect(b.event).toEqual(a.event);
      if (a.template.slots.some((s) => s.type === 'list')) withLists++;
    }
    // the cut path was taken, on statements libpg-query parses
    expect(withLists).toBeGreaterThanOrEqual(8);
  });
});
