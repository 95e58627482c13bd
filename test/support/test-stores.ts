import { afterAll } from 'vitest';
import { startEmbeddedStore } from '../../edge-worker/embedded/store-server.js';
import { type DynamoDbLocal, startDynamoDbLocal } from './dynamodb-local.js';

/** A DynamoDB-API server a harness talks to through the real AWS SDK. */
export interface StoreServer {
  endpoint: string;
  close(): Promise<void>;
}

/** Which emulator a suite runs against: its name (for test titles) and how to get a server. */
export interface TestStore {
  name: string;
  start(): Promise<StoreServer>;
}

/** dynalite in this process, a fresh one for every start(): the default store of the suites. */
export const dynaliteStore: TestStore = {
  name: 'dynalite',
  start: () => startEmbeddedStore(undefined),
};

/**
 * DynamoDB Local, one instance for the calling test file: started on the first start(), stopped
 * after the file's last test. Call it at the top level of a test file. The servers it hands out
 * share that instance (their close() leaves it running), so each harness must use its own table.
 */
export function dynamoDbLocalForThisFile(): TestStore {
  let instance: Promise<DynamoDbLocal> | undefined;
  afterAll(async () => {
    const running = await instance?.catch(() => undefined);
    await running?.stop();
  });
  return {
    name: 'DynamoDB Local',
    start: async () => {
      instance ??= startDynamoDbLocal();
      const { endpoint } = await instance;
      return { endpoint, close: async () => {} };
    },
  };
}

/**
 * A DynamoDB-API endpoint that is already running, such as LocalStack's (`AWS_ENDPOINT_URL`): the
 * same suites, the same SDK client, another server. Like DynamoDB Local it is shared, so each harness
 * uses its own table; tables are left in place, so start from a fresh LocalStack (it keeps nothing
 * across restarts unless PERSISTENCE is on).
 */
export function endpointStore(endpoint: string): TestStore {
  return {
    name: `endpoint ${endpoint}`,
    start: async () => ({ endpoint, close: async () => {} }),
  };
}
