import { compileSqlTemplate } from './template';

describe('compileSqlTemplate', () => {
  it('finds placeholders outside literals, identifiers and comments (PostgreSQL)', () => {
    const t = compileSqlTemplate(
      `SELECT '$1', "a$2", $x$ $3 $x$, $$ $4 $$, E'\\' $5', col$6 -- $7\n/* $8 /* $9 */ $10 */ FROM t WHERE a = $2 AND b = $1`,
      'postgres',
    );
    expect(t.slots).toEqual([1, 0]);
    expect(t.parts[1]).toBe(' AND b = ');
    expect(t.parts).toHaveLength(t.slots.length + 1);
  });

  it('treats a backslash in a standard PostgreSQL string as text', () => {
    // 'C:\' ends at its second quote under standard_conforming_strings, so $1 is a slot.
    const t = compileSqlTemplate("SELECT 'C:\\' || $1", 'postgres');
    expect(t.slots).toEqual([0]);
    expect(t.parts[0]).toBe("SELECT 'C:\\' || ");
  });

  it('finds placeholders outside literals, identifiers and comments (MySQL)', () => {
    const t = compileSqlTemplate(
      'SELECT \'\\\' $1\', "$2\\"", `$3`, a-- $4\n# $5\n-- $6\n/* $7 */ $8',
      'mysql',
    );
    // `a-- $4`: a MySQL `--` comment needs whitespace after it; here it has one.
    expect(t.slots).toEqual([7]);
    const u = compileSqlTemplate('SELECT 1--$1', 'mysql');
    expect(u.slots).toEqual([0]);
  });

  it('skips $n in strings, identifiers, comments and dollar quotes, and keeps parts (bench cases)', () => {
    const p = compileSqlTemplate(
      `SELECT '$1', "a$2", $$ $3 $$, x$4 /* $5 */ FROM t WHERE a = $2 -- $6\n AND b = $1`,
      'postgres',
    );
    expect(p.slots).toEqual([1, 0]);
    expect(p.parts.join('?')).toBe(
      `SELECT '$1', "a$2", $$ $3 $$, x$4 /* $5 */ FROM t WHERE a = ? -- $6\n AND b = ?`,
    );
  });

  it('reads unterminated quotes and comments to the end of the text', () => {
    for (const text of ["SELECT '$1", 'SELECT /* $1', 'SELECT $x$ $1']) {
      const t = compileSqlTemplate(text, 'postgres');
      expect(t.slots).toEqual([]);
      expect(t.parts).toEqual([text]);
    }
  });

  it('drops the squashed-list marker after a placeholder', () => {
    const t = compileSqlTemplate(
      'SELECT 1 WHERE a IN ($1 /*, ... */)',
      'postgres',
    );
    expect(t.parts).toEqual(['SELECT 1 WHERE a IN (', ')']);
  });

  it('records what precedes each placeholder', () => {
    const t = compileSqlTemplate(
      'SELECT a-$1, ARRAY[$2], BYTEA $3, ($4)',
      'postgres',
    );
    expect(t.afterOperator).toEqual([true, false, false, false]);
    expect(t.inBracket).toEqual([false, true, false, false]);
    expect(t.afterWord).toEqual([false, false, true, false]);
  });
});
