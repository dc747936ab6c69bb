module.exports = {
  ...require('../jest.preset.cjs'),
  displayName: 'examples',
  testMatch: ['<rootDir>/tests/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '/custom-model/'],
  // The tests run whole programs (the demo, the examples against packed packages).
  testTimeout: 180000,
};
