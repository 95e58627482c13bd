import { describe, expect, it } from 'vitest';
import { CachedControlPlane } from '../../../../edge-worker/control-plane/cached-control-plane.js';
import {
  type ControlPlaneClient,
  ControlPlaneError,
  ControlPlaneRejectedError,
} from '../../../../edge-worker/control-plane/control-plane-client.js';
import { Logger } from '../../../../edge-worker/log/logger.js';
import type {
  ResolveBackendRequest,
  ResolveBackendResponse,
} from '../../../../functions/contract/resolve-backend.js';
import { seededRandom } from '../../../../functions/core/random.js';
import { rendezvousRank } from '../../../../functions/core/rendezvous-hash.js';

const BACKENDS = ['ftp://a:21', 'ftp://b:21', 'ftp://c:21'];
const T0 = Date.UTC(2030, 0, 1, 12, 0, 0);

/**
 * The remote end of the cache: answers resolve-backend like the function would for RoundRobin (a
 * cursor) and sticky keys (a fixed map), or fails as an unreachable control plane does.
 */
class RemoteControlPlane implements ControlPlaneClient {
  up = true;
  calls = 0;
  private cursor = 0;
  refuse = false;

  async resolveBackend(request: ResolveBackendRequest): Promise<ResolveBackendResponse> {
    this.calls += 1;
    if (this.refuse) throw new ControlPlaneRejectedError('resolve-backend', 401, 'HTTP 401 unauthorized');
    if (!this.up) throw new ControlPlaneError('resolve-backend', 'unreachable: connect ECONNREFUSED');
    const excluded = new Set(request.exclude ?? []);
    const count = request.backends.length;
    let order: number[];
    if (request.stickyKey !== undefined) {
      order = [2, 0, 1];
    } else {
      const start = this.cursor++ % count;
      order = Array.from({ length: count }, (_, step) => (start + step) % count);
    }
    return {
      candidates: order
        .filter((index) => !excluded.has(index))
        .map((index) => ({ index, backend: request.backends[index] ?? '' })),
    };
  }

  async sessionEvent(): Promise<never> {
    throw new ControlPlaneError('session-events', 'unreachable');
  }

  async authenticate(): Promise<never> {
    throw new ControlPlaneError('authenticate', 'unreachable');
  }

  async tlsCache(): Promise<never> {
    throw new ControlPlaneError('tls-cache', 'unreachable');
  }
}

function setup(options: { staleForMs?: number; probeIntervalMs?: number; maxEntries?: number } = {}) {
  const clock = { now: T0 };
  const remote = new RemoteControlPlane();
  const lines: string[] = [];
  const cache = new CachedControlPlane(remote, {
    staleForMs: options.staleForMs ?? 60_000,
    probeIntervalMs: options.probeIntervalMs ?? 1000,
    ...(options.maxEntries !== undefined ? { maxEntries: options.maxEntries } : {}),
    log: new Logger({ write: (line) => lines.push(line) }, 'debug'),
    now: () => clock.now,
    random: seededRandom(7),
  });
  const logs = () => lines.map((line) => JSON.parse(line) as { level: string; msg: string });
  const first = async (request: ResolveBackendRequest) =>
    (await cache.resolveBackend(request)).candidates[0]?.index;
  const order = async (request: ResolveBackendRequest) =>
    (await cache.resolveBackend(request)).candidates.map((candidate) => candidate.index);
  return { clock, remote, cache, logs, first, order };
}

const roundRobin: ResolveBackendRequest = { pool: 'p', policy: 'RoundRobin', backends: BACKENDS };

