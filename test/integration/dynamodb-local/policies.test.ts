import { dynamoDbLocalForThisFile } from '../../support/test-stores.js';
import { definePoliciesSuite } from '../control-plane/policies.suite.js';

// Shuffle's conditional set deletes, LeastConns leases and their expiry, LeastResponseTime's
// versioned writes, sticky maps and the sweep, on AWS's own emulator.
definePoliciesSuite(dynamoDbLocalForThisFile());
