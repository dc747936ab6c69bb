import { createSqliteTarget } from './helpers/targets';
import { describeDbPlugin } from './helpers/conformance';

describeDbPlugin('sqlite', createSqliteTarget());
