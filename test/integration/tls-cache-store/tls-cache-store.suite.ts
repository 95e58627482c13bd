import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TlsCacheRequest, TlsCacheResponse } from '../../../functions/contract/tls-cache.js';
import { lambdaContext } from '../../../functions/core/handler/lambda-context.js';
import { createDynamoDbClient } from '../../../functions/core/store/dynamodb-client.js';
import { ensureTable, type Table } from '../../../functions/core/store/table.js';
import { readStats } from '../../../functions/core/store/tls-cache/cache-stats.js';
import { cacheInfo, removeCache } from '../../../functions/core/tls-cache/admin.js';
import { createTlsCacheHandler } from '../../../functions/tls-cache/handler.js';
import type { StoreServer, TestStore } from '../../support/test-stores.js';

/**
 * The tls-cache function on a real DynamoDB-API store: the budget (slots), expiry, the counters
 * mod_tls_shmcache keeps, and ticket keys agreed by two workers. Time is a clock the test moves.
 */
export function defineTlsCacheStoreSuite(testStore: TestStore): void {
  describe(`tls-cache function on ${testStore.name}`, () => {
    let store: StoreServer;
    const clock = { now: Date.UTC(2030, 0, 1) };
    let call: [
      (request: TlsCacheRequest) => Promise<TlsCacheResponse>,
      (request: TlsCacheRequest) => Promise<TlsCacheResponse>,
    ];
    let table: Table;
    const tableName = `tls-cache-${testStore.name.replace(/\W/g, '')}-${process.pid}`;

    beforeAll(async () => {
      store = await testStore.start();
      const make = async () => {
        const own: Table = {
          client: createDynamoDbClient({ endpoint: store.endpoint, region: 'us-east-1' }),
          name: tableName,
        };
        await ensureTable(own);
        const handler = createTlsCacheHandler({ table: own, now: () => clock.now });
        return [
          own,
          // The cap test sends 50 puts at once that contend for one counter; on a loaded 2-core CI
          // machine their retries took longer than 5 s; 15 s is still well inside the function's 60 s timeout.
          (request: TlsCacheRequest) =>
            handler(request as never, lambdaContext('tls-cache', 'test', Date.now() + 15_000)),
        ] as const;
      };
      const [first, second] = await Promise.all([make(), make()]);
      table = first[0];
      call = [first[1], second[1]];
    }, 60_000);

    afterAll(async () => {
      await store?.close();
    });

    const put = (id: string, bytes = 100, worker = 0) =>
      call[worker as 0 | 1]({
        op: 'session-put',
        id,
        data: Buffer.alloc(bytes, 1).toString('base64'),
        protocol: 'TLSv1.2',
        timeoutS: 60,
        maxEntries: 2,
        maxEntryBytes: 1000,
      });
    const stats = async () =>
      (await cacheInfo(table, 'sessions', { verbose: false, nowMs: clock.now })).stats;

    it('keeps to the slot budget, flushing expired sessions when full', async () => {
      await removeCache(table, 'sessions', clock.now);
      expect(await put('aa')).toEqual({ op: 'session-put', result: 'stored' });
      expect(await put('ab', 100, 1)).toEqual({ op: 'session-put', result: 'stored' });
      expect(await put('ac')).toEqual({ op: 'session-put', result: 'full' });
      clock.now += 61_000;
      expect(await put('ac')).toEqual({ op: 'session-put', result: 'stored' });
      const info = await cacheInfo(table, 'sessions', { verbose: true, nowMs: clock.now });
      expect(info).toMatchObject({ entries: 1, bytes: 100, maxEntries: 2, maxEntryBytes: 1000 });
      expect(info.stats).toMatchObject({ stored: 3, full: 1, expired: 2 });
      expect(info.items?.map((item) => [item.key, item.protocol])).toEqual([['ac', 'TLSv1.2']]);
    });

    it('answers hits, misses and expired lookups, and counts each', async () => {
      await removeCache(table, 'sessions', clock.now);
      await put('b1');
      const hit = await call[1]({ op: 'session-get', id: 'b1' });
      expect(hit).toMatchObject({ op: 'session-get', result: 'hit', expiresAt: clock.now + 60_000 });
      expect(Buffer.from((hit as { data: string }).data, 'base64')).toEqual(Buffer.alloc(100, 1));
      expect(await call[0]({ op: 'session-get', id: 'b2' })).toEqual({ op: 'session-get', result: 'miss' });
      clock.now += 60_000;
      expect(await call[0]({ op: 'session-get', id: 'b1' })).toEqual({
        op: 'session-get',
        result: 'expired',
      });
      expect(await stats()).toMatchObject({ hits: 1, misses: 2, expired: 1, stored: 1 });
      expect((await cacheInfo(table, 'sessions', { verbose: false, nowMs: clock.now })).entries).toBe(0);
    });

    it('refuses an entry over the largest size as exceeded, remembering the largest', async () => {
      await removeCache(table, 'sessions', clock.now);
      expect(await put('c1', 1500)).toEqual({ op: 'session-put', result: 'exceeded' });
      expect(await put('c2', 1200)).toEqual({ op: 'session-put', result: 'exceeded' });
      expect(await stats()).toMatchObject({ exceeded: 2, exceededMaxBytes: 1500, stored: 0 });
      expect(await call[0]({ op: 'session-get', id: 'c1' })).toEqual({ op: 'session-get', result: 'miss' });
    });

    it('deletes sessions and adds reported local hits and errors', async () => {
      await removeCache(table, 'sessions', clock.now);
      await put('d1');
      expect(await call[0]({ op: 'session-delete', id: 'd1' })).toEqual({
        op: 'session-delete',
        deleted: true,
      });
      expect(await call[0]({ op: 'session-delete', id: 'd1' })).toEqual({
        op: 'session-delete',
        deleted: false,
      });
      await call[1]({ op: 'report-hits', sessionHits: 5, sessionErrors: 2, ocspHits: 3 });
      expect(await stats()).toMatchObject({ deleted: 1, hits: 5, errors: 2 });
      expect(
        (await cacheInfo(table, 'ocsp', { verbose: false, nowMs: clock.now })).stats.hits,
      ).toBeGreaterThanOrEqual(3);
    });

    const CTX = 'c'.repeat(64);
    const backendPut = (backend: string, bytes = 200, worker = 0, context = CTX) =>
      call[worker as 0 | 1]({
        op: 'backend-session-put',
        backend,
        context,
        data: Buffer.alloc(bytes, 2).toString('base64'),
      });

    it('shares backend sessions between workers for 24 hours (mod_proxy)', async () => {
      expect(await backendPut('ftp://127.0.0.1:2121')).toEqual({
        op: 'backend-session-put',
        result: 'stored',
      });
      const hit = await call[1]({ op: 'backend-session-get', backend: 'ftp://127.0.0.1:2121', context: CTX });
      expect(hit).toMatchObject({ result: 'hit', expiresAt: clock.now + 86_400_000 });
      expect(Buffer.from((hit as { data: string }).data, 'base64')).toEqual(Buffer.alloc(200, 2));
      expect(
        await call[1]({ op: 'backend-session-get', backend: 'ftp://127.0.0.1:2122', context: CTX }),
      ).toEqual({
        op: 'backend-session-get',
        result: 'miss',
      });
      // A newer session for the same backend replaces the old one and keeps one slot.
      expect(await backendPut('ftp://127.0.0.1:2121', 300, 1)).toMatchObject({ result: 'stored' });
      expect(await readStats(table, 'backend-sessions')).toMatchObject({ entries: 1, bytes: 300 });
      clock.now += 86_400_000;
      expect(
        await call[0]({ op: 'backend-session-get', backend: 'ftp://127.0.0.1:2121', context: CTX }),
      ).toEqual({
        op: 'backend-session-get',
        result: 'expired',
      });
      expect(await readStats(table, 'backend-sessions')).toMatchObject({
        entries: 0,
        stats: { hits: 1, misses: 2, expired: 1, stored: 2 },
      });
      // The frontend session cache is a different cache: its counters did not move.
      expect(await call[0]({ op: 'session-get', id: 'aa' })).toMatchObject({ op: 'session-get' });
      expect(await backendPut('ftp://big:21', 10 * 1024 + 1)).toEqual({
        op: 'backend-session-put',
        result: 'exceeded',
      });
    });

    it('caches sessions of 1000 backends at most, and takes a new one once old ones expired', async () => {
      const backends = Array.from({ length: 1000 }, (_, i) => `ftps://10.0.${i >> 8}.${i & 255}:990`);
      for (let i = 0; i < backends.length; i += 50) {
        const results = await Promise.all(
          backends.slice(i, i + 50).map((backend, j) => backendPut(backend, 64, j % 2)),
        );
        expect(results.every((answer) => 'result' in answer && answer.result === 'stored')).toBe(true);
      }
      expect(await backendPut('ftp://one-more:21')).toEqual({ op: 'backend-session-put', result: 'full' });
      // A backend that has a session may still replace it in a full cache.
      expect(await backendPut(backends[7] as string, 80)).toEqual({
        op: 'backend-session-put',
        result: 'stored',
      });
      expect(await readStats(table, 'backend-sessions')).toMatchObject({
        entries: 1000,
        maxEntries: 1000,
        stats: { full: 1 },
      });
      clock.now += 86_400_000 + 1000;
      expect(await backendPut('ftp://one-more:21')).toEqual({ op: 'backend-session-put', result: 'stored' });
      expect(await readStats(table, 'backend-sessions')).toMatchObject({ entries: 1 });
    }, 60_000);

    it('keeps one entry per backend and trust context: a get finds only its own context', async () => {
      const backend = 'ftp://127.0.0.1:2123';
      const other = 'd'.repeat(64);
      // Past every earlier entry's lifetime: this test must not depend on the cap test above it.
      clock.now += 86_400_000 + 1000;
      const before = (await readStats(table, 'backend-sessions')).entries;
      expect(await backendPut(backend, 100, 0, CTX)).toMatchObject({ result: 'stored' });
      expect(await backendPut(backend, 150, 1, other)).toMatchObject({ result: 'stored' });
      expect((await readStats(table, 'backend-sessions')).entries).toBe(before + 2);
      const get = async (context: string) => {
        const answer = await call[1]({ op: 'backend-session-get', backend, context });
        return 'data' in answer && answer.data ? Buffer.from(answer.data, 'base64').length : answer;
      };
      expect(await get(CTX)).toBe(100);
      expect(await get(other)).toBe(150);
      expect(await get('e'.repeat(64))).toEqual({ op: 'backend-session-get', result: 'miss' });
    });

    it('refuses backend keys with credentials or a path, and contexts that are not a digest', async () => {
      await expect(
        call[0]({ op: 'backend-session-get', backend: 'ftp://user:secret@host:21', context: CTX }),
      ).rejects.toThrow(/backend key/);
      await expect(
        call[0]({ op: 'backend-session-get', backend: 'ftp://host:21/dir', context: CTX }),
      ).rejects.toThrow(/backend key/);
      // A context is a SHA-256 digest: settings (let alone a key) never travel in clear.
      await expect(
        call[0]({ op: 'backend-session-get', backend: 'ftp://host:21', context: 'caFile=/etc/ca.pem' }),
      ).rejects.toThrow(/SHA-256 digest/);
      await expect(
        call[0]({ op: 'backend-session-get', backend: 'ftp://host:21' } as never),
      ).rejects.toThrow();
    });

    it('gives every worker the same ticket key for a period, and the next one ahead', async () => {
      const request = { op: 'ticket-keys', rotateEveryS: 3600, lifetimeS: 1800 } as const;
      const [a, b] = await Promise.all([call[0](request), call[1](request)]);
      expect(a).toEqual(b);
      const keys = a as Extract<TlsCacheResponse, { op: 'ticket-keys' }>;
      expect(Buffer.from(keys.current.key, 'base64')).toHaveLength(48);
      expect(keys.current.key).not.toBe(keys.next.key);
      expect(keys.next.activeFrom).toBe(keys.current.activeUntil);
      expect(keys.current.activeFrom).toBeLessThanOrEqual(clock.now);
      clock.now = keys.current.activeUntil;
      const later = (await call[1](request)) as typeof keys;
      expect(later.current).toEqual(keys.next);
    });

    it('replaces an OCSP response for the same certificate without using a second slot', async () => {
      await removeCache(table, 'ocsp', clock.now);
      const fingerprint = 'ab'.repeat(20);
      const ocsp = (status: string) =>
        call[0]({
          op: 'ocsp-put',
          fingerprint,
          response: Buffer.from(status).toString('base64'),
          responseStatus: 'successful',
          certStatus: 'good',
          fetchedAt: clock.now,
          staleAt: clock.now + 1000,
          expiresAt: clock.now + 2000,
          maxEntries: 1,
          maxEntryBytes: 4096,
        });
      expect(await ocsp('first')).toEqual({ op: 'ocsp-put', result: 'stored' });
      expect(await ocsp('second!')).toEqual({ op: 'ocsp-put', result: 'stored' });
      const got = await call[1]({ op: 'ocsp-get', fingerprint });
      expect(got).toMatchObject({
        result: 'hit',
        certStatus: 'good',
        staleAt: clock.now + 1000,
        fake: false,
      });
      expect(Buffer.from((got as { response: string }).response, 'base64').toString()).toBe('second!');
      expect(await cacheInfo(table, 'ocsp', { verbose: false, nowMs: clock.now })).toMatchObject({
        entries: 1,
        bytes: 7,
      });
    });

    it('refuses requests outside the contract', async () => {
      await expect(call[0]({ op: 'session-get', id: 'XYZ' } as never)).rejects.toThrow(
        /must be lower-case hex/,
      );
      await expect(call[0]({ op: 'ticket-keys', rotateEveryS: 1, lifetimeS: 1 })).rejects.toThrow(
        /rotateEveryS/,
      );
    });
  });
}
