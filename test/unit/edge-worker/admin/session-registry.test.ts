import { describe, expect, it } from 'vitest';
import { EdgeMetrics, sampleValue } from '../../../../edge-worker/admin/edge-metrics.js';
import { newSessionId, SessionRegistry, Throughput } from '../../../../edge-worker/admin/session-registry.js';

function start(registry: SessionRegistry, closed: string[] = []) {
  return registry.register({
    protocol: 'sftp',
    role: 'reverse',
    pool: 'p',
    listener: 'l',
    client: '192.0.2.1:4000',
    close: (reason) => closed.push(reason),
  });
}

describe('session registry', () => {
  it('gives every session 12 random hex digits (none of them the fixed version digit of a UUID)', () => {
    const ids = Array.from({ length: 2000 }, () => newSessionId());
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{12}$/);
    expect(new Set(ids).size).toBe(ids.length);
    // Every position takes more than one value: a fixed digit (the UUID's "4") would show here.
    for (let i = 0; i < 12; i += 1) expect(new Set(ids.map((id) => id[i])).size).toBeGreaterThan(8);
    expect(start(new SessionRegistry(new EdgeMetrics())).id).toMatch(/^[0-9a-f]{12}$/);
  });

  it('follows a session of any protocol in the list, the gauges and the end listeners', async () => {
    const metrics = new EdgeMetrics();
    const registry = new SessionRegistry(metrics);
    const ended: string[] = [];
    registry.onEnd((session) =>
      ended.push(`${session.session.user} ${session.session.backend} ${session.session.bytesIn}`),
    );
    const handle = start(registry);
    handle.setUser('bob');
    handle.setBackend('sftp://10.0.0.1:22', { connectMs: 12, address: '10.0.0.1', port: 22 });
    handle.addBytes('in', 100);
    handle.addBytes('out', 7);
    handle.addBytes('in', 20);
    handle.login(true);
    const labels = { protocol: 'sftp', pool: 'p', role: 'reverse' };
    expect(await sampleValue(metrics.sessionsActive, labels)).toBe(1);
    expect(
      await sampleValue(metrics.backendSessionsActive, { pool: 'p', backend: 'sftp://10.0.0.1:22' }),
    ).toBe(1);
    expect(registry.list()).toMatchObject([
      {
        id: handle.id,
        user: 'bob',
        backend: 'sftp://10.0.0.1:22',
        backendAddress: '10.0.0.1',
        bytesIn: 120,
        bytesOut: 7,
      },
    ]);
    expect(await sampleValue(metrics.bytes, { protocol: 'sftp', pool: 'p', direction: 'in' })).toBe(120);
    expect(await sampleValue(metrics.bytes, { protocol: 'sftp', pool: 'p', direction: 'out' })).toBe(7);
    handle.end();
    handle.end();
    expect(registry.size).toBe(0);
    expect(await sampleValue(metrics.sessionsActive, labels)).toBe(0);
    expect(await sampleValue(metrics.sessionsTotal, labels)).toBe(1);
    expect(
      await sampleValue(metrics.backendSessionsActive, { pool: 'p', backend: 'sftp://10.0.0.1:22' }),
    ).toBe(0);
    expect(ended).toEqual(['bob sftp://10.0.0.1:22 120']);
    // Reports after the end change nothing.
    handle.setBackend('sftp://10.0.0.2:22');
    expect(
      await sampleValue(metrics.backendSessionsActive, { pool: 'p', backend: 'sftp://10.0.0.2:22' }),
    ).toBe(0);
  });

  it('kicks one session, closes all, and tells the drain when the last one ended', async () => {
    const registry = new SessionRegistry(new EdgeMetrics());
    const closed: string[] = [];
    const a = start(registry, closed);
    const b = start(registry, closed);
    expect(registry.kick('nope', 'bye')).toBe(false);
    expect(registry.kick(a.id, 'bye')).toBe(true);
    expect(closed).toEqual(['bye']);
    expect(await registry.whenEmpty(20)).toBe(false);
    const empty = registry.whenEmpty(5000);
    registry.closeAll('shutting down');
    // The kicked session has not ended yet: it is closed again, as every other.
    expect(closed).toEqual(['bye', 'shutting down', 'shutting down']);
    a.end();
    b.end();
    expect(await empty).toBe(true);
  });

  it('keeps throughput per 10-second slot for ten minutes', () => {
    const throughput = new Throughput();
    const t0 = Date.UTC(2026, 10, 21, 9, 0, 0);
    throughput.add('out', 500, t0);
    throughput.add('out', 250, t0 + 5000);
    throughput.add('in', 40, t0 + 12_000);
    const series = throughput.series(t0 + 15_000);
    expect(series).toHaveLength(60);
    expect(series.slice(-2)).toEqual([
      { at: new Date(t0).toISOString(), in: 0, out: 750 },
      { at: new Date(t0 + 10_000).toISOString(), in: 40, out: 0 },
    ]);
    expect(throughput.series(t0 + 11 * 60_000).every((slot) => slot.in + slot.out === 0)).toBe(true);
  });
});
