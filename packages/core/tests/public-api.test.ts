import * as core from '@stb/core';

describe('@stb/core public API', () => {
  it('exports exactly the reviewed names', () => {
    // A change here is an API change: review it, then update with `npx jest -u`.
    expect(Object.keys(core).sort()).toMatchSnapshot();
  });
});
