import { endpointStore } from '../../support/test-stores.js';
import { definePoliciesSuite } from '../control-plane/policies.suite.js';
import { defineSessionEventsSuite } from '../control-plane/session-events.suite.js';
import { defineRegistryApiSuite } from '../registry/api.suite.js';

/**
 * The control-plane suites that run on dynalite and DynamoDB Local, run against LocalStack's
 * DynamoDB when AWS_ENDPOINT_URL names it (`docker compose -f localstack/docker-compose.yml up`).
 * One code path: only the endpoint differs.
 */
const endpoint = process.env.AWS_ENDPOINT_URL;
if (!endpoint) {
  // vitest.config.ts leaves this file out of runs without it; named explicitly, it says what it needs.
  throw new Error('AWS_ENDPOINT_URL must name a LocalStack endpoint (localstack/README.md)');
}
const store = endpointStore(endpoint);
definePoliciesSuite(store);
defineSessionEventsSuite(store);
defineRegistryApiSuite(store);
