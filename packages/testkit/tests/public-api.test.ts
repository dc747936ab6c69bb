import * as testkit from '@stb/testkit';

describe('@stb/testkit public API', () => {
  it('exports exactly the reviewed names', () => {
    // A change here is an API change: review it, then update with `npx jest -u`.
    expect(Object.keys(testkit).sort()).toMatchSnapshot();
  });
});
