import { dynaliteStore } from '../../support/test-stores.js';
import { definePoliciesSuite } from './policies.suite.js';

definePoliciesSuite(dynaliteStore);
