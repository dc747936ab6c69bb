import { createPgliteTarget } from './helpers/targets';
import { describeDbPlugin } from './helpers/conformance';

describeDbPlugin('pglite', createPgliteTarget());
