import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControlPlaneClient } from '../../../../edge-worker/control-plane/control-plane-client.js';
import { createInProcessControlPlane } from '../../../../edge-worker/control-plane/in-process-transport.js';
import { Logger } from '../../../../edge-worker/log/logger.js';
import { BackendTlsSessions } from '../../../../edge-worker/tls/backend-tls-sessions.js';
import { trackTlsCacheCalls } from '../../../../edge-worker/tls/tracked-tls-cache.js';
import { createDynamoDbClient } from '../../../../functions/core/store/dynamodb-client.js';
import { ensureTable, type Table } from '../../../../functions/core/store/table.js';
import { readStats } from '../../../../functions/core/store/tls-cache/cache-stats.js';
import { clearCache } from '../../../../functions/core/tls-cache/admin.js';
import { dynaliteStore, type StoreServer } from '../../../support/test-stores.js';

/** Two trust contexts (backend-trust-context.ts digests). */
const CTX = 'a'.repeat(64);
const OTHER_CTX = 'b'.repeat(64);

/** The backend session map in front of the store: two workers' maps share one dynalite store. */
describe('BackendTlsSessions with the store behind it', () => {
  let store: StoreServer;
  let table: Table;
  let controlPlane: ControlPlaneClient;
  const lines: string[] = [];
  const log = new Logger({ write: (line) => lines.push(line) }, 'debug');

  beforeAll(async () => {
    store = await dynaliteStore.start();
    table = { client: createDynamoDbClient({ endpoint: store.endpoint, region: 'us-east-1' }), name: 'bts' };
    await ensureTable(table);
    controlPlane = createInProcessControlPlane(table);
  });
  afterAll(async () => {
    table?.client.destroy();
    await store?.close();
  });

  it("finds another worker's session in the store and keeps it with the store's age", async () => {
    const tracked = trackTlsCacheCalls(controlPlane, 'closing');
    const shared = { controlPlane: tracked.client, lookupTimeoutMs: 2000, log };
    let now = Date.now();
    const first = new BackendTlsSessions(() => now, shared);
    const second = new BackendTlsSessions(() => now, shared);
    first.set('ftp://10.1.1.1:21', CTX, Buffer.from('session-1'));
    expect(first.get('ftp://10.1.1.1:21', CTX)?.toString()).toBe('session-1');
    await tracked.settled();
    expect(second.get('ftp://10.1.1.1:21', CTX)).toBeUndefined();
    const other = trackTlsCacheCalls(controlPlane, 'closing');
    const third = new BackendTlsSessions(() => now, { ...shared, controlPlane: other.client });
    expect((await third.lookup('ftp://10.1.1.1:21', CTX))?.toString()).toBe('session-1');
    // Now in the local map: no further store call.
    const hits = (await readStats(table, 'backend-sessions')).stats.hits;
    expect((await third.lookup('ftp://10.1.1.1:21', CTX))?.toString()).toBe('session-1');
    expect((await readStats(table, 'backend-sessions')).stats.hits).toBe(hits);
    // The store's entry is almost 24 h old here too: it expires locally when it does in the store.
    now += 86_400_000 + 60_000;
    expect(third.get('ftp://10.1.1.1:21', CTX)).toBeUndefined();
    await other.settled();
  });

  it('finds a session only under the trust context it was stored with, locally and in the store', async () => {
    const tracked = trackTlsCacheCalls(controlPlane, 'closing');
    const shared = { controlPlane: tracked.client, lookupTimeoutMs: 2000, log };
    const first = new BackendTlsSessions(Date.now, shared);
    first.set('ftp://10.1.1.4:21', CTX, Buffer.from('verified under CTX'));
    await tracked.settled();
    expect(first.get('ftp://10.1.1.4:21', OTHER_CTX)).toBeUndefined();
    const misses = (await readStats(table, 'backend-sessions')).stats.misses;
    const other = trackTlsCacheCalls(controlPlane, 'closing');
    const second = new BackendTlsSessions(Date.now, { ...shared, controlPlane: other.client });
    expect(await second.lookup('ftp://10.1.1.4:21', OTHER_CTX)).toBeUndefined();
    expect((await readStats(table, 'backend-sessions')).stats.misses).toBe(misses + 1);
    expect((await second.lookup('ftp://10.1.1.4:21', CTX))?.toString()).toBe('verified under CTX');
    // Another context's session for the same backend is a second entry beside it, not a replacement.
    const entries = (await readStats(table, 'backend-sessions')).entries;
    second.set('ftp://10.1.1.4:21', OTHER_CTX, Buffer.from('verified under OTHER_CTX'));
    await other.settled();
    expect((await readStats(table, 'backend-sessions')).entries).toBe(entries + 1);
    const last = trackTlsCacheCalls(controlPlane, 'closing');
    const third = new BackendTlsSessions(Date.now, { ...shared, controlPlane: last.client });
    expect((await third.lookup('ftp://10.1.1.4:21', CTX))?.toString()).toBe('verified under CTX');
    expect((await third.lookup('ftp://10.1.1.4:21', OTHER_CTX))?.toString()).toBe('verified under OTHER_CTX');
    await last.settled();
  });

  it('checks a copy older than localTtlMs against the store: cleared there, it goes here too', async () => {
    let now = Date.now();
    const sessions = new BackendTlsSessions(() => now, {
      controlPlane,
      lookupTimeoutMs: 2000,
      localTtlMs: 1000,
      log,
    });
    const entries = (await readStats(table, 'backend-sessions')).entries;
    sessions.set('ftps://10.1.1.5:990', CTX, Buffer.from('to be cleared'));
    sessions.set('ftps://10.1.1.6:990', CTX, Buffer.from('kept'));
    // The writes go to the store in the background.
    for (let i = 0; i < 100 && (await readStats(table, 'backend-sessions')).entries < entries + 2; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const cleared = await clearCache(table, 'backend-sessions', Date.now(), {
      backend: 'ftps://10.1.1.5:990',
    });
    expect(cleared).toMatchObject({ cleared: 1, backend: 'ftps://10.1.1.5:990' });
    // Within the TTL the worker's copy is used as it is.
    expect((await sessions.lookup('ftps://10.1.1.5:990', CTX))?.toString()).toBe('to be cleared');
    now += 1500;
    expect(await sessions.lookup('ftps://10.1.1.5:990', CTX)).toBeUndefined();
    expect(sessions.get('ftps://10.1.1.5:990', CTX)).toBeUndefined();
    expect((await sessions.lookup('ftps://10.1.1.6:990', CTX))?.toString()).toBe('kept');
  });

  it('treats a store that fails or does not answer in time as a miss, never an error', async () => {
    const closed = trackTlsCacheCalls(controlPlane, 'the edge worker is closing');
    await closed.settled();
    const failing = new BackendTlsSessions(Date.now, {
      controlPlane: closed.client,
      lookupTimeoutMs: 2000,
      log,
    });
    expect(await failing.lookup('ftp://10.1.1.2:21', CTX)).toBeUndefined();
    failing.set('ftp://10.1.1.2:21', CTX, Buffer.from('kept locally'));
    expect(failing.get('ftp://10.1.1.2:21', CTX)?.toString()).toBe('kept locally');
    // A control plane that never answers (a network partition): the connect waits lookupTimeoutMs.
    const silent: ControlPlaneClient = { ...controlPlane, tlsCache: () => new Promise(() => undefined) };
    const slow = new BackendTlsSessions(Date.now, { controlPlane: silent, lookupTimeoutMs: 100, log });
    const started = Date.now();
    expect(await slow.lookup('ftp://10.1.1.3:21', CTX)).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(1500);
    await new Promise((resolve) => setImmediate(resolve));
    const warnings = lines
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((l) => l.level === 'warn');
    expect(warnings.map((line) => line.error)).toEqual([
      'control plane tls-cache: the edge worker is closing',
      'control plane tls-cache: the edge worker is closing',
      'no answer within 100 ms',
    ]);
    // Session data never reaches the log.
    expect(lines.join('')).not.toContain(Buffer.from('kept locally').toString('base64'));
  });
});
