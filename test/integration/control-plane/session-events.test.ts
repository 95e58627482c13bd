import { dynaliteStore } from '../../support/test-stores.js';
import { defineSessionEventsSuite } from './session-events.suite.js';

defineSessionEventsSuite(dynaliteStore);
