import { dynamoDbLocalForThisFile } from '../../support/test-stores.js';
import { defineTlsCacheStoreSuite } from './tls-cache-store.suite.js';

defineTlsCacheStoreSuite(dynamoDbLocalForThisFile());
