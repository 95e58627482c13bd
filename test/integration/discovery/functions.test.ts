import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedStore } from '../../../edge-worker/embedded/store-server.js';
import { parseBackendUrl } from '../../../functions/core/backend-url.js';
import {
  createDiscoveryContext,
  type DiscoveryContext,
  discoverUrl,
} from '../../../functions/core/discovery/discovery-service.js';
import { lambdaContext } from '../../../functions/core/handler/lambda-context.js';
import { DEFAULT_ACTIVE_CHECK_OPTIONS } from '../../../functions/core/health/check-backend.js';
import { DEFAULT_HEALTH_SETTINGS } from '../../../functions/core/health/health-settings.js';
import { createDynamoDbClient } from '../../../functions/core/store/dynamodb-client.js';
import { readPoolHealth } from '../../../functions/core/store/health-store.js';
import { ensureTable, type Table } from '../../../functions/core/store/table.js';
import { createDiscoveryHandler } from '../../../functions/discovery/handler.js';
import { createHealthCheckHandler } from '../../../functions/health-check/handler.js';
import { startDnsServer, type TestDnsServer } from '../../support/dns-server.js';
import { type FtpBackend, startFtpBackend } from '../../support/ftp-backends.js';
import { freePort } from '../../support/ports.js';

/**
 * The discovery and health-check handlers as Lambda runs them (validated events, the shared cache in
 * the store), with a clock the test moves, a DNS server whose records change, and a real ProFTPD.
 */
