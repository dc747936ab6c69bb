import * as api from '../src/index';

test('public API surface', () => {
  expect(Object.keys(api).sort()).toEqual([
    'ResultPacker',
    'assembleTraceBatches',
    'classifyQuery',
    'createExtractor',
    'extractResult',
    'extractTrace',
    'extractTraceBatches',
    'normalizeSql',
    'traceFromLog',
  ]);
});

test('classifyQuery works on any text without a parser', () => {
  expect(api.classifyQuery('with x as (select 1) update t set a = 1')).toBe(
    'UPDATE',
  );
  expect(api.classifyQuery('REPLACE INTO t VALUES (1)', 'mysql')).toBe('MERGE');
  expect(api.classifyQuery('\u0000\u0001garbage')).toBe('OTHER');
});
