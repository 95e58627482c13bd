import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResolveBackendResponse } from '../../../../functions/contract/resolve-backend.js';
import {
  appendRegistered,
  excludedPositions,
  listedEntries,
} from '../../../../functions/core/connect-policies/ordering/candidates.js';
import { seededRandom } from '../../../../functions/core/random.js';
import { rendezvousRank } from '../../../../functions/core/rendezvous-hash.js';
import { createResolveBackendHandler } from '../../../../functions/resolve-backend/handler.js';
import { type RegistryHarness, startRegistry } from '../../../integration/registry/api-client.js';

const LISTED = ['ftp://10.0.0.1:21', 'ftp://10.0.0.2:21'];

describe('candidate list merging (pure)', () => {
  it('appends registered backends not already listed, keeping listed duplicates', () => {
    const listed = listedEntries(['ftp://a:21', 'ftp://a:21', 'ftp://b:21']);
    const merged = appendRegistered(listed, [
      { backend: 'ftp://b:21', url: 'ftp://u:p@b', registry: 'pool' },
      { backend: 'ftp://c:21', url: 'ftp://c', registry: 'pool' },
      { backend: 'ftp://c:21', url: 'ftp://other@c', registry: 'pool' },
    ]);
    expect(merged).toEqual([
      { backend: 'ftp://a:21', index: 0 },
      { backend: 'ftp://a:21', index: 1 },
      { backend: 'ftp://b:21', index: 2 },
      { backend: 'ftp://c:21', url: 'ftp://c', registry: 'pool' },
    ]);
    // By position (listed only) and by key (every position with the key, any kind).
    expect([...excludedPositions(merged, [2], [])]).toEqual([2]);
    expect([...excludedPositions(merged, [], ['ftp://a:21', 'ftp://c:21'])]).toEqual([0, 1, 3]);
  });
});

