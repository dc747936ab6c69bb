import * as api from '@stb/cli';

it('exports exactly the documented public API', () => {
  expect(Object.keys(api).sort()).toMatchSnapshot();
});
