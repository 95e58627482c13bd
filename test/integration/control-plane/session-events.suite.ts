import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activeConnections } from '../../../functions/core/store/leases.js';
import { readResponseTimes } from '../../../functions/core/store/response-times.js';
import type { TestStore } from '../../support/test-stores.js';
import { type ControlPlaneHarness, startControlPlane, type Worker } from './harness.js';

const backend = 'ftp://127.0.0.1:2121';

/**
 * Session events (leases, connect times) under concurrency against `store`: run by
 * session-events.test.ts on dynalite and by test/integration/dynamodb-local on DynamoDB Local.
 */
export function defineSessionEventsSuite(store: TestStore): void {
  describe(`session-events against ${store.name}: leases and connect times under concurrency`, () => {
    let cp: ControlPlaneHarness;
    let a: Worker;
    let b: Worker;

    beforeAll(async () => {
      cp = await startControlPlane('ftpx-session-events', 3, store);
      [a, b] = cp.workers;
    });

    afterAll(async () => {
      await cp.close();
    });

    it('counts concurrent connects atomically and never goes below zero on surplus ends', async () => {
      const pool = 'atomic';
      const connected = await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          (i % 2 === 0 ? a : b).event({
            type: 'connected',
            pool,
            backend,
            workerId: a.id, // one lease, written through both clients
            connectMs: 5,
          }),
        ),
      );
      expect(connected.map((reply) => reply.leaseCount).sort((x, y) => x - y)).toEqual(
        Array.from({ length: 30 }, (_, i) => i + 1),
      );
      const ended = await Promise.all(
        Array.from({ length: 40 }, () => a.event({ type: 'ended', pool, backend, workerId: a.id })),
      );
      expect(ended.filter((reply) => reply.released)).toHaveLength(30);
      expect(ended.filter((reply) => !reply.released).every((reply) => reply.leaseCount === 0)).toBe(true);
      expect((await activeConnections(a.table, pool, cp.clock.now)).get(backend) ?? 0).toBe(0);
    });

    it('keeps each worker its own lease and sums them', async () => {
      const pool = 'per-worker';
      for (const w of [a, a, b])
        await w.event({ type: 'connected', pool, backend, workerId: w.id, connectMs: 5 });
      expect((await activeConnections(a.table, pool, cp.clock.now)).get(backend)).toBe(3);
      expect(await b.event({ type: 'ended', pool, backend, workerId: b.id })).toEqual({
        type: 'ended',
        released: true,
        leaseCount: 0,
      });
      expect((await activeConnections(a.table, pool, cp.clock.now)).get(backend)).toBe(2);
    });

    it('loses no connect-time sample to concurrent writers (versioned conditional writes)', async () => {
      const pool = 'samples';
      const replies = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          (i % 2 === 0 ? a : b).event({ type: 'connected', pool, backend, workerId: `w${i}`, connectMs: 20 }),
        ),
      );
      expect(replies.every((reply) => reply.connectMsEwma !== undefined)).toBe(true);
      const times = await readResponseTimes(a.table, pool, cp.clock.now);
      expect(times.get(backend)).toEqual({ ewmaMs: 20, samples: 20 });
    });

    it('reports the leases a heartbeat could not extend, and ignores duplicates', async () => {
      const pool = 'heartbeat';
      const other = 'ftp://127.0.0.1:2122';
      await a.event({ type: 'connected', pool, backend, workerId: a.id, connectMs: 5 });
      const beat = await a.event({
        type: 'heartbeat',
        workerId: a.id,
        leases: [
          { pool, backend },
          { pool, backend },
          { pool, backend: other },
        ],
      });
      expect(beat).toEqual({ type: 'heartbeat', extended: 1, expired: [{ pool, backend: other }] });
    });
  });
}
