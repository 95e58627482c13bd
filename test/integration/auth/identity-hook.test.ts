import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import type { IncomingHttpHeaders } from 'node:http';
import { createServer as createHttpsServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCachedControlPlane } from '../../../edge-worker/control-plane/cached-control-plane.js';
import { ControlPlaneRejectedError } from '../../../edge-worker/control-plane/control-plane-client.js';
import {
  createHttpControlPlane,
  type HttpControlPlane,
} from '../../../edge-worker/control-plane/http-transport.js';
import { createInProcessControlPlane } from '../../../edge-worker/control-plane/in-process-transport.js';
import { type EmbeddedStoreServer, startEmbeddedStore } from '../../../edge-worker/embedded/store-server.js';
import { Logger, silentLogger } from '../../../edge-worker/log/logger.js';
import type { AuthRequest } from '../../../functions/contract/auth.js';
import { authenticate } from '../../../functions/core/auth/authenticate.js';
import { closeIdentityHooks, type IdentityHookConfig } from '../../../functions/core/auth/identity-hook.js';
import { createPool } from '../../../functions/core/registry/pools.js';
import { createProxyUser } from '../../../functions/core/registry/proxy-users.js';
import { createDynamoDbClient } from '../../../functions/core/store/dynamodb-client.js';
import { ensureTable, type Table } from '../../../functions/core/store/table.js';
import { type ControlPlaneHost, startControlPlaneHost } from '../../../functions/http-host/host.js';

const run = promisify(execFile);

const HOOKED = 'hooked';
const PLAIN = 'plain';
const HOOK_TOKEN = 'hook-bearer-token';
const HOOK_SECRET = 'shared-secret-value';
const EDGE_TOKEN = 'identity-hook-edge-token-0123456789';

interface Received {
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

/**
 * The identity hook against a real HTTPS server on localhost with a self-signed certificate made by
 * openssl for the test, trusted through the hook's `ca` option; then the whole path an edge worker
 * takes: HTTP transport → control-plane host → auth function → hook.
 */
describe('identity hook', () => {
  let dir: string;
  let ca: string;
  let server: Server;
  let hookUrl: string;
  let downUrl: string;
  let store: EmbeddedStoreServer;
  let table: Table;
  const received: Received[] = [];
  const hooks: IdentityHookConfig[] = [];

  const hook = (overrides: Partial<IdentityHookConfig> = {}): IdentityHookConfig => {
    const config: IdentityHookConfig = {
      url: hookUrl,
      ca,
      bearerToken: HOOK_TOKEN,
      secretHeader: { name: 'X-Hook-Secret', value: HOOK_SECRET },
      timeoutMs: 700,
      ...overrides,
    };
    hooks.push(config);
    return config;
  };
  const request = (user: string, extra: Partial<AuthRequest> = {}) =>
    ({
      pool: HOOKED,
      user,
      password: `${user}-password`,
      clientAddress: '203.0.113.9',
      protocol: 'ftps',
      ...extra,
    }) as AuthRequest & { password?: string };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ftpx-hook-'));
    await run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
      '-days',
      '1',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    ]);
    ca = await readFile(join(dir, 'cert.pem'), 'utf8');
    const key = await readFile(join(dir, 'key.pem'), 'utf8');

