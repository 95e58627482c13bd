import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoDbClient } from '../../functions/core/store/dynamodb-client.js';
import type { Table } from '../../functions/core/store/table.js';
import { createRegistryHandler } from '../../functions/registry/handler.js';
import { apiEvent } from '../integration/registry/api-client.js';
import { sha512Crypt } from '../support/password-hash.js';
import { startTestProxy, type TestProxy } from '../support/proxy.js';
import { sftpBatch } from '../support/ssh-clients.js';
import { makeKeyPair, type Sshd, startSshd } from '../support/sshd.js';

const ADMIN = 'url-credentials-sftp-admin-token-0123456789';

/**
 * Hole 3 of issue 14 for SFTP: `sftp://user:password@host` sends that password to the backend for
 * any client's password login. Refused without proxy authentication (config and at selection); with
 * it, only a proxy user who passes is logged in with the URL's credentials. Real sshd, real sftp.
 */
describe('SFTP URL credentials need proxy authentication', () => {
  let sshd: Sshd;
  let dir: string;
  let hostKey: string;
  const proxies: TestProxy[] = [];
  const tables: Table[] = [];

  beforeAll(async () => {
    sshd = await startSshd();
    dir = await mkdtemp(join(tmpdir(), 'ftpx-url-creds-sftp-'));
    hostKey = join(dir, 'host');
    await makeKeyPair(hostKey, 'ed25519');
    await writeFile(
      join(dir, 'ftpd.passwd'),
      `alice:${await sha512Crypt('alice-pw')}:5001:6001::/home/alice:/bin/sh\n`,
    );
  });

  afterAll(async () => {
    await Promise.all(proxies.map((proxy) => proxy.close()));
    for (const table of tables) table.client.destroy();
    await sshd?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const withLogin = () => `sftp://${sshd.user.name}:${sshd.user.password}@127.0.0.1:${sshd.port}`;
  const proxyWith = async (backends: string[], poolSettings: Record<string, unknown> = {}) => {
    const proxy = await startTestProxy({
      backends,
      listener: { protocol: 'sftp', sftp: { hostKeys: [hostKey] } },
      poolSettings,
    });
    proxies.push(proxy);
    return proxy;
  };
  const login = (proxy: TestProxy, user: string, password: string) =>
    sftpBatch({ host: proxy.host, port: proxy.port, user }, { password }, ['pwd']);
  const connected = (proxy: TestProxy) => proxy.logs.filter((line) => line.msg === 'connected to backend');

  it('a pool without proxyAuth cannot list sftp://user:password@', async () => {
    const refused = await proxyWith([withLogin()]).catch((err: unknown) => err);
    expect(String(refused)).toContain('a password in a backend URL needs proxy authentication');
    expect(String(refused)).not.toContain(sshd.user.password);
  });

  it('at selection, a registered sftp:// URL password in a pool without proxyAuth is refused', async () => {
    const proxy = await proxyWith([sshd.url], { retryCount: 2 });
    const table: Table = {
      client: createDynamoDbClient({ endpoint: proxy.worker.storeEndpoint as string, region: 'us-east-1' }),
      name: 'ftpx',
    };
    tables.push(table);
    const handler = createRegistryHandler({ table, bootstrapToken: ADMIN, log: () => {} });
    const context = { awsRequestId: 'test', functionName: 'registry' } as Context;
    const api = async (method: string, path: string, json: unknown) =>
      (await handler(apiEvent(method, path, { token: ADMIN, json }), context)).statusCode;
    // The registry's flag says proxyAuth; the worker's own config does not, and decides.
    expect(await api('POST', '/v1/pools', { name: 'test', proxyAuth: true })).toBe(201);
    // The same server under another name (localhost), so that it is a second backend.
    const registered = `sftp://${sshd.user.name}:${sshd.user.password}@localhost:${sshd.port}`;
    expect(await api('PUT', '/v1/pools/test/backends/shared', { url: registered })).toBe(201);
    for (let i = 0; i < 3; i++) {
      const attack = await login(proxy, 'mallory', 'any-password');
      expect(attack.code).not.toBe(0);
    }
    expect(
      proxy.logs.some(
        (line) =>
          line.msg === 'backend connect failed' &&
          line.backend === `sftp://localhost:${sshd.port}` &&
          String(line.reason).startsWith('a password in a backend URL needs proxy authentication'),
      ),
    ).toBe(true);
    expect(connected(proxy).every((line) => line.backend === sshd.url)).toBe(true);
    expect(proxy.logText()).not.toContain(sshd.user.password);
    // The honest client, with the backend account's own password.
    const honest = await login(proxy, sshd.user.name, sshd.user.password);
    expect(honest.stderr).toBe('');
    expect(honest.code).toBe(0);
  });

  it("with proxyAuth, only a proxy user who passes is logged in with the URL's credentials", async () => {
    const proxy = await proxyWith([withLogin()], {
      proxyAuth: true,
      authUserFile: join(dir, 'ftpd.passwd'),
    });
    for (const [user, password] of [
      ['alice', 'wrong'],
      ['mallory', 'anything'],
      // The backend's own account is not a proxy user: its real password does not pass the proxy.
      [sshd.user.name, sshd.user.password],
    ] as const) {
      const attack = await login(proxy, user, password);
      expect(attack.code, user).not.toBe(0);
    }
    expect(connected(proxy)).toHaveLength(0);
    const ok = await login(proxy, 'alice', 'alice-pw');
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    // Logged in to the backend as the URL's user.
    expect(ok.stdout).toContain(`Remote working directory: ${sshd.user.home}`);
    expect(connected(proxy)).toHaveLength(1);
    expect(proxy.logText()).not.toContain(sshd.user.password);
    expect(proxy.logText()).not.toContain('alice-pw');
  });
});
