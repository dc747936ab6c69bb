import * as api from '@stb/generator';

it('exports exactly the documented public API', () => {
  expect(Object.keys(api).sort()).toMatchSnapshot();
});
