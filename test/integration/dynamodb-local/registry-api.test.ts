import { dynamoDbLocalForThisFile } from '../../support/test-stores.js';
import { defineRegistryApiSuite } from '../registry/api.suite.js';

// If-Match and version conflicts, the pool deletion guard, pagination, on AWS's own emulator.
defineRegistryApiSuite(dynamoDbLocalForThisFile());
