import { resolve } from 'node:path';
import {
  KNOWN_MODEL_PACKAGES,
  createModelRegistry,
  isSequenceModel,
  loadModelPackage,
} from '@stb/models';
import * as api from '../src';

describe('public API', () => {
  it('exports exactly these names', () => {
    expect(Object.keys(api).sort()).toMatchInlineSnapshot(`
      [
        "LstmConfig",
        "LstmOptions",
        "LstmState",
        "LstmTrainingSummary",
        "LstmWeight",
        "lstmModel",
        "plugin",
      ]
    `);
  });

  it('exports `plugin`, a sequence model named lstm that the models registry loads', async () => {
    expect(isSequenceModel(api.plugin)).toBe(true);
    expect(api.plugin.name).toBe('lstm');
    expect(KNOWN_MODEL_PACKAGES['lstm']).toBe('@stb/model-lstm');
    const registry = createModelRegistry();
    expect(registry.has('lstm')).toBe(false);
    const loaded = await loadModelPackage(
      registry,
      resolve(__dirname, '../src/index.ts'),
    );
    expect(loaded.map((m) => m.name)).toEqual(['lstm']);
    expect(registry.get('lstm').createPredictor).toBeDefined();
  });
});
