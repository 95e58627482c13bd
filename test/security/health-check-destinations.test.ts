import { type AddressInfo, createServer } from 'node:net';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDiscoveryContext } from '../../functions/core/discovery/discovery-service.js';
import { lambdaContext } from '../../functions/core/handler/lambda-context.js';
import { DEFAULT_ACTIVE_CHECK_OPTIONS } from '../../functions/core/health/check-backend.js';
import { DEFAULT_HEALTH_SETTINGS } from '../../functions/core/health/health-settings.js';
import { createDynamoDbClient } from '../../functions/core/store/dynamodb-client.js';
import { readPoolHealth } from '../../functions/core/store/health-store.js';
import type { Table } from '../../functions/core/store/table.js';
import { createHealthCheckHandler } from '../../functions/health-check/handler.js';
import { createRegistryHandler } from '../../functions/registry/handler.js';
import { apiEvent } from '../integration/registry/api-client.js';
import { type ConnectSpy, spyOnConnects } from '../support/connect-spy.js';
import { startDnsServer, type TestDnsServer } from '../support/dns-server.js';
import { type FtpBackend, startFtpBackend } from '../support/ftp-backends.js';
import { startTestProxy, type TestProxy } from '../support/proxy.js';

const ADMIN = 'health-destinations-admin-token-0123456789';

/** What a tenant with an API token registers, hoping the control plane's health checks connect there. */
const HOSTILE = {
  metadata: 'ftp://169.254.169.254:21',
  linklocal: 'ftp://[fe80::1]:21',
  unspecified: 'ftp://0.0.0.0:21',
  byname: 'ftp://metadata.test:21',
  numeric: 'ftp://2852039166:21',
};
const HOSTILE_ADDRESSES = ['169.254.169.254', 'fe80::1', '0.0.0.0'];

/**
 * Issue 14, hole 6 (control-plane side): the active health checks connect to registered and
 * discovered backends, so they pass the same destination address policy as the edge's connects. A
 * tenant registers the cloud metadata address, a link-local and the unspecified address, a name the
 * (test, loopback) DNS server resolves to the metadata address and the metadata address as one
 * 32-bit number; the embedded control plane's health checks run on a 300 ms timer. The connect spy
 * (which also stops any non-loopback connect before the system call) proves that none of them is
 * ever connected to, nor written to the health store, while the operator's static backend and an
 * honest registered loopback backend, which the pool's allowDestinationNetworks allows, are checked
 * and healthy.
 */
