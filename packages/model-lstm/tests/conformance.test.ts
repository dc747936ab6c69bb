import { describeSequenceModel } from '@stb/testkit';
import { lstmModel } from '../src/index';

describeSequenceModel(lstmModel, {
  options: {
    embeddingSize: 4,
    units: 8,
    epochs: 2,
    batchSize: 8,
    windowLength: 6,
    seed: 1,
  },
});
