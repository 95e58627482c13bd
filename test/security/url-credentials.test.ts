import { execFileSync, spawnSync } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoDbClient } from '../../functions/core/store/dynamodb-client.js';
import type { Table } from '../../functions/core/store/table.js';
import { createRegistryHandler } from '../../functions/registry/handler.js';
import { apiEvent } from '../integration/registry/api-client.js';
import { type FtpBackend, startFtpBackend, writeHomeFile } from '../support/ftp-backends.js';
import { curl } from '../support/ftp-clients.js';
import { startTestProxy, type TestProxy } from '../support/proxy.js';
import { cliPath } from '../support/proxy-process.js';
import { pythonFtp } from '../support/python-ftp.js';
import { RawFtp } from '../support/raw-ftp.js';

const ADMIN = 'url-credentials-admin-token-0123456789abcdef';
const crypt = (password: string) =>
  execFileSync('openssl', ['passwd', '-6', password], { encoding: 'utf8' }).trim();

/**
 * Hole 3 of issue 14: a backend URL with `user:password@` logs every client in as that user, whatever
 * password it typed, unless the proxy checks clients itself (proxyAuth, ProxyOptions
 * UseReverseProxyAuth). Such URLs are refused at config load, by the registry API and at selection;
 * with proxy authentication only a proxy user who passes gets the backend's credentials.
 */
