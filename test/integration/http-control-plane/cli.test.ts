import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createHttpControlPlane,
  type HttpControlPlane,
} from '../../../edge-worker/control-plane/http-transport.js';
import { type EmbeddedStoreServer, startEmbeddedStore } from '../../../edge-worker/embedded/store-server.js';
import { Logger, silentLogger } from '../../../edge-worker/log/logger.js';
import { createDynamoDbClient } from '../../../functions/core/store/dynamodb-client.js';
import { ensureTable, type Table } from '../../../functions/core/store/table.js';
import { type ControlPlaneHost, startControlPlaneHost } from '../../../functions/http-host/host.js';
import { type FtpBackend, startFtpBackend } from '../../support/ftp-backends.js';
import { freePort } from '../../support/ports.js';
import { cliPath, type ProxyProcess, startProxyProcess, waitForStart } from '../../support/proxy-process.js';
import { RawFtp } from '../../support/raw-ftp.js';

const TOKEN = 'cli-edge-token-do-not-print-0123456789';

/** The built CLI (npm run build first), run as users run it. */
describe('ftpx control-plane serve', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ftpx-cp-cli-'));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const run = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    spawnSync(process.execPath, [cliPath(), ...args], {
      encoding: 'utf8',
      timeout: 30_000,
      env: { ...process.env, ...env },
    });

  it('refuses a wrong command line with exit code 2 and a clear message', async () => {
    const cases: [string[], RegExp][] = [
      [['control-plane'], /control-plane needs a subcommand: serve/],
      [['control-plane', 'start'], /unknown control-plane subcommand "start"/],
      [['control-plane', 'serve'], /needs --listen HOST:PORT/],
      [['control-plane', 'serve', '--listen', '8080'], /--listen must be HOST:PORT/],
      [['control-plane', 'serve', '--listen', '127.0.0.1:99999'], /--listen must be HOST:PORT/],
      [
        [
          'control-plane',
          'serve',
          '--listen',
          '127.0.0.1:0',
          '--data-dir',
          dir,
          '--store-endpoint',
          'http://x',
        ],
        /not both/,
      ],
      [['control-plane', 'serve', '--listen', '127.0.0.1:0', '--bogus'], /Unknown option '--bogus'/],
    ];
    for (const [args, message] of cases) {
      const result = run(args);
      expect(result.status, args.join(' ')).toBe(2);
      expect(result.stderr, args.join(' ')).toMatch(message);
    }
    const config = join(dir, 'edge.yaml');
    await writeFile(
      config,
      [
        'listeners:',
        '  - { port: 0, pool: main }',
        'pools:',
        '  - { name: main, backends: [ftp://127.0.0.1:21] }',
        '',
      ].join('\n'),
    );
    const badUrl = run(['serve', '--config', config, '--control-plane-url', 'ftp://cp.example']);
    expect(badUrl.status).toBe(2);
    expect(badUrl.stderr).toMatch(/--control-plane-url must be an http:\/\/ or https:\/\/ URL/);
    const tokenOnly = run(['serve', '--config', config, '--control-plane-token', TOKEN]);
    expect(tokenOnly.status).toBe(2);
    expect(tokenOnly.stderr).toMatch(/--control-plane-token needs --control-plane-url/);
    expect(tokenOnly.stderr).not.toContain(TOKEN);
  });

  it('hosts the functions on one port, with the edge token, until SIGTERM', async () => {
    const port = await freePort();
    const dataDir = join(dir, 'cp-data');
    const child = spawn(
      process.execPath,
      [cliPath(), 'control-plane', 'serve', '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir],
      { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, FTPX_EDGE_TOKEN: TOKEN } },
    );
    let stderr = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (text: string) => {
      stderr += text;
    });
    const clients: HttpControlPlane[] = [];
    try {
      await waitForStart(
        child,
        () => stderr.includes(`ftpx: control plane listening on http://127.0.0.1:${port}\n`),
        'the control plane',
      );
      const client = (token?: string) => {
        const created = createHttpControlPlane({
          url: `http://127.0.0.1:${port}`,
          ...(token ? { token } : {}),
          timeoutMs: 2000,
          retries: 0,
          log: silentLogger,
        });
        clients.push(created);
        return created;
      };
      const resolve = { pool: 'p', policy: 'RoundRobin' as const, backends: ['ftp://a:21', 'ftp://b:21'] };
      const picks = [];
      for (let i = 0; i < 3; i++)
        picks.push((await client(TOKEN).resolveBackend(resolve)).candidates[0]?.index);
      expect(picks).toEqual([0, 1, 0]);
      await expect(client().resolveBackend(resolve)).rejects.toThrow(/HTTP 401/);
      expect(existsSync(join(dataDir, 'dynamodb'))).toBe(true);
      // The registry API is on the same port, with its document.
      const openapi = await request(`http://127.0.0.1:${port}/openapi.json`);
      expect(openapi.statusCode).toBe(200);
      expect(((await openapi.body.json()) as { openapi?: string }).openapi).toMatch(/^3\./);
      expect(stderr).not.toContain(TOKEN);
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      await Promise.all(clients.map((c) => c.close()));
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
});