describe('discovery and health-check functions', () => {
  let store: Awaited<ReturnType<typeof startEmbeddedStore>>;
  let table: Table;
  let dns: TestDnsServer;
  let proftpd: FtpBackend;
  let clock = 1_000_000_000;
  let discovery: DiscoveryContext;
  const context = (name: string) => lambdaContext(name, 'test', Date.now() + 10_000);
  const source = 'ftp+srv://_ftp._tcp.fn.test:21';
  const srv = (port: number, ttl = 30) => ({
    ttl,
    data: { priority: 1, weight: 1, port, target: 'a.fn.test' },
  });

  beforeAll(async () => {
    [store, dns, proftpd] = await Promise.all([
      startEmbeddedStore(undefined),
      startDnsServer(),
      startFtpBackend('proftpd', { name: 'fn-proftpd' }),
    ]);
    table = {
      client: createDynamoDbClient({ endpoint: store.endpoint, region: 'us-east-1' }),
      name: 'fn-table',
    };
    await ensureTable(table);
    discovery = createDiscoveryContext(table, { servers: [{ host: dns.host, port: dns.port }] }, () => clock);
    dns.set('a.fn.test', 'A', [{ ttl: 300, data: '127.0.0.1' }]);
  });

  afterAll(async () => {
    table?.client.destroy();
    await Promise.all([store?.close(), dns?.close(), proftpd?.stop()]);
  });

  it('on demand: resolves the named URLs now and caches them for their TTL', async () => {
    dns.set('_ftp._tcp.fn.test', 'SRV', [srv(2121)]);
    const handler = createDiscoveryHandler({ discovery });
    const answer = await handler({ sources: [source] } as never, context('discovery'));
    expect(answer).toEqual({
      refreshed: [{ source, outcome: 'records', targets: 1, ttlSeconds: 30 }],
      failed: [],
      skipped: 0,
    });
    const cached = await discoverUrl(discovery, source, urlOf(source));
    expect(cached).toMatchObject({ from: 'cache', validUntil: clock + 30_000 });
    expect(cached.discovery.targets).toEqual([
      { protocol: 'ftp', host: 'a.fn.test', address: '127.0.0.1', port: 2121, priority: 1, weight: 1 },
    ]);
  });

  it('scheduled (an EventBridge event): refreshes only the answers due before the next run', async () => {
    dns.set('_ftp._tcp.fn.test', 'SRV', [srv(2122)]);
    const handler = createDiscoveryHandler({ discovery });
    const scheduled = { source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} };
    clock += 10_000;
    expect(await handler({ ...scheduled, withinMs: 5000 } as never, context('discovery'))).toMatchObject({
      refreshed: [],
      skipped: 1,
    });
    // 75 % of the 30 s TTL is due at +22.5 s: a run at +20 s with a 5 s schedule takes it.
    clock += 10_000;
    expect(await handler({ ...scheduled, withinMs: 5000 } as never, context('discovery'))).toMatchObject({
      refreshed: [{ source, targets: 1 }],
    });
    const cached = await discoverUrl(discovery, source, urlOf(source));
    expect(cached.discovery.targets[0]?.port).toBe(2122);
  });

  it('an expired answer stands in while DNS does not answer; without one, a clear error', async () => {
    const dead = createDiscoveryContext(
      table,
      { servers: [{ host: '127.0.0.1', port: await freePort('127.0.0.1') }], timeoutMs: 300 },
      () => clock,
    );
    clock += 60_000;
    const stale = await discoverUrl(dead, source, urlOf(source));
    expect(stale.from).toBe('stale');
    expect(stale.discovery.targets[0]?.port).toBe(2122);
    const never = 'ftp+srv://_ftp._tcp.never.test:21';
    await expect(discoverUrl(dead, never, urlOf(never))).rejects.toThrow(
      /^cannot resolve ftp\+srv:\/\/_ftp\._tcp\.never\.test:21: SRV _ftp\._tcp\.never\.test: 127\.0\.0\.1:\d+: no answer within 300 ms$/,
    );
  });

  it('rejects events that are not discovery URLs', async () => {
    const handler = createDiscoveryHandler({ discovery });
    await expect(
      handler({ sources: ['ftp://plain.test'] } as never, context('discovery')),
    ).rejects.toMatchObject({
      name: 'InvalidRequestError',
      statusCode: 400,
    });
  });

  it('health-check: checks listed backends, stores result, latency and reason per pool', async () => {
    const closed = await freePort('127.0.0.1');
    const handler = createHealthCheckHandler({
      discovery: createDiscoveryContext(table, { servers: [{ host: dns.host, port: dns.port }] }),
      options: { ...DEFAULT_ACTIVE_CHECK_OPTIONS, timeoutMs: 1000 },
      health: DEFAULT_HEALTH_SETTINGS,
    });
    const result = await handler(
      { listed: [{ pool: 'p', backends: [proftpd.url, `ftp://127.0.0.1:${closed}`] }] },
      context('health-check'),
    );
    expect(result.checked).toHaveLength(2);
    expect(result.checked).toContainEqual(
      expect.objectContaining({ pool: 'p', backend: `${proftpd.url}`, ok: true, reason: '220 banner' }),
    );
    expect(result.checked).toContainEqual(
      expect.objectContaining({ backend: `ftp://127.0.0.1:${closed}`, ok: false }),
    );
    const stored = await readPoolHealth(table, 'p', Date.now());
    expect(stored.find((record) => record.backend === `ftp://127.0.0.1:${closed}`)).toMatchObject({
      unhealthyReason: expect.stringMatching(/^active ftp check failed: connect: .*ECONNREFUSED/),
      check: { ok: false, protocol: 'ftp' },
    });
    // The next scheduled run (no event fields) finds the failed backend through its health record.
    // Nobody listed it this time, so it passes the destination policy: a loopback address is not
    // connected to unless the pool's allow list (here FTPX_HEALTH_CHECK_ALLOW_NETWORKS) names it.
    const scheduled = await handler({} as never, context('health-check'));
    expect(scheduled.checked.map((check) => check.backend)).not.toContain(`ftp://127.0.0.1:${closed}`);
    expect(scheduled.refused).toContainEqual({
      pool: 'p',
      backend: `ftp://127.0.0.1:${closed}`,
      reason: expect.stringContaining('127.0.0.1 is a loopback address'),
    });
    const allowing = createHealthCheckHandler({
      discovery: createDiscoveryContext(table, { servers: [{ host: dns.host, port: dns.port }] }),
      options: {
        ...DEFAULT_ACTIVE_CHECK_OPTIONS,
        timeoutMs: 1000,
        allowDestinationNetworks: ['127.0.0.0/8'],
      },
      health: DEFAULT_HEALTH_SETTINGS,
    });
    const allowed = await allowing({} as never, context('health-check'));
    expect(allowed.checked.map((check) => check.backend)).toContain(`ftp://127.0.0.1:${closed}`);
    expect(allowed.refused).toBeUndefined();
  });

  it('AAAA-only targets become bracketed IPv6 keys; listed +srv entries are expanded for checks', async () => {
    dns.set('_ftp._tcp.six.test', 'SRV', [
      { ttl: 30, data: { priority: 1, weight: 1, port: proftpd.port, target: 'six.fn.test' } },
    ]);
    dns.set('six.fn.test', 'AAAA', [{ ttl: 30, data: '::1' }]);
    const six = 'ftp+srv://_ftp._tcp.six.test:21';
    const answer = await discoverUrl(discovery, six, urlOf(six), { force: true });
    expect(answer.discovery.targets).toEqual([
      { protocol: 'ftp', host: 'six.fn.test', address: '::1', port: proftpd.port, priority: 1, weight: 1 },
    ]);
    dns.set('_ftp._tcp.four.test', 'SRV', [
      { ttl: 30, data: { priority: 1, weight: 1, port: proftpd.port, target: 'a.fn.test' } },
    ]);
    const handler = createHealthCheckHandler({
      discovery: createDiscoveryContext(table, { servers: [{ host: dns.host, port: dns.port }] }),
      options: { ...DEFAULT_ACTIVE_CHECK_OPTIONS, timeoutMs: 1000 },
      health: DEFAULT_HEALTH_SETTINGS,
    });
    const listedSrv = { pool: 'q', backends: ['ftp+srv://_ftp._tcp.four.test:21'] };
    // A discovered target is judged by the pool's allow list, which the edge passes with its list.
    const result = await handler(
      { pools: ['q'], listed: [{ ...listedSrv, allowDestinationNetworks: ['127.0.0.0/8'] }] } as never,
      context('health-check'),
    );
    expect(result.checked).toEqual([
      expect.objectContaining({ pool: 'q', backend: `ftp://127.0.0.1:${proftpd.port}`, ok: true }),
    ]);
    const unlisted = await handler({ pools: ['q'], listed: [listedSrv] } as never, context('health-check'));
    expect(unlisted.checked).toEqual([]);
    expect(unlisted.refused).toEqual([
      {
        pool: 'q',
        backend: `ftp://127.0.0.1:${proftpd.port}`,
        reason: expect.stringContaining('127.0.0.1 is a loopback address'),
      },
    ]);
  });
});

function urlOf(text: string) {
  const parsed = parseBackendUrl(text);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.url;
}