describe('URL credentials need proxy authentication', () => {
  let proftpd: FtpBackend;
  let vsftpd: FtpBackend;
  let dir: string;
  const proxies: TestProxy[] = [];
  const tables: Table[] = [];

  beforeAll(async () => {
    [proftpd, vsftpd] = await Promise.all([
      startFtpBackend('proftpd', { name: 'creds-proftpd' }),
      startFtpBackend('vsftpd', { name: 'creds-vsftpd' }),
    ]);
    for (const backend of [proftpd, vsftpd]) await writeHomeFile(backend, 'whoami.txt', backend.name);
    dir = await mkdtemp(join(tmpdir(), 'ftpx-url-creds-'));
    await chmod(dir, 0o755);
    await writeFile(join(dir, 'ftpd.passwd'), `alice:${crypt('alice-pw')}:1001:100::/home/alice:/bin/sh\n`);
  });

  afterAll(async () => {
    await Promise.all(proxies.map((proxy) => proxy.close()));
    for (const table of tables) table.client.destroy();
    await Promise.all([proftpd?.stop(), vsftpd?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const withLogin = (backend: FtpBackend) =>
    `ftp://${backend.user}:${backend.password}@127.0.0.1:${backend.port}`;
  const checkConfig = (...args: string[]) =>
    spawnSync(process.execPath, [cliPath(), 'check-config', ...args], { encoding: 'utf8', timeout: 30_000 });
  const connectedLines = (proxy: TestProxy) =>
    proxy.logs.filter((line) => line.msg === 'connected to backend');

  it('check-config refuses a YAML pool with a URL password and no proxyAuth, at its line (exit 2)', async () => {
    const file = join(dir, 'shared.yaml');
    const yaml = (poolExtra: string[]) =>
      [
        'listeners:',
        '  - address: 127.0.0.1',
        '    port: 2121',
        '    pool: main',
        'pools:',
        '  - name: main',
        ...poolExtra,
        '    backends:',
        '      - ftp://127.0.0.1:21',
        '      - ftp://svc:hunter2secret@127.0.0.1:2121',
        '      - sftp://svc:hunter2secret@127.0.0.1:22',
        '',
      ].join('\n');
    await writeFile(file, yaml([]));
    const refused = checkConfig(file);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain(
      `${file}:9: pools[0].backends[1]: a password in a backend URL needs proxy authentication (proxyAuth: true, ProxyOptions UseReverseProxyAuth)`,
    );
    expect(refused.stderr).toContain(`${file}:10: pools[0].backends[2]: a password in a backend URL`);
    expect(refused.stderr).not.toContain('hunter2secret');
    // A user without a password keeps the client's password: allowed.
    await writeFile(
      file,
      yaml([])
        .replaceAll('svc:hunter2secret@', 'svc@')
        .replace(/ {6}- sftp.*\n/, ''),
    );
    expect(checkConfig(file)).toMatchObject({ status: 0 });
    // With proxy authentication the same URLs are accepted.
    await writeFile(
      file,
      yaml(['    proxyAuth: true', `    authUserFile: ${join(dir, 'ftpd.passwd')}`]).replace(
        / {6}- sftp.*\n/,
        '',
      ),
    );
    const accepted = checkConfig(file);
    expect(accepted.stderr).toBe('');
    expect(accepted.status).toBe(0);
  });

  it('check-config refuses ProxyReverseServers with a URL password without UseReverseProxyAuth', async () => {
    const file = join(dir, 'proftpd.conf');
    const conf = (options: string[]) =>
      [
        'Port 2121',
        'DefaultAddress 127.0.0.1',
        'ServerName "Gateway"',
        'ProxyEngine on',
        `ProxyTables ${join(dir, 'tables')}`,
        'ProxyTLSEngine off',
        'ProxyRole reverse',
        ...options,
        'ProxyReverseServers ftp://127.0.0.1:21 ftp://svc:hunter2secret@127.0.0.1:2121',
        '',
      ].join('\n');
    await writeFile(file, conf([]));
    const refused = checkConfig('--proftpd-conf', file);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(
      new RegExp(
        `${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:8: ProxyReverseServers: a password in a backend URL needs proxy authentication`,
      ),
    );
    expect(refused.stderr).not.toContain('hunter2secret');
    await writeFile(
      file,
      conf(['ProxyOptions UseReverseProxyAuth', `AuthUserFile ${join(dir, 'ftpd.passwd')}`]),
    );
    const accepted = checkConfig('--proftpd-conf', file);
    expect(accepted.status, accepted.stderr).toBe(0);
  });

  it('check-config refuses a static file: list holding a URL password, naming the file and line', async () => {
    const list = join(dir, 'backends.json');
    await writeFile(list, '[\n  "ftp://127.0.0.1:21",\n  "ftp://svc:hunter2secret@127.0.0.1:2121"\n]\n');
    await chmod(list, 0o644);
    const file = join(dir, 'with-file.yaml');
    await writeFile(
      file,
      [
        'listeners:',
        '  - { address: 127.0.0.1, port: 2121, pool: main }',
        'pools:',
        '  - name: main',
        `    backends: ["file:${list}"]`,
        '',
      ].join('\n'),
    );
    const refused = checkConfig(file);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain(
      `${list}:3: item 1 (counting from 0): backend list of pool "main" refused`,
    );
    expect(refused.stderr).not.toContain('hunter2secret');
  });

  /** The registry API over the proxy's own table (the embedded store it started). */
  const registryOf = (proxy: TestProxy) => {
    const table: Table = {
      client: createDynamoDbClient({ endpoint: proxy.worker.storeEndpoint as string, region: 'us-east-1' }),
      name: 'ftpx',
    };
    tables.push(table);
    const handler = createRegistryHandler({ table, bootstrapToken: ADMIN, log: () => {} });
    const context = { awsRequestId: 'test', functionName: 'registry' } as Context;
    return async (method: string, path: string, json?: unknown) => {
      const reply = await handler(
        apiEvent(method, path, { token: ADMIN, ...(json ? { json } : {}) }),
        context,
      );
      return { status: reply.statusCode, body: JSON.parse(reply.body ?? 'null') as Record<string, never> };
    };
  };

  it('the registry refuses a backend or mapping with a URL password unless the pool has proxyAuth', async () => {
    const proxy = await startTestProxy({ backends: [proftpd.url] });
    proxies.push(proxy);
    const registry = registryOf(proxy);
    expect((await registry('POST', '/v1/pools', { name: 'test' })).status).toBe(201);
    const refusedUrl = `ftp://svc:hunter2secret@127.0.0.1:${vsftpd.port}`;
    for (const [method, path, body, field] of [
      ['POST', '/v1/pools/test/backends', { url: refusedUrl }, 'body.url'],
      ['PUT', '/v1/pools/test/backends/b1', { url: refusedUrl }, 'body.url'],
      [
        'PUT',
        '/v1/pools/test/users/alice/backends',
        { backends: ['ftp://h1', refusedUrl] },
        'body.backends.1',
      ],
    ] as const) {
      const reply = await registry(method, path, body);
      expect(reply.status, `${method} ${path}`).toBe(400);
      expect(reply.body).toMatchObject({
        error: {
          code: 'url_credentials_need_proxy_auth',
          message: expect.stringContaining('pool "test" does not authenticate clients (proxyAuth)'),
          issues: [{ path: field, message: 'a password in a backend URL needs a pool with proxyAuth' }],
        },
      });
      expect(JSON.stringify(reply.body)).not.toContain('hunter2secret');
    }
    // PATCH to a URL with a password is refused too; without a password all is well.
    expect(
      (await registry('PUT', '/v1/pools/test/backends/b2', { url: `ftp://127.0.0.1:${vsftpd.port}` })).status,
    ).toBe(201);
    expect((await registry('PATCH', '/v1/pools/test/backends/b2', { url: refusedUrl })).status).toBe(400);
    expect(
      (await registry('PUT', '/v1/pools/test/backends/b3', { url: `ftp://svc@127.0.0.1:1` })).status,
    ).toBe(201);
    // Once the pool is marked proxyAuth, the registry takes them.
    expect((await registry('PATCH', '/v1/pools/test', { proxyAuth: true })).body).toMatchObject({
      proxyAuth: true,
    });
    expect((await registry('PUT', '/v1/pools/test/backends/b1', { url: refusedUrl })).status).toBe(201);
  });

  it('at selection, a registered URL password in a pool without proxyAuth is refused (no login as svc)', async () => {
    // The registry says proxyAuth (its flag is what a tenant declares); the worker's own config does not.
    const worker = await startTestProxy({ backends: [proftpd.url], retryCount: 2 });
    proxies.push(worker);
    const registry = registryOf(worker);
    expect((await registry('POST', '/v1/pools', { name: 'test', proxyAuth: true })).status).toBe(201);
    expect((await registry('PUT', '/v1/pools/test/backends/shared', { url: withLogin(vsftpd) })).status).toBe(
      201,
    );
    // RoundRobin walks [proftpd (config), vsftpd (registered)]: every other session picks the registered one.
    const outcomes: string[] = [];
    for (let i = 0; i < 4; i++) {
      const attack = await curl([`ftp://mallory:any-password@127.0.0.1:${worker.port}/whoami.txt`]);
      outcomes.push(attack.code === 0 ? attack.stdout.toString() : `exit ${attack.code}`);
    }
    // Nobody got vsftpd's whoami.txt with the URL's password; the proftpd backend refused mallory itself.
    expect(outcomes).not.toContain(vsftpd.name);
    const refused = worker.logs.filter(
      (line) =>
        line.msg === 'backend connect failed' &&
        String(line.reason).startsWith('a password in a backend URL needs proxy authentication'),
    );
    expect(refused.length).toBeGreaterThan(0);
    expect(connectedLines(worker).every((line) => line.backend === `ftp://127.0.0.1:${proftpd.port}`)).toBe(
      true,
    );
    expect(worker.logText()).not.toContain(vsftpd.password);
    // The honest client beside it: its own login, through the backend in the config.
    for (let i = 0; i < 2; i++) {
      const honest = await curl([
        `ftp://${proftpd.user}:${proftpd.password}@127.0.0.1:${worker.port}/whoami.txt`,
      ]);
      expect(honest.stdout.toString()).toBe(proftpd.name);
    }
  });

  it('a session whose only pick is a refused URL password gets 421, without the secret', async () => {
    const worker = await startTestProxy({ backends: [proftpd.url], retryCount: 1 });
    proxies.push(worker);
    const registry = registryOf(worker);
    expect((await registry('POST', '/v1/pools', { name: 'test', proxyAuth: true })).status).toBe(201);
    expect((await registry('PUT', '/v1/pools/test/backends/shared', { url: withLogin(vsftpd) })).status).toBe(
      201,
    );
    // RoundRobin alternates between the two: of two sessions, one picks the registered backend.
    const greetings: (string | undefined)[] = [];
    for (let i = 0; i < 2; i++) {
      const ftp = await RawFtp.open(worker.port);
      greetings.push(await ftp.reply());
      ftp.destroy();
    }
    expect(greetings).toContain('421 Service not available, no backend server reachable.');
    expect(greetings.filter((greeting) => greeting?.startsWith('220'))).toHaveLength(1);
    expect(worker.logText()).not.toContain(vsftpd.password);
  });

  for (const kind of ['proftpd', 'vsftpd'] as const) {
    it(`with proxyAuth, only a proxy user who passes is logged in with the URL's credentials (${kind})`, async () => {
      const backend = kind === 'proftpd' ? proftpd : vsftpd;
      const proxy = await startTestProxy({
        backends: [withLogin(backend)],
        poolSettings: { proxyAuth: true, authUserFile: join(dir, 'ftpd.passwd') },
      });
      proxies.push(proxy);
      // The attack: a wrong password, and an unknown user, for the backend's own account too.
      for (const [user, password] of [
        ['alice', 'wrong'],
        ['mallory', 'anything'],
        [backend.user, 'guess'],
      ]) {
        const attack = await curl([`ftp://${user}:${password}@127.0.0.1:${proxy.port}/whoami.txt`]);
        expect(attack.code, `${user}`).toBe(67); // CURLE_LOGIN_DENIED
        expect(attack.stderr).toMatch(/530/);
      }
      const raw = await RawFtp.open(proxy.port);
      expect(await raw.reply()).toBe('220 FTP proxy ready.');
      expect(await raw.command('USER alice')).toBe('331 Password required for alice');
      expect(await raw.command('PASS wrong')).toBe('530 Login incorrect.');
      raw.destroy();
      // Refused logins never reached the backend.
      expect(connectedLines(proxy)).toHaveLength(0);
      // The honest proxy user: curl and ftplib, logged in to the backend as its URL user.
      const ok = await curl([`ftp://alice:alice-pw@127.0.0.1:${proxy.port}/whoami.txt`]);
      expect(ok.stdout.toString()).toBe(backend.name);
      const local = join(dir, `${kind}-whoami.txt`);
      const ftplib = await pythonFtp(
        [{ op: 'login' }, { op: 'retr', path: 'whoami.txt', local }, { op: 'quit' }],
        {
          host: '127.0.0.1',
          port: proxy.port,
          user: 'alice',
          password: 'alice-pw',
        },
      );
      expect(ftplib.result.results.slice(0, 2)).toEqual([
        { op: 'login', reply: expect.stringMatching(/^230/) },
        expect.objectContaining({ op: 'retr', bytes: backend.name.length }),
      ]);
      expect(ftplib.result.results[1]).not.toHaveProperty('error');
      expect(connectedLines(proxy)).toHaveLength(2);
      expect(proxy.logText()).not.toContain(backend.password);
      expect(proxy.logText()).not.toContain('alice-pw');
    });
  }
});
