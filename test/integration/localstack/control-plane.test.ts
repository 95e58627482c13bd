import { it } from 'vitest';
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

if (endpoint) {
  const store = endpointStore(endpoint);
  definePoliciesSuite(store);
  defineSessionEventsSuite(store);
  defineRegistryApiSuite(store);
} else {
  it.skip('LocalStack: AWS_ENDPOINT_URL is not set (no Docker engine on this machine; the same suites run on dynalite and DynamoDB Local)', () => {});
}
