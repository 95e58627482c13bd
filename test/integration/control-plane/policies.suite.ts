import { QueryCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONNECT_POLICIES, type ConnectPolicy } from '../../../functions/contract/resolve-backend.js';
import { responseTimeScore } from '../../../functions/core/connect-policies/ordering/least-response-time.js';
import { smoothConnectMs } from '../../../functions/core/ewma.js';
import { InvalidRequestError } from '../../../functions/core/handler/invalid-request-error.js';
import { seededRandom } from '../../../functions/core/random.js';
import { poolPk } from '../../../functions/core/store/keys.js';
import { activeConnections } from '../../../functions/core/store/leases.js';
import { createStickyMapping, readStickyMapping } from '../../../functions/core/store/sticky-map.js';
import { sweepExpired } from '../../../functions/core/store/sweep-expired.js';
import { ensureTable, type Table } from '../../../functions/core/store/table.js';
import { createResolveBackendHandler } from '../../../functions/resolve-backend/handler.js';
import { createSessionEventsHandler } from '../../../functions/session-events/handler.js';
import type { TestStore } from '../../support/test-stores.js';
import { type ControlPlaneHarness, LEASE_TTL_MS, startControlPlane, type Worker } from './harness.js';

const backends = [
  'ftp://127.0.0.1:2121',
  'ftp://127.0.0.1:2122',
  'ftp://127.0.0.1:2123',
  'ftp://127.0.0.1:2124',
];
const N = backends.length;

/**
 * The connect policies and the expiry sweep through the real handlers, against `store`: run by
 * policies.test.ts on dynalite and by test/integration/dynamodb-local on DynamoDB Local.
 */
