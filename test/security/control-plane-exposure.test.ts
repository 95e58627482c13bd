import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { serve } from '../../edge-worker/cli/serve.js';
import { createHttpControlPlane } from '../../edge-worker/control-plane/http-transport.js';
import { type EmbeddedStoreServer, startEmbeddedStore } from '../../edge-worker/embedded/store-server.js';
import { silentLogger } from '../../edge-worker/log/logger.js';
import { createDynamoDbClient } from '../../functions/core/store/dynamodb-client.js';
import { ensureTable, type Table } from '../../functions/core/store/table.js';
import { type ControlPlaneHost, startControlPlaneHost } from '../../functions/http-host/host.js';
import { createRegistryHandler } from '../../functions/registry/handler.js';
import { type FtpBackend, startFtpBackend, writeHomeFile } from '../support/ftp-backends.js';
import { curl } from '../support/ftp-clients.js';
import { freePort } from '../support/ports.js';
import { cliPath, type ProxyProcess, startProxyProcess, waitForStart } from '../support/proxy-process.js';
import { createTestCa, type TestCa } from '../support/test-ca.js';

/**
 * Hole 4 of issue 14: the control plane answered anyone. Whoever reaches it may resolve backends
 * (with their URL credentials), ask `authenticate` about passwords, read TLS ticket keys and write
 * SSH host keys; so it needs a long token off loopback, HTTPS that the edges verify, and a brake
 * on guessing. Every refusal here happens before any packet leaves loopback: the only addresses
 * ever named outside 127/8 are TEST-NET ones (RFC 5737), and those are refused at config time.
 */
const EDGE_TOKEN = 'exposure-edge-token-0123456789abcdef';
const BOOTSTRAP = 'exposure-bootstrap-token-0123456789abcdef';
/** TEST-NET-1 (RFC 5737): never routed; named only to be refused before any connect. */
const REMOTE_URL = 'http://192.0.2.10:8080';
/** What OpenSSL says of a chain it cannot take to the given CA (not a host name mismatch). */
const UNTRUSTED_ISSUER =
  /unable to get local issuer certificate|unable to verify the first certificate|self-signed certificate in certificate chain/;

const run = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  spawnSync(process.execPath, [cliPath(), ...args], {
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, FTPX_EDGE_TOKEN: '', FTPX_BOOTSTRAP_TOKEN: '', FTPX_ADMIN_TOKEN: '', ...env },
  });

let dir: string;
let ca: TestCa;
let backend: FtpBackend;
let edgeConfig: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ftpx-cp-exposure-'));
  [ca, backend] = await Promise.all([createTestCa(), startFtpBackend('proftpd', { name: 'exposure' })]);
  await writeHomeFile(backend, 'honest.txt', 'an honest file');
  edgeConfig = join(dir, 'edge.yaml');
  await writeFile(
    edgeConfig,
    [
      'listeners:',
      '  - { address: 127.0.0.1, port: 0, pool: main }',
      'pools:',
      `  - { name: main, backends: [${backend.url}] }`,
      '',
    ].join('\n'),
  );
}, 120_000);

