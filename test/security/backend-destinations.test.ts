import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoDbClient } from '../../functions/core/store/dynamodb-client.js';
import type { Table } from '../../functions/core/store/table.js';
import { createRegistryHandler } from '../../functions/registry/handler.js';
import { apiEvent } from '../integration/registry/api-client.js';
import { type ConnectSpy, spyOnConnects } from '../support/connect-spy.js';
import { startDnsServer, type TestDnsServer } from '../support/dns-server.js';
import { type FtpBackend, startFtpBackend, writeHomeFile } from '../support/ftp-backends.js';
import { curl } from '../support/ftp-clients.js';
import { startTestProxy, type TestProxy } from '../support/proxy.js';

const ADMIN = 'backend-destinations-admin-token-0123456789';

/**
 * Issue 14, hole 6 (reverse side): backends ftpx did not get from the operator's YAML pass the same
 * destination address policy as forward destinations. A tenant with an API token registers the
 * cloud metadata address, a link-local one, a name that resolves there, or a loopback service of the
 * proxy host; a DNS zone lists such an SRV target. None is connected to (the connect spy stops any
 * non-loopback connect before the system call; names resolve through a test DNS server on
 * loopback); the operator's own static backend keeps serving every login beside them; a pool whose
 * admin allows a private range (allowDestinationNetworks) reaches a registered backend there.
 */
