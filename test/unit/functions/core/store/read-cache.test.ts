import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedStore } from '../../../../../edge-worker/embedded/store-server.js';
import {
  backendReplaceSchema,
  mappingReplaceSchema,
  poolCreateSchema,
} from '../../../../../functions/contract/registry.js';
import { healthSettings } from '../../../../../functions/core/health/health-settings.js';
import { deleteMapping, putMapping } from '../../../../../functions/core/registry/backend-mappings.js';
import { putBackend } from '../../../../../functions/core/registry/backends.js';
import { createPool } from '../../../../../functions/core/registry/pools.js';
import { listPoolBackends, lookupUserBackends } from '../../../../../functions/core/registry/read-side.js';
import { createDynamoDbClient } from '../../../../../functions/core/store/dynamodb-client.js';
import { readPoolHealth, recordPassiveFailure } from '../../../../../functions/core/store/health-store.js';
import { advanceCursor } from '../../../../../functions/core/store/policy-cursor.js';
import { enableReadCache } from '../../../../../functions/core/store/read-cache.js';
import { ensureTable, type Table } from '../../../../../functions/core/store/table.js';

/**
 * The control plane's read cache on dynalite: one client with the cache (the control plane's),
 * another without it (another process sharing the store), a clock the test moves.
 */
describe('read cache of the login path', () => {
  let store: Awaited<ReturnType<typeof startEmbeddedStore>>;
  let cached: Table;
  let other: Table;
  let clock = 0;
  let queries = 0;
  const settings = healthSettings({ passive: { failures: 5, windowMs: 60_000, cooldownMs: 5000 } });
  const failure = (pool: string, backend: string) => ({ pool, backend, reason: 'ECONNREFUSED' });
  const registerBackend = (table: Table, pool: string, id: string, url: string) =>
    putBackend(table, pool, id, backendReplaceSchema.parse({ url }), { nowMs: Date.now() });

  beforeAll(async () => {
    store = await startEmbeddedStore(undefined);
    const client = createDynamoDbClient({ endpoint: store.endpoint, region: 'us-east-1' });
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'QueryCommand') queries++;
        return next(args);
      },
      { step: 'initialize', name: 'countQueries' },
    );
    enableReadCache(client, { ttlMs: 1000, clock: () => clock });
    cached = { client, name: 'cache' };
    other = {
      client: createDynamoDbClient({ endpoint: store.endpoint, region: 'us-east-1' }),
      name: 'cache',
    };
    await ensureTable(cached);
  });
  afterAll(async () => {
    cached?.client.destroy();
    other?.client.destroy();
    await store?.close();
  });

  it('reuses a pool health read within the TTL, and reads again after it', async () => {
    await recordPassiveFailure(other, failure('a', 'ftp://10.0.0.1:21'), Date.now(), settings);
    const before = queries;
    expect(await readPoolHealth(cached, 'a', Date.now())).toHaveLength(1);
    expect(await readPoolHealth(cached, 'a', Date.now())).toHaveLength(1);
    expect(queries - before).toBe(1);
    // Another process's write is not seen until the TTL is over.
    await recordPassiveFailure(other, failure('a', 'ftp://10.0.0.2:21'), Date.now(), settings);
    clock += 999;
    expect(await readPoolHealth(cached, 'a', Date.now())).toHaveLength(1);
    clock += 1;
    expect(await readPoolHealth(cached, 'a', Date.now())).toHaveLength(2);
    expect(queries - before).toBe(2);
  });

  it("sees its own client's writes at once, and is not dropped by other items of the partition", async () => {
    expect(await readPoolHealth(cached, 'b', Date.now())).toHaveLength(0);
    const before = queries;
    // The RoundRobin cursor lives in the same partition: every login writes it.
    await advanceCursor(cached, 'b', 'RoundRobin');
    expect(await readPoolHealth(cached, 'b', Date.now())).toHaveLength(0);
    expect(queries - before).toBe(0);
    await recordPassiveFailure(cached, failure('b', 'ftp://10.0.0.1:21'), Date.now(), settings);
    expect(await readPoolHealth(cached, 'b', Date.now())).toHaveLength(1);
    expect(queries - before).toBe(1);
  });

  it('drops a read that was in flight when its own client wrote', async () => {
    const reading = readPoolHealth(cached, 'c', Date.now());
    await recordPassiveFailure(cached, failure('c', 'ftp://10.0.0.1:21'), Date.now(), settings);
    await reading;
    expect(await readPoolHealth(cached, 'c', Date.now())).toHaveLength(1);
  });

  it('filters cached health records that expired since they were read', async () => {
    const now = Date.now();
    await recordPassiveFailure(cached, failure('d', 'ftp://10.0.0.1:21'), now, settings);
    expect(await readPoolHealth(cached, 'd', now)).toHaveLength(1);
    // Far past any expiry the record was written with, still within the cache's TTL.
    expect(await readPoolHealth(cached, 'd', now + 365 * 24 * 3600 * 1000)).toHaveLength(0);
  });

  it("caches the pool's registered backends, dropped by a registration through its client", async () => {
    await createPool(other, poolCreateSchema.parse({ name: 'e' }), Date.now());
    await registerBackend(other, 'e', 'one', 'ftp://10.0.0.1:21');
    expect((await listPoolBackends(cached, 'e')).map((b) => b.id)).toEqual(['one']);
    await registerBackend(other, 'e', 'two', 'ftp://10.0.0.2:21');
    expect((await listPoolBackends(cached, 'e')).map((b) => b.id)).toEqual(['one']);
    await registerBackend(cached, 'e', 'three', 'ftp://10.0.0.3:21');
    expect((await listPoolBackends(cached, 'e')).map((b) => b.id)).toEqual(['one', 'three', 'two']);
  });

  it("caches a user's mapping; its own client's put and delete are seen at once", async () => {
    const mapping = (url: string) => mappingReplaceSchema.parse({ backends: [url] });
    await createPool(other, poolCreateSchema.parse({ name: 'g' }), Date.now());
    await putMapping(other, 'user', 'g', 'alice', mapping('ftp://10.0.0.1:21'), { nowMs: Date.now() });
    expect(await lookupUserBackends(cached, 'g', 'alice')).toEqual(['ftp://10.0.0.1:21']);
    await putMapping(other, 'user', 'g', 'alice', mapping('ftp://10.0.0.2:21'), { nowMs: Date.now() });
    expect(await lookupUserBackends(cached, 'g', 'alice')).toEqual(['ftp://10.0.0.1:21']);
    await putMapping(cached, 'user', 'g', 'alice', mapping('ftp://10.0.0.3:21'), { nowMs: Date.now() });
    expect(await lookupUserBackends(cached, 'g', 'alice')).toEqual(['ftp://10.0.0.3:21']);
    await deleteMapping(cached, 'user', 'g', 'alice', {});
    expect(await lookupUserBackends(cached, 'g', 'alice')).toBeUndefined();
  });

  it('a client without the cache reads every time', async () => {
    await recordPassiveFailure(other, failure('f', 'ftp://10.0.0.1:21'), Date.now(), settings);
    expect(await readPoolHealth(other, 'f', Date.now())).toHaveLength(1);
    await recordPassiveFailure(other, failure('f', 'ftp://10.0.0.2:21'), Date.now(), settings);
    expect(await readPoolHealth(other, 'f', Date.now())).toHaveLength(2);
  });
});