afterAll(async () => {
  await backend?.stop();
  await ca?.remove();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('ftpx control-plane serve refuses an open or weak setup', () => {
  it('refuses a non-loopback listen address without an edge token, before listening (exit 2)', () => {
    // 0.0.0.0 would only listen, never send; the refusal comes before even that.
    for (const listen of ['0.0.0.0:0', '[::]:0']) {
      const result = run(['control-plane', 'serve', '--listen', listen, '--data-dir', join(dir, 'never')]);
      expect(result.status, listen).toBe(2);
      expect(result.stderr).toMatch(
        /needs an edge token \(--edge-token or FTPX_EDGE_TOKEN, at least 32 characters\)/,
      );
      expect(result.stderr).not.toMatch(/listening/);
    }
  });

  it('refuses short edge and bootstrap tokens, without printing them (exit 2)', () => {
    const cases: [string[], NodeJS.ProcessEnv, RegExp, string][] = [
      [
        ['--edge-token', 'admin-s3cret'],
        {},
        /--edge-token \(or FTPX_EDGE_TOKEN\) must be at least 32 characters \(got 12\)/,
        'admin-s3cret',
      ],
      [
        [],
        { FTPX_EDGE_TOKEN: 'edge-s3cret-31-characters-long!' },
        /at least 32 characters \(got 31\)/,
        'edge-s3cret-31',
      ],
      [
        ['--edge-token', EDGE_TOKEN],
        { FTPX_BOOTSTRAP_TOKEN: 'bootstrap-s3cret' },
        /FTPX_BOOTSTRAP_TOKEN must be at least 32 characters/,
        'bootstrap-s3cret',
      ],
    ];
    for (const [args, env, message, secret] of cases) {
      const result = run(
        ['control-plane', 'serve', '--listen', '0.0.0.0:0', '--data-dir', join(dir, 'never'), ...args],
        env,
      );
      expect(result.status, message.source).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).not.toContain(secret);
    }
  });

  it('refuses --tls-cert without --tls-key, and a key that is not one', () => {
    const alone = run(['control-plane', 'serve', '--listen', '127.0.0.1:0', '--tls-cert', ca.server.cert]);
    expect(alone.status).toBe(2);
    expect(alone.stderr).toMatch(/give --tls-cert and --tls-key together/);
    const wrong = run([
      'control-plane',
      'serve',
      '--listen',
      '127.0.0.1:0',
      '--tls-cert',
      ca.server.cert,
      '--tls-key',
      ca.caCert,
    ]);
    expect(wrong.status).toBe(2);
    expect(wrong.stderr).toMatch(/--tls-cert .* \/ --tls-key .*:/);
  });
});

describe('ftpx serve refuses to talk to a control plane in clear or with a weak token', () => {
  it('refuses a plain http:// control plane off loopback at config validation, with no connect at all', async () => {
    const connects = vi.spyOn(net.Socket.prototype, 'connect');
    try {
      await expect(
        serve([
          '--config',
          edgeConfig,
          '--control-plane-url',
          REMOTE_URL,
          '--control-plane-token',
          EDGE_TOKEN,
        ]),
      ).rejects.toThrow(
        /the control plane URL http:\/\/192\.0\.2\.10:8080 is plain http:\/\/ to a host that is not loopback/,
      );
      expect(connects).not.toHaveBeenCalled();
    } finally {
      connects.mockRestore();
    }
    const cli = run(['serve', '--config', edgeConfig, '--control-plane-url', REMOTE_URL]);
    expect(cli.status).toBe(2);
    expect(cli.stderr).toMatch(/--insecure-control-plane-http/);
    // Named explicitly, the risk is accepted (checked with --check: nothing is started).
    const named = run([
      'serve',
      '--check',
      '--config',
      edgeConfig,
      '--control-plane-url',
      REMOTE_URL,
      '--insecure-control-plane-http',
    ]);
    expect(named.stderr).toBe('');
    expect(named.status).toBe(0);
    // The same URL in the config file is refused at its line.
    const file = join(dir, 'remote-http.yaml');
    await writeFile(
      file,
      [
        'controlPlane:',
        `  url: ${REMOTE_URL}`,
        'listeners: [{ port: 0, pool: main }]',
        `pools: [{ name: main, backends: [${backend.url}] }]`,
        '',
      ].join('\n'),
    );
    const fromFile = run(['check-config', file]);
    expect(fromFile.status).toBe(2);
    expect(fromFile.stderr).toMatch(/remote-http\.yaml:2: controlPlane\.url: is plain http:\/\//);
  });

  it('refuses short control-plane and admin tokens', () => {
    const edge = run([
      'serve',
      '--check',
      '--config',
      edgeConfig,
      '--control-plane-url',
      'https://127.0.0.1:1',
      '--control-plane-token',
      'edge-s3cret',
    ]);
    expect(edge.status).toBe(2);
    expect(edge.stderr).toMatch(/the control plane token must be at least 32 characters/);
    expect(edge.stderr).not.toContain('edge-s3cret');
    const admin = run(['serve', '--check', '--config', edgeConfig], { FTPX_ADMIN_TOKEN: 'admin-token-16ch' });
    expect(admin.status).toBe(2);
    expect(admin.stderr).toMatch(/FTPX_ADMIN_TOKEN must be at least 32 characters/);
  });
});

describe('failed bearer attempts are rate-limited per source address', () => {
  let store: EmbeddedStoreServer;
  let table: Table;
  let host: ControlPlaneHost;
  beforeAll(async () => {
    store = await startEmbeddedStore(undefined);
    table = { client: createDynamoDbClient({ endpoint: store.endpoint, region: 'us-east-1' }), name: 'ftpx' };
    await ensureTable(table);
    host = await startControlPlaneHost({
      listen: { host: '127.0.0.1', port: 0 },
      table,
      edgeToken: EDGE_TOKEN,
      // 5 failures in a burst, then one more every 2 s.
      failedAuth: { burst: 5, perMinute: 30 },
      registry: createRegistryHandler({ table, bootstrapToken: BOOTSTRAP, log: () => {} }),
      log: silentLogger,
    });
  });
  afterAll(async () => {
    await host?.close();
    table?.client.destroy();
    await store?.close();
  });

  /** One POST from `localAddress` (127.0.0.2 is another source on the same loopback). */
  const call = (
    token: string | undefined,
    localAddress = '127.0.0.1',
    route: { method: string; path: string } = { method: 'POST', path: '/v1/resolve-backend' },
  ) =>
    new Promise<{ status: number | undefined; retryAfter: string | undefined }>((done, fail) => {
      const body = JSON.stringify({ pool: 'p', policy: 'RoundRobin', backends: ['ftp://a:21'] });
      const sent = httpRequest(
        `${host.url}${route.path}`,
        {
          method: route.method,
          localAddress,
          agent: false,
          timeout: 10_000,
          headers: {
            'content-type': 'application/json',
            ...(token ? { authorization: `Bearer ${token}` } : {}),
          },
        },
        (response) => {
          response.resume();
          response.on('end', () =>
            done({ status: response.statusCode, retryAfter: response.headers['retry-after'] }),
          );
        },
      );
      sent.on('timeout', () => sent.destroy(new Error('no answer within 10 s')));
      sent.on('error', fail);
      sent.end(route.method === 'POST' ? body : undefined);
    });

  it('answers 429 with Retry-After after the burst; good tokens never use it up; other sources go on', async () => {
    // Successful attempts take nothing from the budget.
    for (let i = 0; i < 20; i++) expect((await call(EDGE_TOKEN)).status).toBe(200);
    for (let i = 0; i < 5; i++) expect((await call(i % 2 ? `${EDGE_TOKEN}x` : undefined)).status).toBe(401);
    const refused = await call('guess-number-six-0123456789abcdef');
    expect(refused.status).toBe(429);
    expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(refused.retryAfter)).toBeLessThanOrEqual(2);
    // Decided: while a source is refused, even the right token from it gets 429 (checking it would
    // tell a guesser it had guessed right). Edge workers retry 429 after Retry-After.
    expect((await call(EDGE_TOKEN)).status).toBe(429);
    // Another source address is not affected.
    expect((await call(EDGE_TOKEN, '127.0.0.2')).status).toBe(200);
    // After Retry-After the source may try again, one attempt per refill.
    await new Promise((resolve) => setTimeout(resolve, Number(refused.retryAfter) * 1000 + 100));
    expect((await call(EDGE_TOKEN)).status).toBe(200);
    expect((await call('another-wrong-guess-0123456789abcdef')).status).toBe(401);
    expect((await call('and-another-guess-0123456789abcdef')).status).toBe(429);
  });

  it("counts the registry API's 401s too (admin token guesses), and keeps its document open", async () => {
    const pools = { method: 'GET', path: '/v1/pools' };
    const source = '127.0.0.3';
    expect((await call(BOOTSTRAP, source, pools)).status).toBe(200);
    for (let i = 0; i < 5; i++) {
      expect((await call(`admin-guess-${i}-0123456789abcdef0123`, source, pools)).status).toBe(401);
    }
    expect((await call('admin-guess-5-0123456789abcdef0123', source, pools)).status).toBe(429);
    // The bucket is the source's, whatever the route: the edge routes refuse it as well.
    expect((await call(EDGE_TOKEN, source)).status).toBe(429);
    expect((await call(undefined, source, { method: 'GET', path: '/openapi.json' })).status).toBe(200);
    expect((await call(undefined, source, { method: 'GET', path: '/healthz' })).status).toBe(200);
  });
});

describe('an edge worker and an HTTPS control plane', () => {
  const startControlPlane = async (cert: { cert: string; key: string }) => {
    const port = await freePort();
    const child = spawn(
      process.execPath,
      [
        cliPath(),
        'control-plane',
        'serve',
        '--listen',
        `127.0.0.1:${port}`,
        '--tls-cert',
        cert.cert,
        '--tls-key',
        cert.key,
      ],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { ...process.env, FTPX_EDGE_TOKEN: EDGE_TOKEN, FTPX_BOOTSTRAP_TOKEN: BOOTSTRAP },
      },
    );
    let stderr = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (text: string) => {
      stderr += text;
    });
    const url = `https://127.0.0.1:${port}`;
    await waitForStart(
      child,
      () => stderr.includes(`ftpx: control plane listening on ${url}\n`),
      'the control plane',
    );
    return {
      url,
      stderr: () => stderr,
      stop: async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      },
    };
  };

  const startEdge = async (url: string) => {
    const port = await freePort();
    const config = join(dir, `edge-${port}.yaml`);
    await writeFile(
      config,
      [
        'listeners:',
        `  - { address: 127.0.0.1, port: ${port}, pool: main }`,
        'pools:',
        `  - { name: main, backends: [${backend.url}] }`,
        '',
      ].join('\n'),
    );
    return startProxyProcess({
      args: [
        'serve',
        '--config',
        config,
        '--control-plane-url',
        url,
        '--control-plane-ca',
        ca.caCert,
        '--control-plane-token',
        EDGE_TOKEN,
      ],
      port,
    });
  };

  it('logs a client in through a control plane whose certificate the edge verified', async () => {
    const cp = await startControlPlane(ca.server);
    let edge: ProxyProcess | undefined;
    try {
      // Plain HTTP to it fails: it speaks only TLS.
      await expect(request(`${cp.url.replace('https:', 'http:')}/healthz`)).rejects.toThrow();
      edge = await startEdge(cp.url);
      const listing = await curl([
        '--max-time',
        '20',
        '--list-only',
        `ftp://${backend.user}:${backend.password}@127.0.0.1:${edge.port}/`,
      ]);
      expect(listing.stderr.toString()).toBe('');
      expect(listing.stdout.toString()).toContain('honest.txt');
      const file = await curl([
        '--max-time',
        '20',
        `ftp://${backend.user}:${backend.password}@127.0.0.1:${edge.port}/honest.txt`,
      ]);
      expect(file.stdout.toString()).toBe('an honest file');
      expect(edge.stderr()).not.toContain(EDGE_TOKEN);
      expect(cp.stderr()).not.toContain(EDGE_TOKEN);
    } finally {
      await edge?.stop();
      await cp.stop();
    }
  });

  it('refuses a control plane whose certificate the given CA did not sign', async () => {
    const cp = await startControlPlane(ca.unknownCa);
    let edge: ProxyProcess | undefined;
    try {
      // The transport itself: the handshake fails, nothing is asked.
      const client = createHttpControlPlane({
        url: cp.url,
        token: EDGE_TOKEN,
        ca: await readFile(ca.caCert),
        timeoutMs: 5000,
        retries: 0,
        log: silentLogger,
      });
      try {
        await expect(
          client.resolveBackend({ pool: 'main', policy: 'RoundRobin', backends: [backend.url] }),
        ).rejects.toThrow(UNTRUSTED_ISSUER);
      } finally {
        await client.close();
      }
      // And a client of an edge worker pointed at it: no backend is resolved, no login happens.
      edge = await startEdge(cp.url);
      const listing = await curl([
        '--max-time',
        '20',
        '--list-only',
        `ftp://${backend.user}:${backend.password}@127.0.0.1:${edge.port}/`,
      ]);
      expect(listing.code).not.toBe(0);
      expect(listing.stdout.toString()).not.toContain('honest.txt');
      expect(edge.stderr()).toMatch(UNTRUSTED_ISSUER);
    } finally {
      await edge?.stop();
      await cp.stop();
    }
  });
});
