import * as api from '../src/index';

it('exports exactly the documented public API', () => {
  expect(Object.keys(api).sort()).toEqual([
    'compareBenchResults',
    'parseBenchResult',
    'parseErrorRateThreshold',
    'parseRegressionThreshold',
    'renderComparisonHtml',
  ]);
});