/**
 * An edge worker process started with --control-plane-url reports its LeastConns sessions to the
 * control plane; killed with SIGKILL it cannot say they ended, and its lease expires instead.
 */
describe('a killed edge worker process', () => {
  const LEASE_TTL_MS = 6000;
  let store: EmbeddedStoreServer;
  let table: Table;
  let host: ControlPlaneHost;
  let backends: FtpBackend[];
  let dir: string;
  let client: HttpControlPlane;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ftpx-cp-kill-'));
    store = await startEmbeddedStore(undefined);
    table = { client: createDynamoDbClient({ endpoint: store.endpoint, region: 'us-east-1' }), name: 'ftpx' };
    await ensureTable(table);
    host = await startControlPlaneHost({
      listen: { host: '127.0.0.1', port: 0 },
      table,
      edgeToken: TOKEN,
      leaseTtlMs: LEASE_TTL_MS,
      log: new Logger({ write: () => {} }),
    });
    backends = await Promise.all(
      ['x', 'y'].map((name) => startFtpBackend('proftpd', { name: `kill-${name}` })),
    );
    client = createHttpControlPlane({
      url: host.url,
      token: TOKEN,
      timeoutMs: 2000,
      retries: 1,
      log: silentLogger,
    });
  });

  afterAll(async () => {
    await client?.close();
    await host?.close();
    await Promise.all((backends ?? []).map((backend) => backend.stop()));
    table?.client.destroy();
    await store?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Which backend LeastConns puts first, as any edge worker would be told. */
  const leastConnsFirst = async () => {
    const { candidates } = await client.resolveBackend({
      pool: 'main',
      policy: 'LeastConns',
      backends: backends.map((backend) => backend.url),
    });
    return candidates[0]?.index;
  };

  it('leaves its connection counts behind only until the lease expires', async () => {
    const port = await freePort();
    const config = join(dir, 'edge.yaml');
    await writeFile(
      config,
      [
        'log: { level: info }',
        'listeners:',
        `  - { address: 127.0.0.1, port: ${port}, pool: main }`,
        'pools:',
        '  - name: main',
        '    connectPolicy: LeastConns',
        `    backends: [${backends.map((backend) => backend.url).join(', ')}]`,
        '',
      ].join('\n'),
    );
    let worker: ProxyProcess | undefined;
    let ftp: RawFtp | undefined;
    try {
      worker = await startProxyProcess({
        args: ['serve', '--config', config, '--control-plane-url', host.url, '--control-plane-token', TOKEN],
        port,
      });
      // One session held open through the worker process.
      ftp = await RawFtp.open(port);
      const banner = await ftp.reply();
      const loaded = backends.findIndex((backend) => banner?.includes(backend.name));
      expect(loaded, String(banner)).toBeGreaterThanOrEqual(0);
      const connectedAt = Date.now();
      const other = 1 - loaded;
      // Its connect event reaches the control plane: every worker is now told the other backend.
      await until(async () => (await leastConnsFirst()) === other, 5000);
      for (let i = 0; i < 5; i++) expect(await leastConnsFirst()).toBe(other);

      process.kill(worker.pid, 'SIGKILL');
      ftp.destroy();
      // Dead, it sent no "ended": the count stays until the lease runs out...
      for (let i = 0; i < 5; i++) expect(await leastConnsFirst()).toBe(other);
      // ...and then it is gone: both backends tie again (ties are broken at random).
      await until(async () => (await leastConnsFirst()) === loaded, LEASE_TTL_MS + 10_000);
      expect(Date.now() - connectedAt).toBeGreaterThanOrEqual(LEASE_TTL_MS - 1000);
      expect(worker.stderr()).not.toContain(TOKEN);
    } finally {
      ftp?.destroy();
      await worker?.stop();
    }
  });
});

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
