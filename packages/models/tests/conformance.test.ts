import { describeSequenceModel } from '@stb/testkit';
import { hmmModel, markovModel } from '../src/index';

describeSequenceModel(markovModel);
describeSequenceModel(markovModel, { options: { order: 2 } });
describeSequenceModel(hmmModel, { options: { states: 3, restarts: 2 } });