/** resolve-backend over the registry's data, written through the registry handler, on dynalite. */
describe('resolve-backend with registered backends and per-user mappings', () => {
  let registry: RegistryHarness;
  let resolve: (request: Record<string, unknown>) => Promise<ResolveBackendResponse>;

  beforeAll(async () => {
    registry = await startRegistry('ftpx');
    const handler = createResolveBackendHandler({ table: registry.table, random: seededRandom(5) });
    resolve = (request) => handler(request as never, {} as never);
    for (const name of ['merge', 'users', 'groups', 'empty']) {
      expect((await registry.call('POST', '/v1/pools', { json: { name, proxyAuth: true } })).status).toBe(
        201,
      );
    }
    const add = async (pool: string, id: string, url: string, enabled = true) =>
      expect(
        (await registry.call('PUT', `/v1/pools/${pool}/backends/${id}`, { json: { url, enabled } })).status,
      ).toBe(201);
    await add('merge', 'r1', 'ftp://svc:regpass@10.0.1.1:2121');
    await add('merge', 'r2', 'ftp://10.0.0.2'); // Also listed: used once, as listed.
    await add('merge', 'r3', 'ftp://10.0.1.3', false); // Disabled: never used.
    await add('users', 'r1', 'ftp://10.0.2.1');
    const map = async (pool: string, kind: string, name: string, backends: string[]) =>
      expect(
        (await registry.call('PUT', `/v1/pools/${pool}/${kind}/${name}/backends`, { json: { backends } }))
          .status,
      ).toBe(201);
    await map('users', 'users', 'alice', ['ftp://alice:pw@10.0.3.1', 'ftp://10.0.3.2:2121']);
    await map('groups', 'groups', 'staff', ['ftp://10.0.4.1']);
  });

  afterAll(async () => {
    await registry.close();
  });

  it('merges enabled registered backends after the listed ones, with their URL', async () => {
    const { candidates, list } = await resolve({ pool: 'merge', policy: 'RoundRobin', backends: LISTED });
    expect(list).toBe('pool');
    expect(candidates).toEqual([
      { backend: 'ftp://10.0.0.1:21', index: 0 },
      { backend: 'ftp://10.0.0.2:21', index: 1 },
      { backend: 'ftp://10.0.1.1:2121', url: 'ftp://svc:regpass@10.0.1.1:2121', registry: 'pool' },
    ]);
    // The cursor walks the merged list: the registered backend gets its turn.
    const firsts: string[] = [];
    for (let i = 0; i < 3; i++) {
      firsts.push(
        (await resolve({ pool: 'merge', policy: 'RoundRobin', backends: LISTED })).candidates[0]!.backend,
      );
    }
    expect(firsts).toEqual(['ftp://10.0.0.2:21', 'ftp://10.0.1.1:2121', 'ftp://10.0.0.1:21']);
  });

  it('excludes failed backends by key, registered ones included, and by position', async () => {
    for (const policy of ['Random', 'RoundRobin', 'Shuffle', 'LeastConns', 'LeastResponseTime']) {
      const { candidates } = await resolve({
        pool: 'merge',
        policy,
        backends: LISTED,
        excludeBackends: ['ftp://10.0.1.1:2121'],
        exclude: [0],
      });
      expect(
        candidates.map((candidate) => candidate.backend),
        policy,
      ).toEqual(['ftp://10.0.0.2:21']);
    }
    const none = await resolve({
      pool: 'merge',
      policy: 'PerHost',
      stickyKey: '192.0.2.7',
      backends: LISTED,
      excludeBackends: [...LISTED, 'ftp://10.0.1.1:2121'],
    });
    expect(none).toEqual({ candidates: [], list: 'pool' });
  });

  it('keeps a sticky key on a registered backend it was mapped to', async () => {
    const keys = [...LISTED, 'ftp://10.0.1.1:2121'];
    const host = ['192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.4', '192.0.2.5'].find(
      (key) => rendezvousRank(key, keys)[0] === 2,
    ) as string;
    const request = { pool: 'merge', policy: 'PerHost', stickyKey: host, backends: LISTED };
    const first = await resolve(request);
    expect(first.candidates[0]).toMatchObject({ backend: 'ftp://10.0.1.1:2121', registry: 'pool' });
    expect((await resolve(request)).candidates[0]?.backend).toBe('ftp://10.0.1.1:2121');
  });

  it("PerUser: the user's registered backends replace the list; others get the global list", async () => {
    const alice = await resolve({ pool: 'users', policy: 'PerUser', stickyKey: 'alice', backends: LISTED });
    expect(alice.list).toBe('user');
    expect(alice.candidates.map((candidate) => candidate.url).sort()).toEqual([
      'ftp://10.0.3.2:2121',
      'ftp://alice:pw@10.0.3.1',
    ]);
    expect(alice.candidates.every((candidate) => candidate.registry === 'user')).toBe(true);
    const bob = await resolve({ pool: 'users', policy: 'PerUser', stickyKey: 'bob', backends: LISTED });
    expect(bob.list).toBe('pool');
    expect(bob.candidates.map((candidate) => candidate.backend).sort()).toEqual([
      'ftp://10.0.0.1:21',
      'ftp://10.0.0.2:21',
      'ftp://10.0.2.1:21',
    ]);
    // A failed user backend is not returned again; when all failed, nothing (no global fallback).
    const retry = await resolve({
      pool: 'users',
      policy: 'PerUser',
      stickyKey: 'alice',
      backends: LISTED,
      excludeBackends: ['ftp://10.0.3.1:21', 'ftp://10.0.3.2:2121'],
    });
    expect(retry).toEqual({ candidates: [], list: 'user' });
  });

  it('PerUser with perUserFallback refuse: no list of its own means no candidate, and why', async () => {
    const bob = await resolve({
      pool: 'users',
      policy: 'PerUser',
      stickyKey: 'bob',
      backends: LISTED,
      perUserFallback: 'refuse',
    });
    expect(bob).toEqual({
      candidates: [],
      list: 'user',
      refused:
        'no backends for user "bob" (none listed for it, none registered) and perUserFallback is refuse',
    });
    const alice = await resolve({
      pool: 'users',
      policy: 'PerUser',
      stickyKey: 'alice',
      backends: LISTED,
      perUserFallback: 'refuse',
    });
    expect(alice.candidates).toHaveLength(2);
  });

  it("PerUser with the user's own list (%U files): that list, then its registered backends, never the global one", async () => {
    const own = ['ftp://10.0.9.9:21'];
    const alice = await resolve({
      pool: 'users',
      policy: 'PerUser',
      stickyKey: 'alice',
      backends: own,
      backendsScope: 'user',
    });
    expect(alice.list).toBe('user');
    expect(alice.candidates.map((candidate) => candidate.backend).sort()).toEqual([
      'ftp://10.0.3.1:21',
      'ftp://10.0.3.2:2121',
      'ftp://10.0.9.9:21',
    ]);
    expect(alice.candidates.find((candidate) => candidate.index !== undefined)).toEqual({
      backend: 'ftp://10.0.9.9:21',
      index: 0,
    });
    const carol = await resolve({
      pool: 'users',
      policy: 'PerUser',
      stickyKey: 'carol',
      backends: own,
      backendsScope: 'user',
      perUserFallback: 'refuse',
    });
    expect(carol).toEqual({ candidates: [{ backend: 'ftp://10.0.9.9:21', index: 0 }], list: 'user' });
  });

  it("PerGroup looks up the group's registered backends (ready for proxy authentication)", async () => {
    const staff = await resolve({ pool: 'groups', policy: 'PerGroup', stickyKey: 'staff', backends: LISTED });
    expect(staff).toEqual({
      candidates: [{ backend: 'ftp://10.0.4.1:21', url: 'ftp://10.0.4.1', registry: 'group' }],
      list: 'user',
    });
    const other = await resolve({ pool: 'groups', policy: 'PerGroup', stickyKey: 'other', backends: LISTED });
    expect(other.list).toBe('pool');
    expect(other.candidates).toHaveLength(2);
  });

  it('answers why when there is nothing at all to choose from', async () => {
    expect(await resolve({ pool: 'empty', policy: 'RoundRobin', backends: [] })).toEqual({
      candidates: [],
      list: 'pool',
      refused: 'no backends: none listed and none registered in the pool',
    });
    // A pool with registered backends only.
    const only = await resolve({ pool: 'users', policy: 'Random', backends: [] });
    expect(only.candidates).toEqual([
      { backend: 'ftp://10.0.2.1:21', url: 'ftp://10.0.2.1', registry: 'pool' },
    ]);
  });

  it('sees a registry change at the next call', async () => {
    const before = await resolve({ pool: 'empty', policy: 'Random', backends: LISTED });
    expect(before.candidates).toHaveLength(2);
    expect(
      (await registry.call('POST', '/v1/pools/empty/backends', { json: { url: 'ftp://10.0.5.1' } })).status,
    ).toBe(201);
    const after = await resolve({ pool: 'empty', policy: 'Random', backends: LISTED });
    expect(after.candidates.map((candidate) => candidate.backend)).toContain('ftp://10.0.5.1:21');
  });
});