describe('CachedControlPlane', () => {
  it('passes every call through while the control plane answers', async () => {
    const { remote, first } = setup();
    expect([await first(roundRobin), await first(roundRobin), await first(roundRobin)]).toEqual([0, 1, 2]);
    expect(remote.calls).toBe(3);
  });

  it('rotates RoundRobin locally from the last answer while the control plane is down', async () => {
    const { remote, clock, first, logs, cache } = setup();
    expect(await first(roundRobin)).toBe(0);
    expect(await first(roundRobin)).toBe(1);
    remote.up = false;
    const picks: (number | undefined)[] = [];
    for (let i = 0; i < 6; i++) {
      picks.push(await first(roundRobin));
      clock.now += 100;
    }
    // The next pick after 1 is 2, then on around the list.
    expect(picks).toEqual([2, 0, 1, 2, 0, 1]);
    expect(cache.state.unreachableSince).toBe(T0);
    expect(cache.state.servedStale).toBe(6);
    const stale = logs().filter((line) => line.msg.startsWith('control plane unreachable'));
    expect(stale).toEqual([expect.objectContaining({ level: 'warn' })]);
  });

  it('applies the request exclusions to stale answers', async () => {
    const { remote, order } = setup();
    await order(roundRobin);
    remote.up = false;
    expect(await order({ ...roundRobin, exclude: [1] })).toEqual([2, 0]);
    expect(await order({ ...roundRobin, exclude: [0, 2] })).toEqual([1]);
    expect(await order({ ...roundRobin, exclude: [0, 1, 2] })).toEqual([]);
  });

  it('keeps sticky keys where the control plane put them, and ranks unseen keys as it would', async () => {
    const { remote, order } = setup();
    const alice: ResolveBackendRequest = {
      pool: 'p',
      policy: 'PerUser',
      backends: BACKENDS,
      stickyKey: 'alice',
    };
    expect(await order(alice)).toEqual([2, 0, 1]);
    remote.up = false;
    expect(await order(alice)).toEqual([2, 0, 1]);
    expect(await order({ ...alice, exclude: [2] })).toEqual([0, 1]);
    const bob = { ...alice, stickyKey: 'bob' };
    expect(await order(bob)).toEqual(rendezvousRank('bob', BACKENDS));
  });

  it('serves Random and Shuffle as local random orders of the usable backends', async () => {
    const { remote, order } = setup();
    const random: ResolveBackendRequest = { pool: 'p', policy: 'Random', backends: BACKENDS };
    await order(random);
    remote.up = false;
    const firsts = new Set<number | undefined>();
    for (let i = 0; i < 30; i++) {
      const got = await order({ ...random, exclude: [1] });
      expect([...got].sort()).toEqual([0, 2]);
      firsts.add(got[0]);
    }
    expect(firsts).toEqual(new Set([0, 2]));
  });

  it('fails clearly once staleFor has passed since the outage began', async () => {
    const { remote, clock, first, logs } = setup({ staleForMs: 5000 });
    await first(roundRobin);
    remote.up = false;
    clock.now += 1000;
    await first(roundRobin); // The outage starts here.
    clock.now += 5000;
    await expect(first(roundRobin)).resolves.toBeDefined();
    clock.now += 1;
    const error = await first(roundRobin).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(ControlPlaneError);
    expect((error as Error).message).toBe(
      'control plane resolve-backend: unreachable since 2030-01-01T12:00:01.000Z; cached answers are only used for 5 s after that (control plane resolve-backend: unreachable: connect ECONNREFUSED)',
    );
    await expect(first(roundRobin)).rejects.toThrow(/unreachable since 2030-01-01T12:00:01.000Z/);
    expect(logs().filter((line) => line.level === 'error')).toHaveLength(1);
  });

  it('asks the control plane again once per probe interval, and recovers on its first answer', async () => {
    const { remote, clock, first, logs, cache } = setup({ probeIntervalMs: 1000 });
    await first(roundRobin);
    remote.up = false;
    await first(roundRobin);
    const callsAtOutage = remote.calls;
    // Within the probe interval, answers come from the cache without asking.
    clock.now += 500;
    await first(roundRobin);
    await first(roundRobin);
    expect(remote.calls).toBe(callsAtOutage);
    // Then one call probes (and fails): still served from the cache.
    clock.now += 600;
    await first(roundRobin);
    expect(remote.calls).toBe(callsAtOutage + 1);
    remote.up = true;
    await first(roundRobin);
    expect(remote.calls).toBe(callsAtOutage + 1);
    clock.now += 1000;
    await first(roundRobin);
    expect(remote.calls).toBe(callsAtOutage + 2);
    expect(cache.state.unreachableSince).toBeUndefined();
    await first(roundRobin);
    expect(remote.calls).toBe(callsAtOutage + 3);
    const messages = logs().map((line) => line.msg);
    expect(messages.filter((msg) => msg === 'control plane reachable again')).toHaveLength(1);
    expect(messages.filter((msg) => msg.startsWith('control plane unreachable'))).toHaveLength(1);
  });

  it('starts a new stale window at the next outage', async () => {
    const { remote, clock, first } = setup({ staleForMs: 2000, probeIntervalMs: 100 });
    await first(roundRobin);
    remote.up = false;
    await first(roundRobin);
    clock.now += 3000;
    await expect(first(roundRobin)).rejects.toThrow(/unreachable since/);
    remote.up = true;
    clock.now += 200;
    await first(roundRobin);
    remote.up = false;
    clock.now += 1000;
    await expect(first(roundRobin)).resolves.toBeDefined();
  });

  it('fails at once when the control plane never answered since start', async () => {
    const { remote, first } = setup();
    remote.up = false;
    await expect(first(roundRobin)).rejects.toThrow(/not reached once since this worker started/);
  });

  it('never covers up a refusal', async () => {
    const { remote, first } = setup();
    await first(roundRobin);
    remote.refuse = true;
    await expect(first(roundRobin)).rejects.toBeInstanceOf(ControlPlaneRejectedError);
  });

  it('keeps at most maxEntries answers, dropping the least recently stored', async () => {
    const { remote, order, cache } = setup({ maxEntries: 2 });
    const user = (stickyKey: string): ResolveBackendRequest => ({
      pool: 'p',
      policy: 'PerUser',
      backends: BACKENDS,
      stickyKey,
    });
    for (const key of ['u1', 'u2', 'u3']) await order(user(key));
    expect(cache.state.entries).toBe(2);
    remote.up = false;
    // u3 is remembered as the control plane answered; u1 was dropped, so it gets its own ranking.
    expect(await order(user('u3'))).toEqual([2, 0, 1]);
    expect(await order(user('u1'))).toEqual(rendezvousRank('u1', BACKENDS));
  });

  it('remembers registered candidates with their URLs and serves them while stale, excluded by key', async () => {
    const registered = { backend: 'ftp://r:21', url: 'ftp://svc:pw@r', registry: 'pool' as const };
    /** Answers the listed backends and one registered backend, the registered one first. */
    class RegisteringRemote extends RemoteControlPlane {
      override async resolveBackend(request: ResolveBackendRequest): Promise<ResolveBackendResponse> {
        if (!this.up) throw new ControlPlaneError('resolve-backend', 'unreachable');
        const listed = request.backends.map((backend, index) => ({ backend, index }));
        const all = request.stickyKey === undefined ? [registered, ...listed] : [...listed, registered];
        return { candidates: all, list: 'pool' };
      }
    }
    const remote = new RegisteringRemote();
    const cache = new CachedControlPlane(remote, {
      staleForMs: 60_000,
      log: new Logger({ write: () => {} }, 'debug'),
      now: () => T0,
      random: seededRandom(3),
    });
    const backends = (response: ResolveBackendResponse) => response.candidates.map((c) => c.backend);
    expect((await cache.resolveBackend(roundRobin)).candidates[0]).toEqual(registered);
    remote.up = false;
    // The rotation goes on after the registered backend: listed ones by position, then registered.
    expect(backends(await cache.resolveBackend(roundRobin))).toEqual([...BACKENDS, 'ftp://r:21']);
    const stale = await cache.resolveBackend({
      ...roundRobin,
      excludeBackends: ['ftp://r:21', 'ftp://b:21'],
    });
    expect(backends(stale)).toEqual(['ftp://c:21', 'ftp://a:21']);
    const random = await cache.resolveBackend({ pool: 'p', policy: 'Random', backends: BACKENDS });
    expect(random.candidates).toContainEqual(registered);
    // A sticky key never seen is ranked over the listed and the registered backends last seen.
    const carol = await cache.resolveBackend({
      pool: 'p',
      policy: 'PerHost',
      backends: BACKENDS,
      stickyKey: 'c',
    });
    const keys = [...BACKENDS, 'ftp://r:21'];
    expect(backends(carol)).toEqual(rendezvousRank('c', keys).map((index) => keys[index]));
  });

  it('refuses a PerUser name never seen while stale when the pool refuses users without a list', async () => {
    const { remote, cache } = setup();
    const user = (stickyKey: string): ResolveBackendRequest => ({
      pool: 'p',
      policy: 'PerUser',
      backends: BACKENDS,
      stickyKey,
      perUserFallback: 'refuse',
    });
    await cache.resolveBackend(user('alice'));
    remote.up = false;
    expect((await cache.resolveBackend(user('alice'))).candidates.map((c) => c.index)).toEqual([2, 0, 1]);
    const bob = await cache.resolveBackend(user('bob'));
    expect(bob.candidates).toEqual([]);
    expect(bob.refused).toMatch(/no answer for "bob" is cached/);
    // With the user's own list (%U files) the worker knows the candidates itself.
    const own = await cache.resolveBackend({ ...user('bob'), backendsScope: 'user' });
    expect(own.candidates.map((c) => c.backend).sort()).toEqual(BACKENDS);
  });

  it('passes session events through, failures included', async () => {
    const { cache } = setup();
    await expect(cache.sessionEvent({ type: 'heartbeat', workerId: 'w', leases: [] })).rejects.toThrow(
      'control plane session-events: unreachable',
    );
  });
});