export function definePoliciesSuite(store: TestStore): void {
  describe(`connect policies through the real handlers, two edge workers on one ${store.name} store`, () => {
    let cp: ControlPlaneHarness;
    let a: Worker;
    let b: Worker;

    beforeAll(async () => {
      cp = await startControlPlane('ftpx-policies', 1, store);
      [a, b] = cp.workers;
    });

    afterAll(async () => {
      await cp.close();
    });

    const worker = (i: number) => (i % 2 === 0 ? a : b);
    const request = (
      pool: string,
      policy: ConnectPolicy,
      extra: { exclude?: number[]; stickyKey?: string } = {},
    ) => ({
      pool,
      policy,
      backends,
      ...extra,
    });

    async function poolItems(table: Table, pool: string) {
      const result = await table.client.send(
        new QueryCommand({
          TableName: table.name,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': { S: poolPk(pool) } },
        }),
      );
      return result.Items ?? [];
    }

    describe('RoundRobin', () => {
      it('alternates exactly over 200 selections shared by two workers', async () => {
        const picks: number[] = [];
        for (let i = 0; i < 200; i++) picks.push(await worker(i).pick(request('rr', 'RoundRobin')));
        expect(picks).toEqual(Array.from({ length: 200 }, (_, i) => i % N));
      });
    });

    describe('Random', () => {
      it('is roughly uniform over 400 selections (chi-square, seeded) and keeps no state', async () => {
        const counts = new Array<number>(N).fill(0);
        for (let i = 0; i < 400; i++) counts[await worker(i).pick(request('random', 'Random'))]! += 1;
        const expected = 400 / N;
        const chiSquare = counts.reduce((sum, count) => sum + (count - expected) ** 2 / expected, 0);
        // 3 degrees of freedom: 16.27 is the p = 0.001 critical value.
        expect(chiSquare).toBeLessThan(16.27);
        expect(Math.min(...counts)).toBeGreaterThan(0);
        expect(await poolItems(a.table, 'random')).toEqual([]);
      });
    });

    describe('Shuffle', () => {
      it('uses every backend exactly once per round, sequentially over 200 selections', async () => {
        const picks: number[] = [];
        for (let i = 0; i < 200; i++) picks.push(await worker(i).pick(request('shuffle-seq', 'Shuffle')));
        for (let round = 0; round < 200 / N; round++) {
          expect([...picks.slice(round * N, round * N + N)].sort()).toEqual([0, 1, 2, 3]);
        }
        // A true shuffle: the rounds are not all the same order.
        const orders = new Set(
          Array.from({ length: 200 / N }, (_, round) => picks.slice(round * N, round * N + N).join()),
        );
        expect(orders.size).toBeGreaterThan(5);
      });

      it('uses every backend exactly once per round with two workers calling concurrently', async () => {
        for (let round = 0; round < 50; round++) {
          const picks = await Promise.all(
            Array.from({ length: N }, (_, i) => worker(i).pick(request('shuffle-concurrent', 'Shuffle'))),
          );
          expect(picks.sort()).toEqual([0, 1, 2, 3]);
        }
      });

      it('hands out equal shares under heavy concurrency (rounds refill only when used up)', async () => {
        const counts = new Array<number>(N).fill(0);
        for (let wave = 0; wave < 5; wave++) {
          const picks = await Promise.all(
            Array.from({ length: 40 }, (_, i) => worker(i).pick(request('shuffle-burst', 'Shuffle'))),
          );
          for (const pick of picks) counts[pick]! += 1;
        }
        expect(counts).toEqual([50, 50, 50, 50]);
      });
    });

    describe('LeastConns', () => {
      it('follows live sessions reported by both workers over 200 selections', async () => {
        const pool = 'lc-follow';
        const live = new Array<number>(N).fill(0);
        const sessions: { index: number; worker: Worker }[] = [];
        const random = seededRandom(99);
        for (let i = 0; i < 200; i++) {
          const w = worker(i);
          const { candidates } = await w.resolve(request(pool, 'LeastConns'));
          const pick = candidates[0]!.index;
          expect(live[pick]).toBe(Math.min(...live));
          // The whole order is by count.
          const counts = candidates.map((candidate) => live[candidate.index]!);
          expect(counts).toEqual([...counts].sort((x, y) => x - y));
          await w.event({ type: 'connected', pool, backend: backends[pick]!, workerId: w.id, connectMs: 5 });
          live[pick]! += 1;
          sessions.push({ index: pick, worker: w });
          // End a random session now and then, from the worker that holds it.
          if (random() < 0.4) {
            const [ended] = sessions.splice(Math.floor(random() * sessions.length), 1);
            await ended!.worker.event({
              type: 'ended',
              pool,
              backend: backends[ended!.index]!,
              workerId: ended!.worker.id,
            });
            live[ended!.index]! -= 1;
          }
        }
        const stored = await activeConnections(a.table, pool, cp.clock.now);
        expect(backends.map((backend) => stored.get(backend) ?? 0)).toEqual(live);
      });

      it('forgets a dead worker once its leases expire, while a live worker heartbeats', async () => {
        const pool = 'lc-dead';
        const connect = (w: Worker, index: number) =>
          w.event({ type: 'connected', pool, backend: backends[index]!, workerId: w.id, connectMs: 5 });
        for (let i = 0; i < 3; i++) {
          await connect(b, 0);
          await connect(b, 1);
        }
        await connect(a, 2);
        await connect(a, 3);
        await connect(a, 3);
        // Counts 3, 3, 1, 2: backend 2 is the least loaded.
        expect(await a.pick(request(pool, 'LeastConns'))).toBe(2);

        // Worker b dies (no more heartbeats); worker a keeps heartbeating every 10 s.
        const aLeases = [2, 3].map((index) => ({ pool, backend: backends[index]! }));
        for (let t = 0; t < 4; t++) {
          cp.clock.now += 10_000;
          const beat = await a.event({ type: 'heartbeat', workerId: a.id, leases: aLeases });
          expect(beat).toEqual({ type: 'heartbeat', extended: 2, expired: [] });
        }
        // 40 s later, b's leases are past their 30 s: backends 0 and 1 count zero again.
        const { candidates } = await a.resolve(request(pool, 'LeastConns'));
        expect(new Set(candidates.slice(0, 2).map((candidate) => candidate.index))).toEqual(new Set([0, 1]));
        expect(candidates.slice(2).map((candidate) => candidate.index)).toEqual([2, 3]);

        // A late heartbeat of b does not revive its counts; its late "ended" cannot go negative.
        const late = await b.event({
          type: 'heartbeat',
          workerId: b.id,
          leases: [{ pool, backend: backends[0]! }],
        });
        expect(late).toEqual({ type: 'heartbeat', extended: 0, expired: [{ pool, backend: backends[0]! }] });
        expect(await b.event({ type: 'ended', pool, backend: backends[0]!, workerId: b.id })).toEqual({
          type: 'ended',
          released: false,
          leaseCount: 0,
        });
        const counts = await activeConnections(a.table, pool, cp.clock.now);
        expect(Object.fromEntries(counts)).toEqual({ [backends[2]!]: 1, [backends[3]!]: 2 });
        // A new connect through the expired lease starts it again at 1, not at 4.
        expect(await connect(b, 0)).toMatchObject({ type: 'connected', leaseCount: 1 });
      });

      it('does not count failed connects as connections (unlike mod_proxy)', async () => {
        const pool = 'lc-failed';
        for (let i = 0; i < 5; i++) {
          const failed = await a.event({
            type: 'connect-failed',
            pool,
            backend: backends[0]!,
            reason: 'ECONNREFUSED',
            workerId: a.id,
          });
          // From the third failure on, passive health also marks it unhealthy (3 within 60 s by default).
          expect(failed).toEqual({ type: 'connect-failed', failures: i + 1, unhealthy: i + 1 >= 3 });
        }
        // A later success clears the health mark; the failures still never counted as connections.
        expect(
          await a.event({ type: 'connect-succeeded', pool, backend: backends[0]!, workerId: a.id }),
        ).toEqual({ type: 'connect-succeeded', cleared: true });
        await a.event({ type: 'connected', pool, backend: backends[1]!, workerId: a.id, connectMs: 5 });
        await a.event({ type: 'connected', pool, backend: backends[2]!, workerId: a.id, connectMs: 5 });
        await a.event({ type: 'connected', pool, backend: backends[3]!, workerId: a.id, connectMs: 5 });
        expect(await b.pick(request(pool, 'LeastConns'))).toBe(0);
      });
    });

    describe('LeastResponseTime', () => {
      const fastSlow = backends.slice(0, 2);
      const ms = [10, 40];

      it('prefers the faster backend in proportion to load over 200 selections', async () => {
        const pool = 'lrt';
        const active = [0, 0];
        const ewma: (number | undefined)[] = [undefined, undefined];
        const picks = [0, 0];
        for (let i = 0; i < 200; i++) {
          const w = worker(i);
          const pick = await w.pick({ pool, policy: 'LeastResponseTime', backends: fastSlow });
          // Before any sample both are equal (ties at random); after, the lowest score wins.
          if (ewma[0] !== undefined && ewma[1] !== undefined) {
            const scores = [0, 1].map((index) => responseTimeScore(active[index]!, ewma[index]!));
            expect(scores[pick]).toBe(Math.min(...scores));
          }
          const reply = await w.event({
            type: 'connected',
            pool,
            backend: fastSlow[pick]!,
            workerId: w.id,
            connectMs: ms[pick]!,
          });
          ewma[pick] = smoothConnectMs(ewma[pick], ms[pick]!);
          expect(reply.connectMsEwma).toBeCloseTo(ewma[pick]!);
          active[pick]! += 1;
          picks[pick]! += 1;
        }
        // Scores equalise when (a + 1) × 10 ≈ (b + 1) × 40: about four in five go to the fast one.
        expect(picks[0]! / 200).toBeGreaterThan(0.75);
        expect(picks[0]! / 200).toBeLessThan(0.85);
      });

      it('smooths a single outlier instead of acting on the last sample (unlike mod_proxy)', async () => {
        const pool = 'lrt-outlier';
        const connect = (index: number, connectMs: number) =>
          a.event({ type: 'connected', pool, backend: fastSlow[index]!, workerId: a.id, connectMs });
        const end = (index: number) =>
          a.event({ type: 'ended', pool, backend: fastSlow[index]!, workerId: a.id });
        for (let i = 0; i < 10; i++) {
          await connect(0, 10);
          await end(0);
          await connect(1, 40);
          await end(1);
        }
        const lrt = { pool, policy: 'LeastResponseTime' as const, backends: fastSlow };
        expect(await b.pick(lrt)).toBe(0);
        // One slow connect to the fast backend: 10 → 28 ms, still under 40.
        const outlier = await connect(0, 100);
        expect(outlier.connectMsEwma).toBeCloseTo(28);
        await end(0);
        expect(await b.pick(lrt)).toBe(0);
        // A lasting slowdown does move the choice.
        for (let i = 0; i < 5; i++) {
          await connect(0, 100);
          await end(0);
        }
        expect(await b.pick(lrt)).toBe(1);
      });
    });

    describe.each(['PerUser', 'PerGroup', 'PerHost'] as const)('%s', (policy) => {
      const keyOf = (i: number) => (policy === 'PerHost' ? `192.0.2.${i}` : `${policy.toLowerCase()}-${i}`);

      it('is stable per key across both workers over 200 selections', async () => {
        const pool = `sticky-${policy}`;
        const first = new Map<string, number>();
        for (let i = 0; i < 200; i++) {
          const stickyKey = keyOf(i % 50);
          const pick = await worker(Math.floor(i / 50)).pick(request(pool, policy, { stickyKey }));
          if (!first.has(stickyKey)) first.set(stickyKey, pick);
          expect(pick).toBe(first.get(stickyKey));
        }
        // 50 keys spread over the backends (loosely).
        const perBackend = new Array<number>(N).fill(0);
        for (const pick of first.values()) perBackend[pick]! += 1;
        expect(Math.min(...perBackend)).toBeGreaterThan(3);
      });

      it('agrees between workers on concurrent first use', async () => {
        const pool = `sticky-race-${policy}`;
        for (let i = 0; i < 20; i++) {
          const stickyKey = keyOf(100 + i);
          const picks = await Promise.all(
            [a, b, a, b].map((w) => w.pick(request(pool, policy, { stickyKey }))),
          );
          expect(new Set(picks).size).toBe(1);
        }
        // The store itself: two different first writers, exactly one wins, both then read the winner.
        const ref = { pool, policy, stickyKey: keyOf(999) };
        const expiresAt = Math.ceil(cp.clock.now / 1000) + 3600;
        const won = await Promise.all([
          createStickyMapping(a.table, ref, backends[0]!, cp.clock.now, expiresAt),
          createStickyMapping(b.table, ref, backends[1]!, cp.clock.now, expiresAt),
        ]);
        expect(won.filter(Boolean)).toHaveLength(1);
        const stored = await readStickyMapping(b.table, ref, cp.clock.now);
        expect(stored?.backend).toBe(backends[won[0] ? 0 : 1]);
      });

      it('re-picks when the stored backend failed, and the new mapping sticks', async () => {
        const pool = `sticky-repick-${policy}`;
        const stickyKey = keyOf(7);
        const original = await a.pick(request(pool, policy, { stickyKey }));
        const { candidates } = await a.resolve(request(pool, policy, { stickyKey, exclude: [original] }));
        const repick = candidates[0]!.index;
        expect(repick).not.toBe(original);
        expect(candidates.map((candidate) => candidate.index)).not.toContain(original);
        // The other worker, with nothing excluded, now gets the re-pick: the mapping was replaced.
        expect(await b.pick(request(pool, policy, { stickyKey }))).toBe(repick);
        // A list without the mapped backend re-picks again; the stored choice wins while usable.
        const shorter = backends.filter((_, index) => index !== repick);
        const { candidates: fromShorter } = await b.resolve({ pool, policy, backends: shorter, stickyKey });
        const third = shorter[fromShorter[0]!.index];
        expect(third).not.toBe(backends[repick]);
        expect(backends[await a.pick(request(pool, policy, { stickyKey }))]).toBe(third);
      });
    });

    describe('exclude', () => {
      it.each(CONNECT_POLICIES)('%s never returns an excluded backend', async (policy) => {
        const pool = `exclude-${policy}`;
        for (let i = 0; i < 20; i++) {
          const { candidates } = await worker(i).resolve(
            request(pool, policy, { exclude: [1, 3], stickyKey: `key-${i % 3}` }),
          );
          expect(candidates.map((candidate) => candidate.index).sort()).toEqual([0, 2]);
          expect(candidates.map((candidate) => candidate.backend).sort()).toEqual([backends[0], backends[2]]);
        }
        const none = await a.resolve(request(pool, policy, { exclude: [0, 1, 2, 3], stickyKey: 'k' }));
        expect(none.candidates).toEqual([]);
      });
    });

    describe('invalid events', () => {
      const issuePaths = async (call: Promise<unknown>) => {
        const error = await call.then(
          () => undefined,
          (err: unknown) => err,
        );
        expect(error).toBeInstanceOf(InvalidRequestError);
        return (error as InvalidRequestError).issues.map((issue) => issue.path).sort();
      };

      it('session-events names every bad field', async () => {
        const handler = createSessionEventsHandler({ table: a.table });
        const call = (event: unknown) => issuePaths(handler(event as never, {} as never));
        expect(
          await call({ type: 'connected', pool: '', backend: 'b', workerId: 'w', connectMs: 'fast' }),
        ).toEqual(['connectMs', 'pool']);
        expect(await call({ type: 'ended', pool: 'p', backend: 'b' })).toEqual(['workerId']);
        expect(await call({ type: 'connect-failed', pool: 'p', backend: 'b', reason: '' })).toEqual([
          'reason',
        ]);
        expect(
          await call({ type: 'heartbeat', workerId: 'w', leases: [{ pool: 'p', backend: '' }] }),
        ).toEqual(['leases.0.backend']);
        expect(await call({ type: 'opened' })).toEqual(['type']);
        expect(await call({ type: 'ended', pool: 'p', backend: 'b', workerId: 'w', extra: 1 })).toEqual([
          'extra',
        ]);
      });

      it('resolve-backend requires a sticky key for Per* policies', async () => {
        const handler = createResolveBackendHandler({ table: a.table });
        const call = (event: unknown) => issuePaths(handler(event as never, {} as never));
        expect(await call({ pool: 'p', policy: 'PerUser', backends })).toEqual(['stickyKey']);
        expect(await call({ pool: 'p', policy: 'Fastest', backends })).toEqual(['policy']);
      });
    });
  });

  describe(`sweepExpired on ${store.name}`, () => {
    let cp: ControlPlaneHarness;

    beforeAll(async () => {
      cp = await startControlPlane('ftpx-sweep', 7, store);
    });

    afterAll(async () => {
      await cp.close();
    });

    it('removes only expired items', async () => {
      const [a, b] = cp.workers;
      const pool = 'sweep';
      const backend = (index: number) => backends[index]!;
      await a.event({ type: 'connected', pool, backend: backend(0), workerId: a.id, connectMs: 5 });
      await b.event({ type: 'connected', pool, backend: backend(1), workerId: b.id, connectMs: 5 });
      await a.pick({ pool, policy: 'RoundRobin', backends });
      await a.pick({ pool, policy: 'Shuffle', backends });
      await a.pick({ pool, policy: 'PerHost', backends, stickyKey: '198.51.100.1' });

      const all = async () => {
        const result = await a.table.client.send(new ScanCommand({ TableName: a.table.name }));
        return (result.Items ?? []).map((item) => item.sk?.S ?? '').sort();
      };
      const before = await all();
      // Leases (2), response times (2), cursor, shuffle round, sticky mapping.
      expect(before).toHaveLength(7);
      expect(await sweepExpired(a.table, cp.clock.now)).toEqual({ found: 0, deleted: 0 });

      // 20 s on, a heartbeats; 15 s more and only b's lease is past its 30 s.
      cp.clock.now += 20_000;
      await a.event({ type: 'heartbeat', workerId: a.id, leases: [{ pool, backend: backend(0) }] });
      cp.clock.now += LEASE_TTL_MS - 15_000;
      expect(await sweepExpired(b.table, cp.clock.now)).toEqual({ found: 1, deleted: 1 });
      const after = await all();
      expect(before.filter((sk) => !after.includes(sk))).toHaveLength(1);
      const leases = after.filter((sk) => sk.startsWith('LEASE#'));
      expect(leases).toHaveLength(1);
      expect(leases[0]).toMatch(/#worker-0$/);
    });

    it('leaves items alone that were extended after the scan would have seen them expired', async () => {
      const table = cp.workers[0].table;
      await ensureTable(table);
      // An expired sticky mapping rewritten by a new first use survives a later sweep at the same time.
      const ref = { pool: 'sweep-race', policy: 'PerUser', stickyKey: 'eve' };
      const t0 = cp.clock.now;
      expect(await createStickyMapping(table, ref, backends[0]!, t0, Math.ceil(t0 / 1000) + 1)).toBe(true);
      cp.clock.now += 5_000;
      expect(await readStickyMapping(table, ref, cp.clock.now)).toBeUndefined();
      expect(
        await createStickyMapping(
          table,
          ref,
          backends[1]!,
          cp.clock.now,
          Math.ceil(cp.clock.now / 1000) + 60,
        ),
      ).toBe(true);
      const swept = await sweepExpired(table, cp.clock.now);
      expect(swept.deleted).toBe(swept.found);
      expect((await readStickyMapping(table, ref, cp.clock.now))?.backend).toBe(backends[1]);
    });
  });
}
