import { createPostgresTarget } from './helpers/targets';
import { describeDbPlugin } from './helpers/conformance';

describeDbPlugin('postgres', createPostgresTarget(2));
