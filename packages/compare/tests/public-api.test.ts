import * as api from '../src/index';

it('exports exactly the documented public API', () => {
  expect(Object.keys(api).sort()).toEqual([
    'compareBenchResults',
    'incompleteRunWarning',
    'parseBenchResult',
    'parseErrorRateThreshold',
    'parseRegressionThreshold',
    'renderComparisonHtml',
  ]);
});
