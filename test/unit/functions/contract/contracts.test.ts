import { describe, expect, it } from 'vitest';
import {
  CONNECT_POLICIES,
  type ResolveBackendRequest,
  resolveBackendRequestSchema,
  resolveBackendResponseSchema,
} from '../../../../functions/contract/resolve-backend.js';
import { sessionEventsRequestSchema } from '../../../../functions/contract/session-events.js';
import { InvalidRequestError } from '../../../../functions/core/handler/invalid-request-error.js';

function paths(schema: { safeParse(value: unknown): { success: boolean; error?: unknown } }, value: unknown) {
  const result = schema.safeParse(value);
  if (result.success) return [];
  return InvalidRequestError.fromZod(result.error as never)
    .issues.map((issue) => issue.path)
    .sort();
}

describe('resolve-backend contract', () => {
  it('still accepts what existing callers send', () => {
    const request: ResolveBackendRequest = { pool: 'p', policy: 'RoundRobin', backends: ['ftp://a:21'] };
    expect(resolveBackendRequestSchema.parse(request)).toEqual({
      ...request,
      backendsScope: 'pool',
      exclude: [],
      excludeBackends: [],
      perUserFallback: 'global',
    });
    expect(resolveBackendRequestSchema.parse({ ...request, exclude: [0], workerId: 'w1' }).workerId).toBe(
      'w1',
    );
  });

  it('takes exclusions by key, an empty list, and a per-user scope for per-name policies only', () => {
    const base = { pool: 'p', policy: 'PerUser', stickyKey: 'alice' };
    expect(
      resolveBackendRequestSchema.parse({
        ...base,
        backends: [],
        excludeBackends: ['ftp://a:21'],
        perUserFallback: 'refuse',
      }),
    ).toMatchObject({ backends: [], excludeBackends: ['ftp://a:21'], perUserFallback: 'refuse' });
    expect(
      resolveBackendRequestSchema.safeParse({ ...base, backends: ['ftp://a:21'], backendsScope: 'user' })
        .success,
    ).toBe(true);
    expect(
      paths(resolveBackendRequestSchema, {
        pool: 'p',
        policy: 'PerHost',
        stickyKey: '192.0.2.1',
        backends: ['ftp://a:21'],
        backendsScope: 'user',
      }),
    ).toEqual(['backendsScope']);
    expect(paths(resolveBackendRequestSchema, { ...base, backends: [], perUserFallback: 'never' })).toEqual([
      'perUserFallback',
    ]);
  });

  it('answers listed candidates by index and registered ones by URL, never both', () => {
    // What older functions answered still parses.
    expect(resolveBackendResponseSchema.parse({ candidates: [{ index: 0, backend: 'ftp://a:21' }] })).toEqual(
      {
        candidates: [{ index: 0, backend: 'ftp://a:21' }],
      },
    );
    const registered = { backend: 'ftp://r:21', url: 'ftp://u:p@r', registry: 'pool' };
    expect(resolveBackendResponseSchema.safeParse({ candidates: [registered], list: 'pool' }).success).toBe(
      true,
    );
    expect(
      resolveBackendResponseSchema.safeParse({ candidates: [{ ...registered, index: 1 }] }).success,
    ).toBe(false);
    expect(resolveBackendResponseSchema.safeParse({ candidates: [{ backend: 'ftp://r:21' }] }).success).toBe(
      false,
    );
    expect(
      resolveBackendResponseSchema.safeParse({
        candidates: [],
        list: 'user',
        refused: 'no backends for user',
      }).success,
    ).toBe(true);
  });

  it('knows all eight policies with mod_proxy spelling', () => {
    expect(CONNECT_POLICIES).toEqual([
      'Random',
      'RoundRobin',
      'Shuffle',
      'LeastConns',
      'LeastResponseTime',
      'PerUser',
      'PerGroup',
      'PerHost',
    ]);
    expect(paths(resolveBackendRequestSchema, { pool: 'p', policy: 'roundrobin', backends: ['x'] })).toEqual([
      'policy',
    ]);
  });

  it('requires a sticky key for the Per* policies, at the field', () => {
    for (const policy of ['PerUser', 'PerGroup', 'PerHost']) {
      const result = resolveBackendRequestSchema.safeParse({ pool: 'p', policy, backends: ['x'] });
      expect(result.success).toBe(false);
      const issues = InvalidRequestError.fromZod(result.error!).issues;
      expect(issues).toEqual([{ path: 'stickyKey', message: expect.stringContaining(policy) }]);
      expect(
        resolveBackendRequestSchema.safeParse({ pool: 'p', policy, backends: ['x'], stickyKey: 'k' }).success,
      ).toBe(true);
    }
    expect(paths(resolveBackendRequestSchema, { pool: '', policy: 'PerHost', backends: ['x'] })).toEqual([
      'pool',
      'stickyKey',
    ]);
  });

  it('reports unknown fields at their own path', () => {
    expect(
      paths(resolveBackendRequestSchema, { pool: 'p', policy: 'Random', backends: ['x'], sticky: 1 }),
    ).toEqual(['sticky']);
  });
});

describe('session-events contract', () => {
  it('accepts each event type', () => {
    for (const event of [
      { type: 'connected', pool: 'p', backend: 'b', workerId: 'w', connectMs: 3.5 },
      { type: 'connect-failed', pool: 'p', backend: 'b', reason: 'ECONNREFUSED' },
      { type: 'ended', pool: 'p', backend: 'b', workerId: 'w' },
      { type: 'heartbeat', workerId: 'w', leases: [{ pool: 'p', backend: 'b' }] },
    ]) {
      expect(sessionEventsRequestSchema.safeParse(event).success).toBe(true);
    }
  });

  it('names every bad field', () => {
    expect(
      paths(sessionEventsRequestSchema, { type: 'connected', pool: '', backend: 5, workerId: 'w' }),
    ).toEqual(['backend', 'connectMs', 'pool']);
    expect(
      paths(sessionEventsRequestSchema, {
        type: 'connected',
        pool: 'p',
        backend: 'b',
        workerId: 'w',
        connectMs: -1,
      }),
    ).toEqual(['connectMs']);
    expect(
      paths(sessionEventsRequestSchema, { type: 'heartbeat', workerId: 'w', leases: [{ pool: 'p' }] }),
    ).toEqual(['leases.0.backend']);
    expect(paths(sessionEventsRequestSchema, { type: 'closed' })).toEqual(['type']);
    expect(paths(sessionEventsRequestSchema, { type: 'ended', pool: 'p', backend: 'b' })).toEqual([
      'workerId',
    ]);
  });
});
