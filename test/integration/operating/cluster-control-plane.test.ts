import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmbeddedStoreServer, startEmbeddedStore } from '../../../edge-worker/embedded/store-server.js';
import { createDynamoDbClient } from '../../../functions/core/store/dynamodb-client.js';
import { ensureTable, type Table } from '../../../functions/core/store/table.js';
import { type ControlPlaneHost, startControlPlaneHost } from '../../../functions/http-host/host.js';
import { type FtpBackend, startFtpBackend } from '../../support/ftp-backends.js';
import { freePort } from '../../support/ports.js';
import { type ProxyProcess, startProxyProcess } from '../../support/proxy-process.js';
import { RawFtp } from '../../support/raw-ftp.js';

/**
 * What a worker process loads first (NODE_OPTIONS=--import) in worker slot 0: a hostile peer on the
 * cluster's IPC channel. It sends the primary control-plane calls that break the protocol and prints
 * the replies, and feeds its own worker replies that break it; neither process may crash.
 */
const PROBE = `
import cluster from 'node:cluster';
if (cluster.isWorker && process.env.FTPX_WORKER_SLOT === '0') {
  const BIG = 9_000_000_000_000_000;
  process.on('message', (message) => {
    if (message && message.type === 'control-plane-reply' && message.id >= BIG)
      process.stderr.write('IPC-PROBE reply ' + JSON.stringify(message) + '\\n');
  });
  for (const message of [
    { type: 'control-plane', id: BIG + 1, op: 'drop-table', request: {} },
    { type: 'control-plane', id: BIG + 2, op: 'resolve-backend', request: [] },
    { type: 'control-plane', id: BIG + 3, op: 'resolve-backend', request: { pool: 'rr' } },
    { type: 'control-plane', id: 'x', op: 'resolve-backend', request: {} },
  ]) process.send(message);
  setTimeout(() => {
    for (const message of [
      null,
      'control-plane-reply',
      { type: 'control-plane-reply' },
      { type: 'control-plane-reply', id: BIG, result: { candidates: 'all' } },
      { type: 'control-plane-reply', id: 1, error: { message: 7 } },
    ]) process.emit('message', message);
    process.stderr.write('IPC-PROBE fed the worker\\n');
  }, 3000);
}
`;

/**
 * `ftpx serve --workers 2` with the embedded control plane: the workers call the primary's control
 * plane over the cluster's IPC channel. The policies that need state shared by every worker (a
 * RoundRobin cursor, LeastConns counts from session events, PerUser mappings) hold across both
 * workers; a control-plane call that runs out of time fails its own login as it does in one process.
 */
