import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommandGroup } from '../../../edge-worker/cli/admin/command.js';
import { tlsCacheCommands } from '../../../edge-worker/cli/admin/tls-cache.js';
import { silentLogger } from '../../../edge-worker/log/logger.js';
import { createDynamoDbClient } from '../../../functions/core/store/dynamodb-client.js';
import { ensureTable, type Table } from '../../../functions/core/store/table.js';
import { readStats } from '../../../functions/core/store/tls-cache/cache-stats.js';
import { type ControlPlaneHost, startControlPlaneHost } from '../../../functions/http-host/host.js';
import { createRegistryHandler } from '../../../functions/registry/handler.js';
import { type FtpBackend, startFtpBackend } from '../../support/ftp-backends.js';
import { startTestProxy, type TestProxy } from '../../support/proxy.js';
import { pythonFtp } from '../../support/python-ftp.js';
import { createTestCa, type TestCa } from '../../support/test-ca.js';
import { dynaliteStore, type StoreServer } from '../../support/test-stores.js';
import { bufferIo } from '../../unit/edge-worker/cli/fake-api.js';

const BOOTSTRAP = 'backend-session-cache-bootstrap-0123456789';

/**
 * `ftpx cache ... --backends`: the TLS sessions ftpx keeps as the client of its backends (mod_proxy's
 * backend session cache), listed, cleared by backend and removed through the registry API, with an
 * edge worker and a ProFTPD mod_tls backend sharing one store. Whether a login resumed the backend
 * session is read from the worker's `backend TLS handshake` line (ProxyTLSOptions EnableDiags).
 */
describe('ftpx cache --backends (backend TLS session cache)', () => {
  let ca: TestCa;
  let backend: FtpBackend;
  let other: FtpBackend;
  let store: StoreServer;
  let table: Table;
  let host: ControlPlaneHost;
  let proxy: TestProxy;

  beforeAll(async () => {
    ca = await createTestCa();
    const tls = { cert: ca.server.cert, key: ca.server.key };
    [backend, other, store] = await Promise.all([
      startFtpBackend('proftpd', { name: 'cached-backend', tls }),
      startFtpBackend('proftpd', { name: 'other-backend', tls }),
      dynaliteStore.start(),
    ]);
    table = { client: createDynamoDbClient({ endpoint: store.endpoint, region: 'us-east-1' }), name: 'ftpx' };
    await ensureTable(table);
    host = await startControlPlaneHost({
      listen: { host: '127.0.0.1', port: 0 },
      table,
      registry: createRegistryHandler({ table, bootstrapToken: BOOTSTRAP, log: () => {} }),
      log: silentLogger,
    });
    proxy = await startTestProxy({
      backends: [backend.url],
      storeEndpoint: store.endpoint,
      // TLS 1.2: ProFTPD's forked sessions resume it by ticket (TLS 1.3 tickets come after the login).
      poolSettings: { tls: { caFile: ca.caCert, enableDiags: true, protocols: 'TLSv1.2' } },
      extraPools: [{ name: 'other', backends: [other.url], tls: { caFile: ca.caCert } }],
      // The worker checks its own copy against the store after this long (a clear reaches it).
      settings: { tlsCache: { sessions: { local: { ttl: '200ms' } } } },
    });
  });

  afterAll(async () => {
    await proxy?.close();
    await host?.close();
    table?.client.destroy();
    await store?.close();
    await Promise.all([backend?.stop(), other?.stop()]);
    await ca?.remove();
  });

  async function cache(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const { io, stdout, stderr } = bufferIo({ FTPX_API_URL: host.url, FTPX_API_TOKEN: BOOTSTRAP });
    const code = await runCommandGroup(tlsCacheCommands, args, io);
    return { code, stdout: stdout(), stderr: stderr() };
  }

  /** Logs in through ftpx; whether the backend handshake of that login resumed a cached session. */
  async function loginResumed(): Promise<boolean> {
    const before = handshakes().length;
    const run = await pythonFtp([{ op: 'login' }, { op: 'pwd' }], {
      host: proxy.host,
      port: proxy.port,
      user: backend.user,
      password: backend.password,
    });
    expect(run.result.results[1]?.reply).toMatch(/^257 /);
    const made = handshakes().slice(before);
    expect(made).toHaveLength(1);
    return made[0]?.reused === true;
  }

  const handshakes = () => proxy.logs.filter((line) => line.msg === 'backend TLS handshake');

  async function until<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const value = await read();
      if (done(value) || attempt >= 100) return value;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  it('lists a cached session, removes it by backend, and the next login makes a full handshake', async () => {
    expect(await loginResumed()).toBe(false);
    await until(
      () => readStats(table, 'backend-sessions'),
      (record) => record.entries >= 1,
    );
    const info = await cache(['info', '--backends', '-v']);
    expect(info.code).toBe(0);
    expect(info.stdout).toContain('backend TLS session cache provided by ftpx');
    expect(info.stdout).toMatch(/Current session cache size: 1 \(\d+ bytes\)/);
    expect(info.stdout).toContain('-----BEGIN BACKEND SSL SESSION PARAMETERS-----');
    const key = /^ {2}Backend: (\S+)$/m.exec(info.stdout)?.[1];
    expect(key).toMatch(/^ftps:\/\/127\.0\.0\.1:\d+$/);
    expect(info.stdout).toMatch(/^ {2}Trust context: [0-9a-f]{16}$/m);
    // The session's secret data is never listed.
    expect(info.stdout).not.toMatch(/[A-Za-z0-9+/]{60,}/);

    expect(await loginResumed()).toBe(true);

    // Another backend's name removes nothing.
    const none = await cache(['clear', '--backends', '--backend', `ftps://127.0.0.1:${other.port}`]);
    expect(none).toMatchObject({
      code: 0,
      stdout: `cache: cleared 0 session(s) of ftps://127.0.0.1:${other.port} from the backend session cache\n`,
    });
    const cleared = await cache(['clear', '--backends', '--backend', key as string]);
    expect(cleared).toMatchObject({
      code: 0,
      stdout: `cache: cleared 1 session(s) of ${key} from the backend session cache\n`,
    });
    const misses = (await readStats(table, 'backend-sessions')).stats.misses;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await loginResumed()).toBe(false);
    const after = await readStats(table, 'backend-sessions');
    expect(after.stats.misses).toBeGreaterThan(misses);
    expect(after.stats.deleted).toBeGreaterThanOrEqual(1);
  });

  it('refuses --backend without --backends, and --ocsp with --backends; remove resets the statistics', async () => {
    const wrong = await cache(['clear', '--backend', 'ftps://127.0.0.1:21']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('--backend needs --backends');
    const both = await cache(['info', '--ocsp', '--backends']);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('--ocsp and --backends name different caches');
    // The API refuses a backend filter on a frontend cache too.
    const api = await fetch(`${host.url}/v1/tls-cache/sessions/clear?backend=ftps://127.0.0.1:21`, {
      method: 'POST',
      headers: { authorization: `Bearer ${BOOTSTRAP}` },
    });
    expect(api.status).toBe(400);
    const removed = await cache(['remove', '--backends', '--json']);
    expect(removed.code).toBe(0);
    expect(JSON.parse(removed.stdout)).toMatchObject({ kind: 'backend-sessions', removed: true });
    expect((await cache(['info', '--backends'])).stdout).toContain('Cache lifetime sessions stored: 0\n');
  });
});
