import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoDbClient } from '../../../functions/core/store/dynamodb-client.js';
import type { Table } from '../../../functions/core/store/table.js';
import { createRegistryHandler } from '../../../functions/registry/handler.js';
import { type FtpBackend, startFtpBackend, writeHomeFile } from '../../support/ftp-backends.js';
import { curl } from '../../support/ftp-clients.js';
import { freePort } from '../../support/ports.js';
import { startTestProxy, type TestProxy } from '../../support/proxy.js';
import { apiEvent } from '../registry/api-client.js';

const ADMIN = 'health-admin-token-0123456789abcdef';

/**
 * Backend health through real sessions: real ProFTPD backends stopped and restarted on their port
 * while curl logs in through the edge worker (embedded control plane: session events, the
 * health-check function on a timer, resolve-backend skipping unhealthy backends).
 */
describe('backend health', () => {
  const backends = new Map<string, FtpBackend>();
  const proxies: TestProxy[] = [];
  const tables: Table[] = [];

  const start = async (name: string, port?: number) => {
    const backend = await startFtpBackend('proftpd', { name, ...(port ? { port } : {}) });
    await writeHomeFile(backend, 'whoami.txt', backend.name);
    backends.set(name, backend);
    return backend;
  };
  const restart = async (backend: FtpBackend) => start(backend.name, backend.port);
  // The user name only (a URL password needs proxy authentication): clients send the shared password.
  const login = (backend: FtpBackend) => `ftp://${backend.user}@127.0.0.1:${backend.port}`;
  const keyOf = (backend: FtpBackend) => `ftp://127.0.0.1:${backend.port}`;

  const proxyWith = async (
    list: string[],
    poolSettings: Record<string, unknown>,
    health: Record<string, unknown>,
  ) => {
    const proxy = await startTestProxy({ backends: list, poolSettings, settings: { health } });
    proxies.push(proxy);
    return proxy;
  };
  /** Every ProFTPD test backend has the same login. */
  const sharedPassword = () => [...backends.values()][0]?.password ?? '';
  const whoServes = async (proxy: TestProxy, user = 'anyone') => {
    const result = await curl([`ftp://${user}:${sharedPassword()}@127.0.0.1:${proxy.port}/whoami.txt`]);
    return result.code === 0 ? result.stdout.toString('utf8') : `curl exit ${result.code}`;
  };
  const failuresOf = (proxy: TestProxy, backend: FtpBackend) =>
    proxy.logs.filter((line) => line.msg === 'backend connect failed' && line.backend === keyOf(backend))
      .length;
  /** Polls the proxy's log until `match` finds a line; resolves with the ms waited. */
  const waitForLog = async (
    proxy: TestProxy,
    match: (line: Record<string, unknown>) => boolean,
    limitMs: number,
  ) => {
    const started = Date.now();
    while (Date.now() - started < limitMs) {
      if (proxy.logs.some(match)) return Date.now() - started;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`no matching log line within ${limitMs} ms`);
  };
  const registryOf = (proxy: TestProxy) => {
    const table: Table = {
      client: createDynamoDbClient({ endpoint: proxy.worker.storeEndpoint as string, region: 'us-east-1' }),
      name: 'ftpx',
    };
    tables.push(table);
    const handler = createRegistryHandler({ table, bootstrapToken: ADMIN, log: () => {} });
    return async (method: string, path: string, json?: unknown) => {
      const reply = await handler(apiEvent(method, path, { token: ADMIN, ...(json ? { json } : {}) }), {
        awsRequestId: 'test',
        functionName: 'registry',
      } as Context);
      return { status: reply.statusCode, body: JSON.parse(reply.body ?? 'null') as Record<string, unknown> };
    };
  };

  beforeAll(async () => {
    await Promise.all(['hp-a', 'hp-b', 'ha-a', 'ha-b'].map((name) => start(name)));
  });

  afterAll(async () => {
    await Promise.all(proxies.map((proxy) => proxy.close()));
    for (const table of tables) table.client.destroy();
    await Promise.all([...backends.values()].map((backend) => backend.stop()));
  });

  it('passive: 2 failed connects mark a stopped backend unhealthy; after the cool-down a restarted one serves again', async () => {
    const a = backends.get('hp-a') as FtpBackend;
    const b = backends.get('hp-b') as FtpBackend;
    const proxy = await proxyWith(
      [login(a), login(b)],
      { retryCount: 2 },
      { passive: { failures: 2, window: '30s', cooldown: '4s' } },
    );
    expect(new Set([await whoServes(proxy), await whoServes(proxy)])).toEqual(new Set([a.name, b.name]));
    await a.stop();
    const stopped = Date.now();
    // Every session is served (the retry moves on to b); a is tried until its second failure.
    let sessions = 0;
    while (failuresOf(proxy, a) < 2) {
      expect(await whoServes(proxy)).toBe(b.name);
      sessions += 1;
      expect(sessions).toBeLessThan(10);
    }
    const detectionMs = Date.now() - stopped;
    expect(detectionMs).toBeLessThan(4000);
    // Failure reports are sent in the background: wait until the store has the mark.
    const registry = registryOf(proxy);
    const healthOfA = async () => {
      const health = await registry('GET', '/v1/pools/test/health');
      expect(health.status).toBe(200);
      return (health.body.backends as Record<string, unknown>[]).find((entry) => entry.backend === keyOf(a));
    };
    let marked = await healthOfA();
    while (marked?.state !== 'unhealthy' && Date.now() - stopped < 5000) marked = await healthOfA();
    expect(marked).toMatchObject({ state: 'unhealthy', failures: 2 });
    const until = Date.parse(marked?.unhealthyUntil as string);
    const failures = failuresOf(proxy, a);
    for (let i = 0; i < 4 && Date.now() < until - 1000; i++) expect(await whoServes(proxy)).toBe(b.name);
    expect(failuresOf(proxy, a)).toBe(failures);
    const restarted = await restart(a);
    // After the cool-down it is on probation: the next session that picks it connects and clears it.
    let served = '';
    while (served !== restarted.name && Date.now() < until + 8000) served = await whoServes(proxy);
    expect(served).toBe(restarted.name);
    expect(Date.now()).toBeGreaterThanOrEqual(until);
    expect(await healthOfA()).toMatchObject({ state: 'healthy' });
  });

  it('active: a stopped backend is skipped within interval + timeout and used again after its restart', async () => {
    const a = backends.get('ha-a') as FtpBackend;
    const b = backends.get('ha-b') as FtpBackend;
    const proxy = await proxyWith(
      [login(a), login(b)],
      { retryCount: 2 },
      { passive: { enabled: false }, active: { enabled: true, interval: '500ms', timeout: '1s' } },
    );
    await waitForLog(proxy, (line) => line.msg === 'health check passed' && line.backend === keyOf(a), 5000);
    await a.stop();
    const detectionMs = await waitForLog(
      proxy,
      (line) => line.msg === 'health check failed' && line.backend === keyOf(a),
      5000,
    );
    // One interval until the next run, the check itself (a refused connect is immediate).
    expect(detectionMs).toBeLessThan(500 + 1000 + 500);
    const before = failuresOf(proxy, a);
    for (let i = 0; i < 4; i++) expect(await whoServes(proxy)).toBe(b.name);
    expect(failuresOf(proxy, a)).toBe(before);
    const restarted = await restart(a);
    const passes = () =>
      proxy.logs.filter((line) => line.msg === 'health check passed' && line.backend === keyOf(a)).length;
    const started = Date.now();
    while (passes() < 2 && Date.now() - started < 5000)
      await new Promise((resolve) => setTimeout(resolve, 25));
    // Logged on each change of verdict: passed, failed, passed again.
    expect(passes()).toBe(2);
    const served = new Set<string>();
    for (let i = 0; i < 4; i++) served.add(await whoServes(proxy));
    expect(served).toEqual(new Set([restarted.name, b.name]));
  });

  it('PerUser re-picks when the mapped backend is unhealthy (mod_proxy #260), instead of retrying it', async () => {
    const a = backends.get('ha-a') as FtpBackend;
    const b = backends.get('ha-b') as FtpBackend;
    const proxy = await proxyWith(
      [login(a), login(b)],
      { connectPolicy: 'PerUser', retryCount: 1 },
      { passive: { enabled: false }, active: { enabled: true, interval: '500ms', timeout: '1s' } },
    );
    const home = await whoServes(proxy, 'alice');
    expect(await whoServes(proxy, 'alice')).toBe(home);
    const mapped = home === a.name ? a : b;
    const other = mapped === a ? b : a;
    await mapped.stop();
    await waitForLog(
      proxy,
      (line) => line.msg === 'health check failed' && line.backend === keyOf(mapped),
      5000,
    );
    // retryCount 1: without the health check alice's only attempt would go to the dead backend.
    for (let i = 0; i < 2; i++) expect(await whoServes(proxy, 'alice')).toBe(other.name);
    expect(failuresOf(proxy, mapped)).toBe(0);
    backends.set(mapped.name, await restart(mapped));
  });

  it('whenAllUnhealthy: "fail" refuses at once; "try" (the default) still tries', async () => {
    const closed = await freePort('127.0.0.1');
    const dead = `ftp://u@127.0.0.1:${closed}`;
    const failFast = await proxyWith([dead], {}, { passive: { failures: 1 }, whenAllUnhealthy: 'fail' });
    expect(await whoServes(failFast)).toMatch(/^curl exit/);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await whoServes(failFast)).toMatch(/^curl exit/);
    expect(failFast.logs.filter((line) => line.msg === 'backend connect failed')).toHaveLength(1);
    const tryAnyway = await proxyWith([dead], {}, { passive: { failures: 1 } });
    expect(await whoServes(tryAnyway)).toMatch(/^curl exit/);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await whoServes(tryAnyway)).toMatch(/^curl exit/);
    expect(tryAnyway.logs.filter((line) => line.msg === 'backend connect failed')).toHaveLength(2);
    expect(failFast.logText()).not.toContain('"p@');
  });
});
