import type * as PgAnalyze from './pg-analyze';

// libpg-query is imported when an extractor is created (`loadPostgresParser`), not with the module.
// Before that, its functions must fail loudly: a caller that forgot to wait would otherwise read
// every statement as one libpg-query cannot parse, and silently lose PostgreSQL's own templates.
describe('pg-analyze before and after loadPostgresParser', () => {
  it('throws before the parser is loaded, parses after', async () => {
    let mod: typeof PgAnalyze | undefined;
    // A fresh copy of the module: nothing else in this process has loaded its parser.
    await jest.isolateModulesAsync(async () => {
      mod = await import('./pg-analyze');
    });
    const m = mod as typeof PgAnalyze;
    expect(m.isPostgresParserReady()).toBe(false);
    expect(() => m.pgNormalize('SELECT 1')).toThrow(/not loaded/);
    expect(() => m.analyzePg('SELECT a FROM t WHERE b = $1')).toThrow(
      /not loaded/,
    );
    await m.loadPostgresParser();
    expect(m.isPostgresParserReady()).toBe(true);
    expect(m.pgNormalize('SELECT 1')).toBe('SELECT $1');
    // Unparseable text is still "cannot parse", not an error.
    expect(m.pgNormalize('SELEC nonsense')).toBeUndefined();
    expect(m.analyzePg('SELECT a FROM t WHERE b = $1')).toBeDefined();
  });
});