describe('registered and discovered backend destinations', () => {
  let served: FtpBackend;
  let inward: FtpBackend;
  let dns: TestDnsServer;
  let spy: ConnectSpy;
  const proxies: TestProxy[] = [];
  const tables: Table[] = [];

  beforeAll(async () => {
    spy = spyOnConnects();
    [served, inward, dns] = await Promise.all([
      startFtpBackend('proftpd', { name: 'static-backend' }),
      startFtpBackend('proftpd', { name: 'inward-backend' }),
      startDnsServer(),
    ]);
    await writeHomeFile(served, 'whoami.txt', served.name);
    await writeHomeFile(inward, 'whoami.txt', inward.name);
    dns.set('metadata.test', 'A', [{ ttl: 60, data: '169.254.169.254' }]);
    dns.set('_ftp._tcp.zone.test', 'SRV', [
      { ttl: 60, data: { priority: 10, weight: 10, port: 21, target: 'metadata.test' } },
    ]);
  });

  afterAll(async () => {
    spy?.restore();
    await Promise.all(proxies.map((proxy) => proxy.close()));
    for (const table of tables) table.client.destroy();
    await Promise.all([served?.stop(), inward?.stop(), dns?.close()]);
  });

  const proxyWith = async (backends: string[], poolSettings: Record<string, unknown> = {}) => {
    const proxy = await startTestProxy({
      backends,
      settings: { dns: { servers: [dns.address], timeout: '1s' } },
      poolSettings: { retryCount: 8, connectTimeout: '2s', ...poolSettings },
    });
    proxies.push(proxy);
    return proxy;
  };

  /** The registry API (a tenant's token would do the same) over the proxy's own table. */
  const registryOf = (proxy: TestProxy) => {
    const table: Table = {
      client: createDynamoDbClient({ endpoint: proxy.worker.storeEndpoint as string, region: 'us-east-1' }),
      name: 'ftpx',
    };
    tables.push(table);
    const handler = createRegistryHandler({ table, bootstrapToken: ADMIN, log: () => {} });
    const context = { awsRequestId: 'test', functionName: 'registry' } as Context;
    return async (method: string, path: string, json?: unknown) =>
      (await handler(apiEvent(method, path, { token: ADMIN, ...(json ? { json } : {}) }), context))
        .statusCode;
  };

  /** One login through the proxy (the client's own credentials): the name of the backend that served. */
  const whoServes = async (proxy: TestProxy, backend: FtpBackend) => {
    const result = await curl([
      `ftp://${backend.user}:${backend.password}@127.0.0.1:${proxy.port}/whoami.txt`,
    ]);
    return result.code === 0
      ? result.stdout.toString('utf8')
      : `curl exit ${result.code}: ${result.stderr.trim()}`;
  };

  const refusals = (proxy: TestProxy) =>
    proxy.logs
      .filter((line) => line.msg === 'backend refused by the destination policy')
      .map((line) => `${line.backend} ${line.reason}`);

  it('refuses registered backends on metadata, link-local, unspecified and loopback addresses; the static backend serves', async () => {
    const callsBefore = spy.calls.length;
    const proxy = await proxyWith([`ftp://127.0.0.1:${served.port}`]);
    const registry = registryOf(proxy);
    expect(await registry('POST', '/v1/pools', { name: 'test' })).toBe(201);
    const registered = {
      metadata: 'ftp://169.254.169.254:21',
      linklocal: 'ftp://[fe80::1]:21',
      unspecified: 'ftp://0.0.0.0:21',
      byname: 'ftp://metadata.test:21',
      loopback: `ftp://127.0.0.1:${inward.port}`,
    };
    for (const [name, url] of Object.entries(registered)) {
      expect(await registry('PUT', `/v1/pools/test/backends/${name}`, { url }), name).toBe(201);
    }
    // RoundRobin walks all six: each login tries the registered ones it meets, refuses them, and
    // lands on the static backend.
    for (let login = 0; login < 3; login++) expect(await whoServes(proxy, served)).toBe(served.name);
    const refused = refusals(proxy).join('\n');
    expect(refused).toContain('ftp://169.254.169.254:21 169.254.169.254 is a metadata address');
    expect(refused).toContain('ftp://[fe80::1]:21 fe80::1 is a link-local address');
    expect(refused).toContain('ftp://0.0.0.0:21 0.0.0.0 is an unspecified address');
    expect(refused).toContain('ftp://metadata.test:21 169.254.169.254 is a metadata address');
    expect(refused).toContain(`ftp://127.0.0.1:${inward.port} 127.0.0.1 is a loopback address`);
    expect(spy.blocked).toEqual([]);
    // (The servers' own start-up checks connected before this test.)
    expect(spy.calls.slice(callsBefore)).not.toContain(`127.0.0.1:${inward.port}`);
  });

  it('refuses a discovered SRV target that resolves to the metadata address; the static backend serves', async () => {
    const proxy = await proxyWith([`ftp+srv://_ftp._tcp.zone.test`, `ftp://127.0.0.1:${served.port}`]);
    for (let login = 0; login < 2; login++) expect(await whoServes(proxy, served)).toBe(served.name);
    const refused = proxy.logs.filter((line) => line.msg === 'backend refused by the destination policy');
    expect(refused.length).toBeGreaterThan(0);
    for (const line of refused) {
      expect(line.backend).toBe('ftp://169.254.169.254:21');
      expect(String(line.source)).toMatch(/^dns:ftp\+srv:\/\/_ftp\._tcp\.zone\.test/);
      expect(String(line.reason)).toContain('metadata address');
    }
    expect(spy.blocked).toEqual([]);
  });

  it('a pool whose admin allows a private range reaches a registered backend there', async () => {
    const proxy = await proxyWith([`ftp://127.0.0.1:${served.port}`], {
      allowDestinationNetworks: ['127.0.0.0/8'],
    });
    const registry = registryOf(proxy);
    expect(await registry('POST', '/v1/pools', { name: 'test' })).toBe(201);
    expect(
      await registry('PUT', '/v1/pools/test/backends/inward', { url: `ftp://127.0.0.1:${inward.port}` }),
    ).toBe(201);
    // RoundRobin over [static, registered]: one of two logins with the registered server's account is its.
    const seen = [await whoServes(proxy, inward), await whoServes(proxy, inward)];
    expect(seen).toContain(inward.name);
    expect(refusals(proxy)).toEqual([]);
    expect(spy.calls).toContain(`127.0.0.1:${inward.port}`);
  });
});
