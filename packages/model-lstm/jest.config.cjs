module.exports = { ...require('../../jest.preset.cjs'), displayName: 'model-lstm' };
