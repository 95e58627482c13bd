import type {
  ResolveBackendRequest,
  ResolveBackendResponse,
} from '../../../functions/contract/resolve-backend.js';
import type {
  SessionEventsRequest,
  SessionEventsResponse,
  SessionEventsResponseOf,
} from '../../../functions/contract/session-events.js';
import { type Random, seededRandom } from '../../../functions/core/random.js';
import { createDynamoDbClient } from '../../../functions/core/store/dynamodb-client.js';
import { ensureTable, type Table } from '../../../functions/core/store/table.js';
import { createResolveBackendHandler } from '../../../functions/resolve-backend/handler.js';
import { createSessionEventsHandler } from '../../../functions/session-events/handler.js';
import { dynaliteStore, type StoreServer, type TestStore } from '../../support/test-stores.js';

/** An answer whose candidates are all listed backends (these tests register none): `index` is set. */
export type ListedResponse = Omit<ResolveBackendResponse, 'candidates'> & {
  candidates: Array<ResolveBackendResponse['candidates'][number] & { index: number }>;
};

/** One edge worker as the control plane sees it: its own table client and the two handlers. */
export interface Worker {
  id: string;
  table: Table;
  resolve(request: ResolveBackendRequest): Promise<ListedResponse>;
  event<T extends SessionEventsRequest>(event: T): Promise<SessionEventsResponseOf<T['type']>>;
  /** The first candidate's position, failing the test when there is none. */
  pick(request: ResolveBackendRequest): Promise<number>;
}

export interface ControlPlaneHarness {
  store: StoreServer;
  workers: [Worker, Worker];
  clock: { now: number };
  close(): Promise<void>;
}

export const LEASE_TTL_MS = 30_000;

/**
 * A store (dynalite in this process unless told otherwise), one table, and two "edge workers" (two
 * SDK clients) calling the real middy handlers. Time is a clock the test moves; randomness is seeded
 * per worker.
 */
export async function startControlPlane(
  tableName: string,
  seed = 1,
  testStore: TestStore = dynaliteStore,
): Promise<ControlPlaneHarness> {
  const store = await testStore.start();
  const clock = { now: Date.UTC(2030, 0, 1) };
  const now = () => clock.now;
  const make = async (index: number, random: Random): Promise<Worker> => {
    const table: Table = {
      client: createDynamoDbClient({ endpoint: store.endpoint, region: 'us-east-1' }),
      name: tableName,
    };
    await ensureTable(table);
    const resolve = createResolveBackendHandler({ table, now, random });
    const events = createSessionEventsHandler({ table, now, leaseTtlMs: LEASE_TTL_MS, random });
    const worker: Worker = {
      id: `worker-${index}`,
      table,
      resolve: async (request) => {
        const response = await resolve(request as never, {} as never);
        if (response.candidates.some((candidate) => candidate.index === undefined)) {
          throw new Error(
            `a registered candidate where only listed ones were expected: ${JSON.stringify(response)}`,
          );
        }
        return response as ListedResponse;
      },
      event: async (event) => (await events(event as never, {} as never)) as never,
      pick: async (request) => {
        const { candidates } = await worker.resolve(request);
        const first = candidates[0];
        if (!first) throw new Error(`no candidate for ${JSON.stringify(request)}`);
        return first.index;
      },
    };
    return worker;
  };
  let workers: [Worker, Worker];
  try {
    workers = [await make(0, seededRandom(seed)), await make(1, seededRandom(seed + 1000))];
  } catch (err) {
    await store.close();
    throw err;
  }
  return {
    store,
    workers,
    clock,
    close: async () => {
      for (const worker of workers) worker.table.client.destroy();
      await store.close();
    },
  };
}

export type { SessionEventsResponse };
