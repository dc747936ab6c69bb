import * as api from '../src/index';

it('exports exactly the documented public API', () => {
  expect(Object.keys(api).sort()).toEqual([
    'KS_EXACT_MAX_CELLS',
    'chiSquareSf',
    'chiSquareTest',
    'defaultWeights',
    'ksPValue',
    'ksTwoSample',
    'parseWeights',
    'performanceFidelity',
    'renderHtmlReport',
    'resolveWeights',
    'totalVariation',
    'validateTraces',
  ]);
});