describe('active health checks: registered and discovered destinations', () => {
  let served: FtpBackend;
  let honest: FtpBackend;
  let dns: TestDnsServer;
  let spy: ConnectSpy;
  let proxy: TestProxy;
  let table: Table;

  const registry = async (method: string, path: string, json?: unknown) =>
    (
      await createRegistryHandler({ table, bootstrapToken: ADMIN, log: () => {} })(
        apiEvent(method, path, { token: ADMIN, ...(json ? { json } : {}) }),
        { awsRequestId: 'test', functionName: 'registry' } as Context,
      )
    ).statusCode;

  const waitFor = async (what: string, done: () => boolean | Promise<boolean>, limitMs = 10_000) => {
    const started = Date.now();
    while (!(await done())) {
      if (Date.now() - started > limitMs) throw new Error(`${what}: not within ${limitMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  const hostileConnects = () =>
    spy.calls.filter((call) => HOSTILE_ADDRESSES.some((address) => call.includes(address)));

  beforeAll(async () => {
    spy = spyOnConnects();
    [served, honest, dns] = await Promise.all([
      startFtpBackend('proftpd', { name: 'health-static' }),
      startFtpBackend('proftpd', { name: 'health-honest' }),
      startDnsServer(),
    ]);
    dns.set('metadata.test', 'A', [{ ttl: 60, data: '169.254.169.254' }]);
    dns.set('_ftp._tcp.zone.test', 'SRV', [
      { ttl: 60, data: { priority: 10, weight: 10, port: 2121, target: 'metadata.test' } },
    ]);
    proxy = await startTestProxy({
      backends: [`ftp://127.0.0.1:${served.port}`, 'ftp+srv://_ftp._tcp.zone.test'],
      settings: {
        dns: { servers: [dns.address], timeout: '1s' },
        health: { active: { enabled: true, interval: '300ms', timeout: '1s' } },
      },
      poolSettings: { allowDestinationNetworks: ['127.0.0.0/8'] },
    });
    table = {
      client: createDynamoDbClient({ endpoint: proxy.worker.storeEndpoint as string, region: 'us-east-1' }),
      name: 'ftpx',
    };
    // What the tenant registers (every test below sees the same pool).
    expect(await registry('POST', '/v1/pools', { name: 'test' })).toBe(201);
    for (const [name, url] of Object.entries(HOSTILE)) {
      expect(await registry('PUT', `/v1/pools/test/backends/${name}`, { url }), name).toBe(201);
    }
    expect(
      await registry('PUT', '/v1/pools/test/backends/honest', { url: `ftp://127.0.0.1:${honest.port}` }),
    ).toBe(201);
  });

  afterAll(async () => {
    spy?.restore();
    await proxy?.close();
    table?.client.destroy();
    await Promise.all([served?.stop(), honest?.stop(), dns?.close()]);
  });

  it('the embedded control plane never connects to metadata, link-local or unspecified targets; the honest ones are checked and healthy', async () => {
    const refusedLines = () =>
      proxy.logs.filter((line) => line.msg === 'health check target refused by the destination policy');
    const passed = (port: number) =>
      proxy.logs.some(
        (line) => line.msg === 'health check passed' && line.backend === `ftp://127.0.0.1:${port}`,
      );
    await waitFor('the honest registered backend passes', () => passed(honest.port));
    await waitFor('the static backend passes', () => passed(served.port));
    const expected = [...Object.values(HOSTILE), 'ftp://169.254.169.254:2121'];
    await waitFor('every hostile target is refused', () =>
      expected.every((backend) => refusedLines().some((line) => line.backend === backend)),
    );
    // Let a few more runs (300 ms apart) go by: the refusal must hold on every run, not only the first.
    await new Promise((resolve) => setTimeout(resolve, 1000));

    const reasons = refusedLines().map((line) => `${line.backend} ${line.reason}`);
    expect(reasons).toContainEqual(
      expect.stringContaining('ftp://169.254.169.254:21 169.254.169.254 is a metadata address'),
    );
    expect(reasons).toContainEqual(
      expect.stringContaining('ftp://[fe80::1]:21 fe80::1 is a link-local address'),
    );
    expect(reasons).toContainEqual(
      expect.stringContaining('ftp://0.0.0.0:21 0.0.0.0 is an unspecified address'),
    );
    expect(reasons).toContainEqual(
      expect.stringContaining('ftp://metadata.test:21 169.254.169.254 is a metadata address'),
    );
    expect(reasons).toContainEqual(
      expect.stringContaining('ftp://2852039166:21 169.254.169.254 is a metadata address'),
    );
    // The SRV target the operator's +srv entry discovered is judged too (it resolves to the same address).
    expect(reasons).toContainEqual(
      expect.stringContaining('ftp://169.254.169.254:2121 169.254.169.254 is a metadata address'),
    );
    // Logged once per target while the verdict stays, never with more than key, pool and reason.
    for (const line of refusedLines()) expect(Object.keys(line)).not.toContain('url');
    expect(refusedLines().filter((line) => line.backend === HOSTILE.metadata)).toHaveLength(1);

    // No connect was even attempted (the spy would have stopped it, but it saw none).
    expect(hostileConnects()).toEqual([]);
    expect(spy.blocked).toEqual([]);
    expect(spy.calls).toContain(`127.0.0.1:${honest.port}`);

    // The store has health for the honest backends only: nothing was recorded for a refused target.
    const health = await readPoolHealth(table, 'test', Date.now());
    const byBackend = new Map(health.map((record) => [record.backend, record]));
    expect(byBackend.get(`ftp://127.0.0.1:${honest.port}`)?.check).toMatchObject({
      ok: true,
      reason: '220 banner',
    });
    expect(byBackend.get(`ftp://127.0.0.1:${served.port}`)?.check).toMatchObject({ ok: true });
    for (const backend of expected) expect(byBackend.has(backend), backend).toBe(false);
  });

  it('the health-check function (Lambda) refuses them too, and a loopback target unless told the pool allows it', async () => {
    const calls = spy.calls.length;
    const handlerWith = (allowDestinationNetworks?: string[]) =>
      createHealthCheckHandler({
        discovery: createDiscoveryContext(table, { servers: [{ host: dns.host, port: dns.port }] }),
        options: {
          ...DEFAULT_ACTIVE_CHECK_OPTIONS,
          timeoutMs: 1000,
          ...(allowDestinationNetworks ? { allowDestinationNetworks } : {}),
        },
        health: DEFAULT_HEALTH_SETTINGS,
      });
    const context = lambdaContext('health-check', 'test', Date.now() + 10_000);
    const honestKey = `ftp://127.0.0.1:${honest.port}`;

    // Scheduled, as EventBridge runs it: nothing says what the pool allows, so loopback is refused too.
    const strict = await handlerWith()({} as never, context);
    const strictRefused = (strict.refused ?? []).map((entry) => entry.backend);
    for (const backend of [...Object.values(HOSTILE), honestKey]) expect(strictRefused).toContain(backend);
    expect(strict.checked.map((entry) => entry.backend)).not.toContain(honestKey);

    // FTPX_HEALTH_CHECK_ALLOW_NETWORKS (here the option it sets) or the edge's listed allow list opens loopback only.
    const allowing = await handlerWith(['127.0.0.0/8'])({} as never, context);
    expect(allowing.checked).toContainEqual(expect.objectContaining({ backend: honestKey, ok: true }));
    const listed = await handlerWith()(
      {
        pools: ['test'],
        listed: [{ pool: 'test', backends: [], allowDestinationNetworks: ['127.0.0.0/8'] }],
      } as never,
      context,
    );
    expect(listed.checked).toContainEqual(expect.objectContaining({ backend: honestKey, ok: true }));
    for (const result of [allowing, listed]) {
      const refused = (result.refused ?? []).map((entry) => entry.backend).sort();
      expect(refused).toEqual(Object.values(HOSTILE).sort());
    }

    expect(
      spy.calls.slice(calls).filter((call) => HOSTILE_ADDRESSES.some((address) => call.includes(address))),
    ).toEqual([]);
    expect(spy.blocked).toEqual([]);
  });

  it("the health-check account's password goes to operator-listed backends only, never to a registered one", async () => {
    // A tenant's own server (on loopback here, which the pool allows): it answers like an FTP
    // server and keeps every byte the health check sends it.
    const received: Buffer[] = [];
    const trap = createServer((socket) => {
      socket.on('error', () => {});
      socket.write('220 tenant server\r\n');
      socket.on('data', (chunk: Buffer) => {
        received.push(chunk);
        const line = chunk.toString('latin1');
        if (line.startsWith('USER')) socket.write('331 password please\r\n');
        else if (line.startsWith('PASS')) socket.write('230 thanks\r\n');
        else if (line.startsWith('NOOP')) socket.write('200 ok\r\n');
        else if (line.startsWith('QUIT')) socket.end('221 bye\r\n');
      });
    });
    await new Promise<void>((resolve) => trap.listen(0, '127.0.0.1', resolve));
    try {
      const trapPort = (trap.address() as AddressInfo).port;
      expect(
        await registry('PUT', '/v1/pools/test/backends/trap', { url: `ftp://127.0.0.1:${trapPort}` }),
      ).toBe(201);
      const handler = createHealthCheckHandler({
        discovery: createDiscoveryContext(table, { servers: [{ host: dns.host, port: dns.port }] }),
        options: {
          ...DEFAULT_ACTIVE_CHECK_OPTIONS,
          timeoutMs: 1000,
          check: 'login',
          user: served.user,
          password: served.password,
          allowDestinationNetworks: ['127.0.0.0/8'],
        },
        health: DEFAULT_HEALTH_SETTINGS,
      });
      const result = await handler(
        {
          pools: ['test'],
          listed: [{ pool: 'test', backends: [`ftp://127.0.0.1:${served.port}`] }],
        } as never,
        lambdaContext('health-check', 'test', Date.now() + 10_000),
      );
      // The operator's backend: a real login with the health-check account.
      expect(result.checked).toContainEqual(
        expect.objectContaining({
          backend: `ftp://127.0.0.1:${served.port}`,
          ok: true,
          reason: '220 banner, login',
        }),
      );
      // The tenant's: NOOP only; neither the user name nor the password reached it.
      expect(result.checked).toContainEqual(
        expect.objectContaining({
          backend: `ftp://127.0.0.1:${trapPort}`,
          ok: true,
          reason: '220 banner, noop',
        }),
      );
      const bytes = Buffer.concat(received).toString('latin1');
      expect(bytes).toContain('NOOP');
      expect(bytes).not.toContain('USER');
      expect(bytes).not.toContain(served.password);
    } finally {
      await new Promise((resolve) => trap.close(resolve));
    }
  });
});
