import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, formatIssue } from '../../edge-worker/config/config-error.js';
import { loadConfig } from '../../edge-worker/config/load.js';
import type { Table } from '../../functions/core/store/table.js';
import { createRegistryHandler } from '../../functions/registry/handler.js';
import { type FtpBackend, startFtpBackend, writeHomeFile } from '../support/ftp-backends.js';
import { curl } from '../support/ftp-clients.js';
import { startTestProxy, type TestProxy } from '../support/proxy.js';
import { RawFtp } from '../support/raw-ftp.js';
import { apiEvent } from './registry/api-client.js';

const ADMIN = 'backend-sources-admin-token-0123456789';

/**
 * ProxyReverseServers sources through real sessions: real pure-ftpd backends (each serves a
 * whoami.txt naming itself), curl and raw FTP clients, the proxy in this process, and the registry
 * handler writing to the very table the proxy's control plane reads.
 */
describe('backend sources', () => {
  const backends: FtpBackend[] = [];
  const proxies: TestProxy[] = [];
  let dir: string;
  let a: FtpBackend;
  let b: FtpBackend;
  let c: FtpBackend;

  /**
   * The backend's URL with its user name: clients may log in with any name, with the backends' shared
   * password (a URL password would need proxy authentication, see test/security/url-credentials).
   */
  const withLogin = (backend: FtpBackend) => `ftp://${backend.user}@127.0.0.1:${backend.port}`;
  const json = async (path: string, value: unknown, mode = 0o644) => {
    await writeFile(path, JSON.stringify(value));
    await chmod(path, mode);
    return path;
  };

  beforeAll(async () => {
    backends.push(
      ...(await Promise.all(
        ['a', 'b', 'c'].map((name) => startFtpBackend('pure-ftpd', { name: `src-${name}` })),
      )),
    );
    [a, b, c] = backends as [FtpBackend, FtpBackend, FtpBackend];
    for (const backend of backends) await writeHomeFile(backend, 'whoami.txt', backend.name);
    dir = await mkdtemp(join(tmpdir(), 'ftpx-sources-'));
    await chmod(dir, 0o755);
  });

  afterAll(async () => {
    await Promise.all(proxies.map((proxy) => proxy.close()));
    await Promise.all(backends.map((backend) => backend.stop()));
    await rm(dir, { recursive: true, force: true });
  });

  const proxyWith = async (list: string[], poolSettings: Record<string, unknown> = {}) => {
    // Registered backends are on loopback, which the destination policy refuses unless told.
    const proxy = await startTestProxy({
      backends: list,
      poolSettings: { allowDestinationNetworks: ['127.0.0.0/8'], ...poolSettings },
    });
    proxies.push(proxy);
    return proxy;
  };

  /**
   * The registry API over the proxy's own table and client (the embedded store it started), as
   * `ftpx control-plane serve` hosts it: its writes are seen by the next login.
   */
  const registryOf = (proxy: TestProxy) => {
    const table = proxy.worker.storeTable as Table;
    const handler = createRegistryHandler({ table, bootstrapToken: ADMIN, log: () => {} });
    const context = { awsRequestId: 'test', functionName: 'registry' } as Context;
    return async (method: string, path: string, json?: unknown) => {
      const reply = await handler(
        apiEvent(method, path, { token: ADMIN, ...(json ? { json } : {}) }),
        context,
      );
      return reply.statusCode;
    };
  };

  /** Logs in as `user` through the proxy and fetches whoami.txt: the name of the backend that served. */
  const whoServes = async (proxy: TestProxy, user: string) => {
    const result = await curl([`ftp://${user}:${a.password}@127.0.0.1:${proxy.port}/whoami.txt`]);
    return result.code === 0
      ? result.stdout.toString('utf8')
      : `curl exit ${result.code}: ${result.stderr.trim()}`;
  };

  it('a backend registered through the API serves the next login', async () => {
    const proxy = await proxyWith([withLogin(a)]);
    expect(await whoServes(proxy, 'alice')).toBe(a.name);
    const registry = registryOf(proxy);
    expect(await registry('POST', '/v1/pools', { name: 'test' })).toBe(201);
    expect(await registry('PUT', '/v1/pools/test/backends/b', { url: withLogin(b) })).toBe(201);
    // RoundRobin now walks [a, b] and has used position 0: the next login is b's.
    expect(await whoServes(proxy, 'alice')).toBe(b.name);
    expect(await whoServes(proxy, 'alice')).toBe(a.name);
    const connected = proxy.logs.filter((line) => line.msg === 'connected to backend');
    expect(connected.at(-2)).toMatchObject({ backend: `ftp://127.0.0.1:${b.port}`, source: 'registry:pool' });
    expect(connected.at(-1)).toMatchObject({ backend: `ftp://127.0.0.1:${a.port}`, source: 'config' });
    // Disabled through the API: no longer used from the next login.
    expect(await registry('PATCH', '/v1/pools/test/backends/b', { enabled: false })).toBe(200);
    for (let i = 0; i < 3; i++) expect(await whoServes(proxy, 'alice')).toBe(a.name);
    // The password reached the backend and never the log.
    expect(proxy.logText()).not.toContain(b.password);
  });

  it("PerUser: a user's registered backends replace the list; other users keep the global list", async () => {
    const proxy = await proxyWith([withLogin(a), withLogin(b)], { connectPolicy: 'PerUser' });
    const registry = registryOf(proxy);
    expect(await registry('POST', '/v1/pools', { name: 'test' })).toBe(201);
    expect(await registry('PUT', '/v1/pools/test/users/alice/backends', { backends: [withLogin(c)] })).toBe(
      201,
    );
    for (let i = 0; i < 3; i++) expect(await whoServes(proxy, 'alice')).toBe(c.name);
    const others = new Set<string>();
    for (const user of ['bob', 'carol', 'dave', 'erin', 'frank', 'grace'])
      others.add(await whoServes(proxy, user));
    expect([...others].every((name) => name === a.name || name === b.name)).toBe(true);
    const alice = proxy.logs.find((line) => line.msg === 'connected to backend' && line.user === 'alice');
    expect(alice).toMatchObject({ source: 'registry:user', list: 'user' });
    expect(proxy.logText()).not.toContain(c.password);
  });

  it('PerUser with perUserFallback refuse: a user without a list of its own gets 530', async () => {
    const proxy = await proxyWith([withLogin(a)], { connectPolicy: 'PerUser', perUserFallback: 'refuse' });
    const registry = registryOf(proxy);
    expect(await registry('POST', '/v1/pools', { name: 'test' })).toBe(201);
    expect(await registry('PUT', '/v1/pools/test/users/alice/backends', { backends: [withLogin(b)] })).toBe(
      201,
    );
    expect(await whoServes(proxy, 'alice')).toBe(b.name);
    const ftp = await RawFtp.open(proxy.port);
    expect(await ftp.reply()).toBe('220 FTP proxy ready.');
    expect(await ftp.command('USER bob')).toBe('530 Login incorrect.');
    ftp.destroy();
    expect(proxy.logs).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        msg: 'login refused: no backend for this user',
        user: 'bob',
        reason:
          'no backends for user "bob" (none listed for it, none registered) and perUserFallback is refuse',
      }),
    );
    // Nothing was connected for bob.
    expect(proxy.logs.filter((line) => line.msg === 'connected to backend' && line.user === 'bob')).toEqual(
      [],
    );
  });

  it('file: with %U routes each user to its own list; a missing or refused file falls back', async () => {
    const users = join(dir, 'users');
    await mkdir(users, { mode: 0o755 });
    await json(join(users, 'alice.json'), [withLogin(b)]);
    await json(join(users, 'carol.json'), ['not a url', withLogin(c)]);
    await json(join(users, 'mallory.json'), [withLogin(c)], 0o666);
    const proxy = await proxyWith([withLogin(a), `file:${join(users, '%U.json')}`], {
      connectPolicy: 'PerUser',
    });
    expect(await whoServes(proxy, 'alice')).toBe(b.name);
    expect(await whoServes(proxy, 'carol')).toBe(c.name);
    expect(await whoServes(proxy, 'bob')).toBe(a.name);
    expect(await whoServes(proxy, 'mallory')).toBe(a.name);
    expect(proxy.logs).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        msg: 'per-user backend list file refused',
        user: 'mallory',
        file: join(users, 'mallory.json'),
        reason: 'it is world-writable',
      }),
    );
    expect(proxy.logs).toContainEqual(
      expect.objectContaining({
        msg: 'backend list entry skipped',
        file: join(users, 'carol.json'),
        item: 0,
      }),
    );
    const alice = proxy.logs.find((line) => line.msg === 'connected to backend' && line.user === 'alice');
    expect(alice).toMatchObject({ source: `file:${join(users, 'alice.json')}`, list: 'user' });
    // Files are read per session: an edit applies to the next login.
    await json(join(users, 'bob.json'), [withLogin(c)]);
    expect(await whoServes(proxy, 'bob')).toBe(c.name);
    // A name that would leave the directory is refused outright.
    const ftp = await RawFtp.open(proxy.port);
    await ftp.reply();
    expect(await ftp.command('USER ../users/alice')).toBe('530 Login incorrect.');
    ftp.destroy();
    expect(proxy.logs).toContainEqual(
      expect.objectContaining({
        msg: 'user name refused for per-user backend lists',
        reason: 'the user name contains "/"',
      }),
    );
    expect(proxy.logText()).not.toContain(a.password);
  });

  it('file: with %U and perUserFallback refuse: no file and no registered list refuses the login', async () => {
    const users = join(dir, 'strict');
    await mkdir(users, { mode: 0o755 });
    await json(join(users, 'alice.json'), [withLogin(c)]);
    const proxy = await proxyWith([withLogin(a), `file:${join(users, '%U.json')}`], {
      connectPolicy: 'PerUser',
      perUserFallback: 'refuse',
    });
    expect(await whoServes(proxy, 'alice')).toBe(c.name);
    expect(await whoServes(proxy, 'bob')).toMatch(/^curl exit 67/);
  });

  it('a static file: list is read at start; one that fails the checks stops the start', async () => {
    const path = await json(join(dir, 'static.json'), [withLogin(c)]);
    const proxy = await proxyWith([`file:${path}`]);
    expect(await whoServes(proxy, 'anyone')).toBe(c.name);
    expect(proxy.logs).toContainEqual(
      expect.objectContaining({ msg: 'backend list file read', backends: 1 }),
    );
    const open = await json(join(dir, 'open.json'), [withLogin(c)], 0o666);
    const error = await startTestProxy({ backends: [`file:${open}`] }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toBe(
      `${open}: backend list of pool "test" refused: it is world-writable`,
    );
  });

  it('config errors name file and line: relative file: paths and %g outside PerGroup', async () => {
    const yaml = join(dir, 'ftpx.yaml');
    await writeFile(
      yaml,
      [
        'listeners:',
        '  - port: 2121',
        '    pool: main',
        'pools:',
        '  - name: main',
        '    backends:',
        '      - file:backends.json',
        '      - file:/etc/ftpx/%g.json',
        '',
      ].join('\n'),
    );
    const conf = join(dir, 'proftpd.conf');
    await writeFile(
      conf,
      ['ProxyEngine on', 'ProxyTLSEngine off', 'ProxyReverseServers file:relative.json', ''].join('\n'),
    );
    const issues = (kind: 'yaml' | 'proftpd', file: string) => {
      try {
        loadConfig({ kind, file });
      } catch (err) {
        return (err as ConfigError).issues.map(formatIssue);
      }
      return [];
    };
    expect(issues('yaml', yaml)).toEqual([
      `${yaml}:7: pools[0].backends[0]: "file:backends.json": the path of a file: backend list must be absolute, got "backends.json"`,
      `${yaml}:8: pools[0].backends[1]: "file:/etc/ftpx/%g.json": a per-group list (%g) needs connectPolicy PerGroup (the backend is then chosen after proxy authentication), not RoundRobin`,
    ]);
    expect(issues('proftpd', conf)).toEqual([
      `${conf}:3: ProxyReverseServers: "file:relative.json": the path of a file: backend list must be absolute, got "relative.json"`,
    ]);
  });
});
