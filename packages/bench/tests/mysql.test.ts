import { createMysqlTarget } from './helpers/targets';
import { describeDbPlugin } from './helpers/conformance';

describeDbPlugin('mysql', createMysqlTarget(2));