    server = createHttpsServer({ key, cert: ca }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
        received.push({ headers: req.headers, body });
        const json = (status: number, value: unknown) => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(value));
        };
        if (
          req.headers.authorization !== `Bearer ${HOOK_TOKEN}` ||
          req.headers['x-hook-secret'] !== HOOK_SECRET
        ) {
          json(401, { error: 'who are you' });
          return;
        }
        const user = String(body.user);
        if (user === 'alice' && body.password === 'alice-password') {
          json(200, {
            allow: true,
            user: 'alice@corp',
            group: 'engineering',
            groups: ['vpn', 'engineering'],
            backends: ['ftp://10.0.0.9:21', 'ftps://svc:pw@10.0.0.10:990'],
            ignored: 'extra fields are fine',
          });
        } else if (user === 'keyuser' && typeof body.publicKey === 'string') {
          json(200, { allow: true, backend: 'sftp://10.0.0.11' });
        } else if (user === 'garbage') {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end('{"allow": tru');
        } else if (user === 'liar') {
          json(200, { allow: 'yes', group: 'root' });
        } else if (user === 'badbackend') {
          json(200, { allow: true, backends: ['http://10.0.0.1/'] });
        } else if (user === 'broken') {
          json(500, { error: 'directory down' });
        } else if (user === 'slow') {
          setTimeout(() => json(200, { allow: true }), 3000).unref();
        } else {
          json(200, { allow: false, reason: 'not in the directory\nsecond line' });
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    hookUrl = `https://127.0.0.1:${(server.address() as AddressInfo).port}/ftp-auth`;

    // A port nothing listens on: bind one, note it, close it.
    const probe = createHttpsServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    downUrl = `https://127.0.0.1:${(probe.address() as AddressInfo).port}/ftp-auth`;
    await new Promise<void>((resolve) => probe.close(() => resolve()));

    store = await startEmbeddedStore(undefined);
    table = { client: createDynamoDbClient({ endpoint: store.endpoint, region: 'us-east-1' }), name: 'hook' };
    await ensureTable(table);
    const now = Date.now();
    await createPool(table, { name: PLAIN }, now);
    await createPool(table, { name: HOOKED }, now);
    await createProxyUser(
      table,
      PLAIN,
      { name: 'carol', password: 'carol-pw', primaryGroup: 'ops', groups: [], enabled: true },
      now,
    );
    // The hooked pool's store users are never consulted.
    await createProxyUser(
      table,
      HOOKED,
      { name: 'carol', password: 'carol-pw', primaryGroup: 'ops', groups: [], enabled: true },
      now,
    );
  });

  afterAll(async () => {
    for (const config of hooks) await closeIdentityHooks(config);
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    table?.client.destroy();
    await store?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('allows with the group, groups and backends the hook assigns, and sends what it needs', async () => {
    const config = hook();
    const answer = await authenticate(table, request('alice'), { identityHook: config });
    expect(answer).toEqual({
      allowed: true,
      user: 'alice@corp',
      primaryGroup: 'engineering',
      groups: ['engineering', 'vpn'],
      backends: ['ftp://10.0.0.9:21', 'ftps://svc:pw@10.0.0.10:990'],
      reason: 'identity hook allowed',
      source: 'identity-hook',
    });
    const last = received.at(-1);
    expect(last?.body).toEqual({
      pool: HOOKED,
      user: 'alice',
      password: 'alice-password',
      clientAddress: '203.0.113.9',
      protocol: 'ftps',
    });
    expect(last?.headers.authorization).toBe(`Bearer ${HOOK_TOKEN}`);
    expect(last?.headers['x-hook-secret']).toBe(HOOK_SECRET);
    expect(last?.headers['content-type']).toBe('application/json');
  });

  it('passes public keys to the hook', async () => {
    const answer = await authenticate(
      table,
      {
        pool: HOOKED,
        user: 'keyuser',
        publicKey: 'ssh-ed25519 AAAAC3Nz key',
        clientAddress: '::1',
        protocol: 'sftp',
      },
      { identityHook: hook() },
    );
    expect(answer).toMatchObject({ allowed: true, user: 'keyuser', backends: ['sftp://10.0.0.11'] });
    expect(received.at(-1)?.body).toMatchObject({ publicKey: 'ssh-ed25519 AAAAC3Nz key', protocol: 'sftp' });
    expect(received.at(-1)?.body).not.toHaveProperty('password');
  });

  it('denies a group lookup for a worker-verified key without asking the hook (it judges keys itself)', async () => {
    const before = received.length;
    const answer = await authenticate(
      table,
      { pool: HOOKED, user: 'keyuser', workerVerifiedKey: true, clientAddress: '::1', protocol: 'sftp' },
      { identityHook: hook() },
    );
    expect(answer).toEqual({
      allowed: false,
      reason: `pool "${HOOKED}" is covered by an identity hook: it judges public keys itself`,
      source: 'identity-hook',
    });
    expect(received.length).toBe(before);
  });

  it('denies what the hook denies, with its reason made printable', async () => {
    expect(await authenticate(table, request('mallory'), { identityHook: hook() })).toEqual({
      allowed: false,
      reason: 'identity hook denied: not in the directory second line',
      source: 'identity-hook',
    });
    // A wrong password is the hook's business too.
    expect(
      await authenticate(table, request('alice', { password: 'nope' }), { identityHook: hook() }),
    ).toMatchObject({
      allowed: false,
    });
  });

  it('denies on a garbage answer, a malformed allow, a bad backend and an HTTP error', async () => {
    const config = hook();
    expect(await authenticate(table, request('garbage'), { identityHook: config })).toMatchObject({
      allowed: false,
      reason: 'identity hook answer is not JSON',
    });
    expect(await authenticate(table, request('liar'), { identityHook: config })).toMatchObject({
      allowed: false,
      reason: expect.stringMatching(/^identity hook answer is invalid \(allow: /),
    });
    expect(await authenticate(table, request('badbackend'), { identityHook: config })).toMatchObject({
      allowed: false,
      reason: expect.stringMatching(/^identity hook answer is invalid \(backends\.0: not a backend URL/),
    });
    expect(await authenticate(table, request('broken'), { identityHook: config })).toMatchObject({
      allowed: false,
      reason: 'identity hook answered HTTP 500',
    });
    expect(
      await authenticate(table, request('alice'), { identityHook: hook({ bearerToken: 'wrong-token' }) }),
    ).toMatchObject({ allowed: false, reason: 'identity hook answered HTTP 401' });
  });

  it('denies when the hook is too slow', async () => {
    const started = Date.now();
    expect(await authenticate(table, request('slow'), { identityHook: hook({ timeoutMs: 300 }) })).toEqual({
      allowed: false,
      reason: 'identity hook did not answer within 300 ms',
      source: 'identity-hook',
    });
    expect(Date.now() - started).toBeLessThan(2500);
  });

  it('denies when the hook is down or its certificate is not trusted', async () => {
    const down = await authenticate(table, request('alice'), { identityHook: hook({ url: downUrl }) });
    expect(down).toMatchObject({
      allowed: false,
      reason: expect.stringMatching(/^identity hook unreachable: .*ECONNREFUSED/),
    });
    const { ca: _ignored, ...untrusted } = hook();
    hooks.push(untrusted);
    const tls = await authenticate(table, request('alice'), { identityHook: untrusted });
    expect(tls).toMatchObject({
      allowed: false,
      reason: expect.stringMatching(/^identity hook unreachable: .*certificate/i),
    });
  });

  it('decides only for the pools it names: others use the store', async () => {
    const config = hook({ pools: [HOOKED] });
    const before = received.length;
    expect(
      await authenticate(
        table,
        { ...request('carol'), pool: PLAIN, password: 'carol-pw' },
        { identityHook: config },
      ),
    ).toMatchObject({ allowed: true, source: 'store', primaryGroup: 'ops' });
    expect(received.length).toBe(before);
    // In the hooked pool the store's carol does not count.
    expect(
      await authenticate(table, { ...request('carol'), password: 'carol-pw' }, { identityHook: config }),
    ).toMatchObject({ allowed: false, source: 'identity-hook' });
  });

  describe('through the edge worker transports', () => {
    let host: ControlPlaneHost;
    let http: HttpControlPlane;
    const hostLines: string[] = [];

    beforeAll(async () => {
      host = await startControlPlaneHost({
        listen: { host: '127.0.0.1', port: 0 },
        table,
        edgeToken: EDGE_TOKEN,
        identityHook: hook({ pools: [HOOKED] }),
        log: new Logger({ write: (line) => hostLines.push(line) }, 'debug'),
      });
      http = createHttpControlPlane({
        url: host.url,
        token: EDGE_TOKEN,
        timeoutMs: 3000,
        retries: 1,
        log: silentLogger,
      });
    });

    afterAll(async () => {
      await http?.close();
      await host?.close();
    });

    it('authenticates over POST /v1/authenticate with the HTTP transport', async () => {
      expect(await http.authenticate(request('alice'))).toMatchObject({
        allowed: true,
        user: 'alice@corp',
        primaryGroup: 'engineering',
        backends: ['ftp://10.0.0.9:21', 'ftps://svc:pw@10.0.0.10:990'],
      });
      expect(await http.authenticate(request('garbage'))).toMatchObject({ allowed: false });
      expect(
        await http.authenticate({ ...request('carol'), pool: PLAIN, password: 'carol-pw' }),
      ).toMatchObject({
        allowed: true,
        user: 'carol',
        primaryGroup: 'ops',
        groups: ['ops'],
        source: 'store',
      });
      expect(await http.authenticate({ ...request('carol'), pool: PLAIN, password: 'wrong' })).toMatchObject({
        allowed: false,
        source: 'store',
      });
      // The host logs each request (debug), never its body.
      expect(hostLines.some((line) => line.includes('/v1/authenticate'))).toBe(true);
      expect(hostLines.join('\n')).not.toMatch(/password/);
    });

    it('passes through the last-known-good cache, which never answers logins itself', async () => {
      const cached = createCachedControlPlane(http, { staleForMs: 60_000, log: silentLogger });
      expect(
        await cached.authenticate({ ...request('carol'), pool: PLAIN, password: 'carol-pw' }),
      ).toMatchObject({
        allowed: true,
      });
      const unreachable = createHttpControlPlane({
        url: 'http://127.0.0.1:9',
        timeoutMs: 500,
        retries: 0,
        log: silentLogger,
      });
      const offline = createCachedControlPlane(unreachable, { staleForMs: 60_000, log: silentLogger });
      await expect(offline.authenticate(request('alice'))).rejects.toThrow(/control plane authenticate/);
      await unreachable.close();
    });

    it('needs the edge token, and refuses malformed requests', async () => {
      const anonymous = createHttpControlPlane({
        url: host.url,
        timeoutMs: 3000,
        retries: 0,
        log: silentLogger,
      });
      await expect(anonymous.authenticate(request('alice'))).rejects.toBeInstanceOf(
        ControlPlaneRejectedError,
      );
      await anonymous.close();
      const bad = http.authenticate({ ...request('alice'), clientAddress: 'nowhere' });
      await expect(bad).rejects.toMatchObject({ status: 400 });
    });

    it('authenticates in process (embedded mode) the same way', async () => {
      const embedded = createInProcessControlPlane(table, { identityHook: hook({ pools: [HOOKED] }) });
      expect(await embedded.authenticate(request('alice'))).toMatchObject({
        allowed: true,
        user: 'alice@corp',
      });
      expect(
        await embedded.authenticate({ ...request('carol'), pool: PLAIN, password: 'carol-pw' }),
      ).toMatchObject({
        allowed: true,
        source: 'store',
      });
      expect(await embedded.authenticate(request('slow'))).toMatchObject({ allowed: false });
    });
  });
});
