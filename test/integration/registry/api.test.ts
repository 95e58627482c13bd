import { dynaliteStore } from '../../support/test-stores.js';
import { defineRegistryApiSuite } from './api.suite.js';

defineRegistryApiSuite(dynaliteStore);
