import { statementFactsFromText, templateFacts } from './facts';

describe('statement facts (the one fallback for traces without `boundary`/`writes`)', () => {
  it.each([
    ['BEGIN', 'TCL', 'begin'],
    ['begin work', 'TCL', 'begin'],
    ['START TRANSACTION ISOLATION LEVEL SERIALIZABLE', 'TCL', 'begin'],
    ['COMMIT', 'TCL', 'end'],
    ['END', 'TCL', 'end'],
    ['ROLLBACK', 'TCL', 'end'],
    ['ABORT', 'TCL', 'end'],
    ["COMMIT PREPARED 'tx1'", 'TCL', null],
    ["ROLLBACK PREPARED 'tx1'", 'TCL', null],
    ['ROLLBACK TO SAVEPOINT s1', 'TCL', null],
    ['ROLLBACK WORK TO s1', 'TCL', null],
    ['SAVEPOINT s1', 'TCL', null],
    ["PREPARE TRANSACTION 'tx1'", 'TCL', null],
    ['BEGIN NOT ATOMIC SELECT 1; END', 'OTHER', 'begin'],
    ['BEGIN; END', 'OTHER', null],
    ['SELECT 1', 'SELECT', null],
  ] as const)('%s (%s) → %s', (text, queryType, boundary) => {
    expect(statementFactsFromText(text, queryType).boundary).toBe(boundary);
  });

  it.each([
    ['INSERT INTO t VALUES ($1)', 'INSERT', true],
    ['CREATE TABLE t (a int)', 'DDL', true],
    ['VACUUM t', 'UTILITY', true],
    ['SET work_mem = $1', 'UTILITY', false],
    ['show search_path', 'UTILITY', false],
    ['EXPLAIN SELECT 1', 'UTILITY', false],
    ['SELECT 1', 'SELECT', false],
    ['COMMIT', 'TCL', false],
  ] as const)('%s (%s) writes: %s', (text, queryType, writes) => {
    expect(statementFactsFromText(text, queryType).writes).toBe(writes);
  });

  it('prefers the facts a template record carries', () => {
    expect(
      templateFacts({ text: 'BEGIN', queryType: 'TCL', writes: false }),
    ).toEqual({ boundary: null, writes: false });
    expect(
      templateFacts({
        text: 'CALL commit_all()',
        queryType: 'UTILITY',
        boundary: 'end',
        writes: true,
      }),
    ).toEqual({ boundary: 'end', writes: true });
    expect(templateFacts({ text: 'COMMIT', queryType: 'TCL' })).toEqual({
      boundary: 'end',
      writes: false,
    });
  });
});
