import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInProcessControlPlane } from '../../edge-worker/control-plane/in-process-transport.js';
import { type EmbeddedStoreServer, startEmbeddedStore } from '../../edge-worker/embedded/store-server.js';
import { InvalidRequestError } from '../../functions/core/handler/invalid-request-error.js';
import { createDynamoDbClient } from '../../functions/core/store/dynamodb-client.js';
import { ensureTable, type Table } from '../../functions/core/store/table.js';
import { createResolveBackendHandler } from '../../functions/resolve-backend/handler.js';

describe('resolve-backend against a DynamoDB-API store (dynalite, real AWS SDK)', () => {
  let store: EmbeddedStoreServer;
  let tables: Table[];

  beforeAll(async () => {
    store = await startEmbeddedStore(undefined);
    // Two clients stand for two edge workers sharing one store.
    tables = [0, 1].map(() => ({
      client: createDynamoDbClient({ endpoint: store.endpoint, region: 'us-east-1' }),
      name: 'ftpx-test',
    }));
    expect(await ensureTable(tables[0] as Table)).toBe('created');
    expect(await ensureTable(tables[1] as Table)).toBe('existed');
  });

  afterAll(async () => {
    for (const table of tables) table.client.destroy();
    await store.close();
  });

  const backends = ['ftp://127.0.0.1:2121', 'ftp://127.0.0.1:2122', 'ftp://127.0.0.1:2123'];

  it('alternates between two workers sharing the store instead of both starting at the first backend', async () => {
    const [a, b] = tables.map((table) => createInProcessControlPlane(table));
    const firsts: number[] = [];
    for (let i = 0; i < 6; i++) {
      const client = i % 2 === 0 ? a : b;
      const { candidates } = await client!.resolveBackend({
        pool: 'alternate',
        policy: 'RoundRobin',
        backends,
      });
      expect(candidates).toHaveLength(3);
      firsts.push(candidates[0]!.index!);
    }
    expect(firsts).toEqual([0, 1, 2, 0, 1, 2]);
  });

  it('hands out distinct cursor values under concurrency (atomic update, no read-modify-write)', async () => {
    const clients = tables.map((table) => createInProcessControlPlane(table));
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        clients[i % 2]!.resolveBackend({ pool: 'concurrent', policy: 'RoundRobin', backends }),
      ),
    );
    const counts = [0, 0, 0];
    for (const { candidates } of results) counts[candidates[0]!.index!]! += 1;
    expect(counts).toEqual([10, 10, 10]);
  });

  it('skips excluded backends and returns nothing when all are excluded', async () => {
    const client = createInProcessControlPlane(tables[0] as Table);
    const { candidates } = await client.resolveBackend({
      pool: 'exclude',
      policy: 'RoundRobin',
      backends,
      exclude: [0],
    });
    expect(candidates.map((candidate) => candidate.index)).toEqual([1, 2]);
    const none = await client.resolveBackend({
      pool: 'exclude',
      policy: 'RoundRobin',
      backends,
      exclude: [0, 1, 2],
    });
    expect(none.candidates).toEqual([]);
  });

  it('rejects an invalid event with every problem named', async () => {
    const handler = createResolveBackendHandler({ table: tables[0] as Table });
    const error = await handler({ pool: '', policy: 'Sticky', backends: [''] } as never, {} as never).catch(
      (err) => err,
    );
    expect(error).toBeInstanceOf(InvalidRequestError);
    const paths = (error as InvalidRequestError).issues.map((issue) => issue.path).sort();
    expect(paths).toEqual(['backends.0', 'policy', 'pool']);
  });
});
