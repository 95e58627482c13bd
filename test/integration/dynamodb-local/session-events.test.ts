import { dynamoDbLocalForThisFile } from '../../support/test-stores.js';
import { defineSessionEventsSuite } from '../control-plane/session-events.suite.js';

defineSessionEventsSuite(dynamoDbLocalForThisFile());
