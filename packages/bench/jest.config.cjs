// PGlite imports its own modules dynamically, which jest's VM allows only with
// --experimental-vm-modules: pass it to the test workers jest forks.
if (!/--experimental-vm-modules/.test(process.env.NODE_OPTIONS ?? ''))
  process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --experimental-vm-modules --no-warnings=ExperimentalWarning`.trim();

module.exports = {
  ...require('../../jest.preset.cjs'),
  displayName: 'bench',
  globalSetup: '<rootDir>/tests/global-setup.cjs',
};