describe('the control plane over the IPC channel of `serve --workers 2`', () => {
  const backends: FtpBackend[] = [];
  let dir: string;
  let hook: Server;
  let cluster: ProxyProcess;
  let single: ProxyProcess;
  const ports: Record<'rr' | 'lc' | 'pu' | 'auth', number> = { rr: 0, lc: 0, pu: 0, auth: 0 };
  const singlePorts = { ...ports };

  const configFile = async (name: string, at: typeof ports) => {
    const urls = backends.map((b) => b.url).join(', ');
    const file = join(dir, `${name}.yaml`);
    await writeFile(
      file,
      [
        `dataDir: ${join(dir, `data-${name}`)}`,
        'log: { level: info }',
        'identityHook:',
        // Never answers: the call outlives the control plane's own deadline (5 s).
        `  url: http://127.0.0.1:${(hook.address() as AddressInfo).port}/`,
        '  allowInsecureHttp: true',
        '  timeoutMs: 30000',
        '  pools: [auth]',
        'listeners:',
        ...Object.entries(at).map(
          ([pool, port]) => `  - { address: 127.0.0.1, port: ${port}, pool: ${pool} }`,
        ),
        'pools:',
        `  - { name: rr, connectPolicy: RoundRobin, backends: [${urls}] }`,
        `  - { name: lc, connectPolicy: LeastConns, backends: [${urls}] }`,
        `  - { name: pu, connectPolicy: PerUser, backends: [${urls}] }`,
        `  - { name: auth, proxyAuth: true, backends: [${urls}] }`,
        '',
      ].join('\n'),
    );
    return file;
  };

  beforeAll(async () => {
    backends.push(
      ...(await Promise.all(
        ['a', 'b', 'c'].map((name) => startFtpBackend('pure-ftpd', { name: `ipc-${name}` })),
      )),
    );
    dir = await mkdtemp(join(tmpdir(), 'ftpx-cluster-ipc-'));
    hook = createServer(() => {
      // Holds every request: the identity hook that never answers.
    });
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
    for (const key of Object.keys(ports) as (keyof typeof ports)[]) {
      ports[key] = await freePort();
      singlePorts[key] = await freePort();
    }
    const probe = join(dir, 'probe.mjs');
    await writeFile(probe, PROBE);
    [cluster, single] = await Promise.all([
      startProxyProcess({
        args: ['serve', '--config', await configFile('cluster', ports), '--workers', '2'],
        port: ports.rr,
        env: { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${probe}` },
      }),
      startProxyProcess({
        args: ['serve', '--config', await configFile('single', singlePorts), '--workers', '1'],
        port: singlePorts.rr,
      }),
    ]);
  }, 90_000);

  afterAll(async () => {
    await Promise.all([cluster?.stop(), single?.stop()]);
    hook?.closeAllConnections();
    hook?.close();
    await Promise.all(backends.map((backend) => backend.stop()));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Which backend served a session: pure-ftpd's banner names it. */
  const served = (banner: string | undefined) => backends.findIndex((b) => banner?.includes(b.name));
  const oneSession = async (port: number) => {
    const ftp = await RawFtp.open(port);
    const banner = await ftp.reply();
    await ftp.command('QUIT');
    ftp.destroy();
    return served(banner);
  };
  /** The "connected to backend" lines of `pool`'s sessions (written after `from`), in order. */
  const connected = (pool: string, from = 0) => {
    const lines = cluster
      .stderr()
      .slice(from)
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const ofPool = new Set(
      lines
        .filter((line) => line.msg === 'session started' && line.pool === pool)
        .map((line) => line.session),
    );
    return lines
      .filter((line) => line.msg === 'connected to backend' && ofPool.has(line.session))
      .map((line) => line as { user?: string; backend: string; worker: number });
  };
  const workersOf = (pool: string) => connected(pool).map((line) => line.worker);

  it('refuses malformed IPC messages in both directions without a crash (400 to a call it can name)', async () => {
    const BIG = 9_000_000_000_000_000;
    await expect
      .poll(() => cluster.stderr().includes('IPC-PROBE fed the worker'), { timeout: 15_000 })
      .toBe(true);
    const replies = cluster
      .stderr()
      .split('\n')
      .filter((line) => line.startsWith('IPC-PROBE reply '))
      .map((line) => JSON.parse(line.slice('IPC-PROBE reply '.length)) as { id: number; error?: unknown })
      // The hostile reply the probe fed its own worker went past its own listener too.
      .filter((reply) => reply.id > BIG);
    expect(replies.map((reply) => reply.id - BIG).sort()).toEqual([1, 2, 3]);
    for (const reply of replies.filter((r) => r.id !== BIG + 3)) {
      expect(reply.error).toEqual({ message: 'malformed call', status: 400 });
    }
    // A well-formed call whose request the contract refuses: the handler's own 400.
    expect(replies.find((r) => r.id === BIG + 3)?.error).toMatchObject({ status: 400 });
    expect(cluster.stderr()).toContain('malformed control-plane call from a worker refused');
    // Both workers still serve (RoundRobin sessions are handed to them in turn).
    for (let i = 0; i < 4; i++) expect(await oneSession(ports.rr)).toBeGreaterThanOrEqual(0);
    expect(cluster.stderr()).not.toContain('worker process exited');
  });

  it('RoundRobin rotates exactly over sessions served by both workers (one shared cursor)', async () => {
    const before = workersOf('rr').length;
    const picks: number[] = [];
    for (let i = 0; i < 12; i++) picks.push(await oneSession(ports.rr));
    const start = picks[0] as number;
    expect(picks).toEqual(picks.map((_, i) => (start + i) % 3));
    await expect.poll(() => workersOf('rr').length).toBe(before + 12);
    expect(new Set(workersOf('rr').slice(before)).size).toBe(2);
  });

  it('LeastConns counts the sessions both workers hold (session events)', async () => {
    const held: { ftp: RawFtp; backend: number }[] = [];
    // A pause between sessions: the `connected` event of one worker's session is in the store before
    // the other worker asks for the next one (the events are fire-and-forget, as over HTTP).
    for (let i = 0; i < 6; i++) {
      const ftp = await RawFtp.open(ports.lc);
      held.push({ ftp, backend: served(await ftp.reply()) });
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const open = (index: number) => held.filter((session) => session.backend === index).length;
    expect([open(0), open(1), open(2)]).toEqual([2, 2, 2]);
    expect(new Set(workersOf('lc')).size).toBe(2);
    // Every session on one backend ends: the next ones (whichever worker takes them) go there.
    const emptied = held[0]?.backend as number;
    for (const session of held.filter((s) => s.backend === emptied)) {
      await session.ftp.command('QUIT');
      session.ftp.destroy();
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    const next: number[] = [];
    for (let i = 0; i < 2; i++) {
      const ftp = await RawFtp.open(ports.lc);
      next.push(served(await ftp.reply()));
      held.push({ ftp, backend: next.at(-1) as number });
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(next).toEqual([emptied, emptied]);
    for (const session of held) session.ftp.destroy();
  });

  it('PerUser keeps each user on one backend whichever worker serves the session', async () => {
    const before = cluster.stderr().length;
    for (let i = 0; i < 16; i++) {
      const ftp = await RawFtp.open(ports.pu);
      expect(await ftp.reply()).toBe('220 FTP proxy ready.');
      expect(await ftp.command(`USER user-${i % 4}`)).toMatch(/^331/);
      await ftp.command('QUIT');
      ftp.destroy();
    }
    const lines = () => connected('pu', before);
    await expect.poll(() => lines().length).toBe(16);
    const byUser = new Map<string, Set<string>>();
    for (const line of lines()) {
      const user = String(line.user);
      byUser.set(user, (byUser.get(user) ?? new Set()).add(line.backend));
    }
    expect(byUser.size).toBe(4);
    for (const [user, picks] of byUser) expect(picks.size, user).toBe(1);
    expect(new Set(lines().map((line) => line.worker)).size).toBe(2);
  });

  it('a call that outlives the deadline fails its login as in one process (530), others keep working', async () => {
    const login = async (port: number) => {
      const ftp = await RawFtp.open(port);
      await ftp.reply();
      await ftp.command('USER alice');
      const started = Date.now();
      const reply = await ftp.command('PASS secret');
      ftp.destroy();
      return { reply, ms: Date.now() - started };
    };
    const slow = [login(ports.auth), login(singlePorts.auth)];
    // Meanwhile, sessions of the other pools are served at once by both workers.
    for (let i = 0; i < 4; i++) expect(await oneSession(ports.rr)).toBeGreaterThanOrEqual(0);
    const [viaIpc, inProcess] = await Promise.all(slow);
    expect(viaIpc?.reply).toMatch(/^530 /);
    expect(viaIpc?.reply).toBe(inProcess?.reply);
    expect(viaIpc?.ms).toBeGreaterThanOrEqual(4500);
    expect(cluster.stderr()).toMatch(
      /"reason":"control plane: control plane authenticate: [^"]*",[^\n]*"msg":"login failed"/,
    );
  }, 30_000);

  it("the primary's active health checks cover the listed backends, and a reload's new ones", async () => {
    const port = await freePort();
    const file = join(dir, 'health.yaml');
    const write = (listed: FtpBackend[]) =>
      writeFile(
        file,
        [
          `dataDir: ${join(dir, 'data-health')}`,
          'log: { level: info }',
          'health: { passive: { enabled: false }, active: { enabled: true, interval: 300ms, timeout: 1s } }',
          'listeners:',
          `  - { address: 127.0.0.1, port: ${port}, pool: hc }`,
          'pools:',
          `  - { name: hc, backends: [${listed.map((b) => b.url).join(', ')}] }`,
          '',
        ].join('\n'),
      );
    const [a, b, c] = backends as [FtpBackend, FtpBackend, FtpBackend];
    await write([a, b]);
    const proxy = await startProxyProcess({ args: ['serve', '--config', file, '--workers', '2'], port });
    try {
      /** The ports of the backends the primary logged a passed check of (keys carry no credentials). */
      const passed = () =>
        new Set(
          proxy
            .stderr()
            .split('\n')
            .filter((line) => line.startsWith('{'))
            .map((line) => JSON.parse(line) as Record<string, unknown>)
            .filter((line) => line.msg === 'health check passed' && line.pool === 'hc')
            .map((line) => Number(/:(\d+)$/.exec(String(line.backend))?.[1])),
        );
      const waitFor = async (ports: number[]) => {
        const started = Date.now();
        while (!ports.every((p) => passed().has(p)) && Date.now() - started < 10_000)
          await new Promise((resolve) => setTimeout(resolve, 50));
        return [...passed()].sort((x, y) => x - y);
      };
      expect(await waitFor([a.port, b.port])).toEqual([a.port, b.port].sort((x, y) => x - y));
      // The primary says "listening on" once its signal handlers exist.
      await expect.poll(() => proxy.stderr().includes('ftpx: listening on')).toBe(true);
      await write([a, b, c]);
      proxy.signal('SIGHUP');
      await expect
        .poll(() => proxy.stderr().includes('"msg":"configuration reloaded"'), { timeout: 10_000 })
        .toBe(true);
      expect(await waitFor([a.port, b.port, c.port])).toEqual([a.port, b.port, c.port].sort((x, y) => x - y));
    } finally {
      await proxy.stop();
    }
  }, 60_000);
});

/** With controlPlane.url the workers keep calling that control plane over HTTP; the primary opens no store. */
describe('`serve --workers 2 --control-plane-url`', () => {
  let backend: FtpBackend;
  let store: EmbeddedStoreServer;
  let table: Table;
  let host: ControlPlaneHost;
  let proxy: ProxyProcess;
  const paths: string[] = [];

  beforeAll(async () => {
    backend = await startFtpBackend('pure-ftpd', { name: 'ipc-remote' });
    store = await startEmbeddedStore(undefined);
    table = { client: createDynamoDbClient({ endpoint: store.endpoint, region: 'us-east-1' }), name: 'ftpx' };
    await ensureTable(table);
    host = await startControlPlaneHost({
      listen: { host: '127.0.0.1', port: 0 },
      table,
      log: {
        debug: (msg, fields) => {
          if (msg === 'request') paths.push(String(fields?.path));
        },
        info: () => {},
        warn: () => {},
        error: () => {},
      },
    });
    const port = await freePort();
    proxy = await startProxyProcess({
      args: [
        'serve',
        '--workers',
        '2',
        '--control-plane-url',
        host.url,
        '--config',
        await remoteConfig(port),
      ],
      port,
    });
  }, 90_000);

  let dir: string | undefined;
  const remoteConfig = async (port: number) => {
    dir = await mkdtemp(join(tmpdir(), 'ftpx-cluster-remote-'));
    const file = join(dir, 'ftpx.yaml');
    await writeFile(
      file,
      [
        `dataDir: ${join(dir, 'data')}`,
        'log: { level: info }',
        'listeners:',
        `  - { address: 127.0.0.1, port: ${port}, pool: main }`,
        'pools:',
        `  - { name: main, backends: [${backend.url}] }`,
        '',
      ].join('\n'),
    );
    return file;
  };

  afterAll(async () => {
    await proxy?.stop();
    await host?.close();
    table?.client.destroy();
    await store?.close();
    await backend?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('resolves every login through the remote control plane, from both workers', async () => {
    for (let i = 0; i < 4; i++) {
      const ftp = await RawFtp.open(proxy.port);
      expect(await ftp.reply()).toContain(backend.name);
      await ftp.command('QUIT');
      ftp.destroy();
    }
    expect(paths.filter((path) => path === '/v1/resolve-backend')).toHaveLength(4);
    expect(proxy.stderr().match(/"msg":"control plane is remote"/g)).toHaveLength(2);
    expect(proxy.stderr()).not.toContain('over IPC');
  });
});
