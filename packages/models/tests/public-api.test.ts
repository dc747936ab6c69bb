import * as api from '../src/index';

it('public API of @stb/models', () => {
  expect(Object.keys(api).sort()).toMatchSnapshot();
});
