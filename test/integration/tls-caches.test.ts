import { type ChildProcess, spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { type AddressInfo, createServer as createNetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { createServer, type Server } from 'node:tls';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommandGroup } from '../../edge-worker/cli/admin/command.js';
import { tlsCacheCommands } from '../../edge-worker/cli/admin/tls-cache.js';
import { listenerTlsSchema } from '../../edge-worker/config/tls-schema.js';
import type {
  ClosableControlPlaneClient,
  ControlPlaneClient,
} from '../../edge-worker/control-plane/control-plane-client.js';
import { createHttpControlPlane } from '../../edge-worker/control-plane/http-transport.js';
import { createInProcessControlPlane } from '../../edge-worker/control-plane/in-process-transport.js';
import { silentLogger } from '../../edge-worker/log/logger.js';
import {
  attachFrontendTlsCaches,
  type FrontendTlsCaches,
  frontendTlsServerOptions,
} from '../../edge-worker/tls/frontend-caches.js';
import { FrontendTls } from '../../edge-worker/tls/frontend-tls-context.js';
import { listenerTlsHook } from '../../edge-worker/tls/listener-tls-hook.js';
import { type FrontendTlsCacheSettings, tlsCacheSettings } from '../../edge-worker/tls/tls-cache-settings.js';
import type { TlsCacheInfo } from '../../functions/contract/tls-cache.js';
import { createToken } from '../../functions/core/registry/api-tokens.js';
import { keyOf } from '../../functions/core/store/attributes.js';
import { createDynamoDbClient } from '../../functions/core/store/dynamodb-client.js';
import { tlsCacheKeys } from '../../functions/core/store/keys.js';
import { ensureTable, type Table } from '../../functions/core/store/table.js';
import { cacheInfo, clearCache } from '../../functions/core/tls-cache/admin.js';
import { readOcspSource } from '../../functions/core/tls-cache/ocsp-entry.js';
import { type ControlPlaneHost, startControlPlaneHost } from '../../functions/http-host/host.js';
import { createRegistryHandler } from '../../functions/registry/handler.js';
import { repoRoot } from '../support/binaries.js';
import { cliPath } from '../support/proxy-process.js';
import { runCommand } from '../support/run-command.js';
import { createTestCaOcsp, type IssuedCertificate, type TestCaOcsp } from '../support/test-ca-ocsp.js';
import { dynaliteStore, type StoreServer } from '../support/test-stores.js';
import { bufferIo } from '../unit/edge-worker/cli/fake-api.js';

/**
 * mod_tls_shmcache's job across processes: edge workers (here: tls.Servers, each with its own
 * control-plane client and store connection, sharing one dynalite store) resume each other's TLS
 * sessions and tickets, and staple OCSP responses from the shared cache. Real clients: openssl
 * s_client; real responder: openssl ocsp.
 */

const TABLE = 'tls-caches';

interface Worker {
  name: string;
  server: Server;
  port: number;
  caches: FrontendTlsCaches;
  clock: { offsetMs: number };
}

let store: StoreServer;
let ca: TestCaOcsp;
let cert: IssuedCertificate;
let work: string;
const workers: Worker[] = [];
let adminTable: Table;
/** The control plane over HTTP (`ftpx control-plane serve`), for workers that use the HTTP transport. */
let host: ControlPlaneHost;
const EDGE_TOKEN = 'tls-cache-edge-token-0123456789abcdef';
const BOOTSTRAP = 'tls-cache-bootstrap-token-0123456789';
const httpClients: ClosableControlPlaneClient[] = [];

async function startWorker(
  name: string,
  certificate: IssuedCertificate,
  settings: FrontendTlsCacheSettings,
  options: {
    caches?: boolean;
    transport?: 'in-process' | 'http';
    /** Another control plane URL for the HTTP transport (default: the test's host). */
    controlPlaneUrl?: string;
    offsetMs?: number;
    awaitReady?: boolean;
  } = {},
): Promise<Worker> {
  const table: Table = {
    client: createDynamoDbClient({ endpoint: store.endpoint, region: 'us-east-1' }),
    name: TABLE,
  };
  let controlPlane: ControlPlaneClient = createInProcessControlPlane(table);
  if (options.transport === 'http') {
    const http = createHttpControlPlane({
      url: options.controlPlaneUrl ?? host.url,
      token: EDGE_TOKEN,
      timeoutMs: 5000,
      retries: options.controlPlaneUrl ? 0 : 1,
      log: silentLogger,
    });
    httpClients.push(http);
    controlPlane = http;
  }
  const identity = { certPem: certificate.certPem, issuerPem: ca.caPem };
  const server = createServer({
    cert: certificate.certPem,
    key: certificate.keyPem,
    ...frontendTlsServerOptions(settings, identity),
  });
  // An implicit-FTPS-style greeting, then close: s_client has read the session (and any ticket) by then.
  server.on('secureConnection', (socket) => {
    socket.on('error', () => undefined);
    socket.end('220 ftpx test\r\n');
  });
  server.on('tlsClientError', () => undefined);
  const clock = { offsetMs: options.offsetMs ?? 0 };
  const caches =
    options.caches === false
      ? {
          ticketKeyEpoch: undefined,
          ready: Promise.resolve(),
          ticketKeyReady: Promise.resolve(),
          flushStats: async () => {},
          close: () => {},
        }
      : attachFrontendTlsCaches(server, identity, {
          controlPlane,
          settings,
          log: silentLogger,
          now: () => Date.now() + clock.offsetMs,
        });
  if (options.awaitReady !== false) await caches.ready;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const worker = { name, server, port: (server.address() as AddressInfo).port, caches, clock };
  workers.push(worker);
  return worker;
}

async function sClient(worker: Worker, args: string[]): Promise<string> {
  const result = await runCommand(
    'openssl',
    [
      's_client',
      '-connect',
      `127.0.0.1:${worker.port}`,
      '-servername',
      'localhost',
      '-CAfile',
      join(ca.dir, 'ca.crt'),
      '-verify_return_error',
      '-ign_eof',
      ...args,
    ],
    { timeoutMs: 20_000 },
  );
  const text = `${result.stdout.toString('utf8')}\n${result.stderr}`;
  // The greeting server closes after its line; over TLS 1.3 s_client may report that as an
  // unexpected EOF (exit 1) after a complete handshake, which the summary line proves.
  if (result.code !== 0 && !/^(New|Reused), TLSv/m.test(text)) {
    throw new Error(`s_client failed (${result.code}): ${text}`);
  }
  return text;
}

/** "New" or "Reused", and the protocol, from s_client's summary line. */
function handshake(output: string): { reused: boolean; protocol: string } {
  const match = /^(New|Reused), (TLSv1\.[23])/m.exec(output);
  if (!match) throw new Error(`no session line in s_client output: ${output}`);
  return { reused: match[1] === 'Reused', protocol: match[2] as string };
}

async function sessions(): Promise<TlsCacheInfo> {
  return cacheInfo(adminTable, 'sessions', { verbose: true, nowMs: Date.now() });
}

/** Waits for a background write (newSession puts are not awaited by the handshake). */
async function until<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await delay(50);
  }
}

const sessionSettings = tlsCacheSettings({ stapling: { enabled: false } });

beforeAll(async () => {
  [store, ca] = await Promise.all([dynaliteStore.start(), createTestCaOcsp()]);
  adminTable = {
    client: createDynamoDbClient({ endpoint: store.endpoint, region: 'us-east-1' }),
    name: TABLE,
  };
  await ensureTable(adminTable);
  host = await startControlPlaneHost({
    listen: { host: '127.0.0.1', port: 0 },
    table: adminTable,
    edgeToken: EDGE_TOKEN,
    registry: createRegistryHandler({ table: adminTable, bootstrapToken: BOOTSTRAP, log: () => {} }),
    log: silentLogger,
  });
  cert = await ca.issue('localhost');
  work = await mkdtemp(join(tmpdir(), 'ftpx-tls-caches-'));
}, 60_000);

afterAll(async () => {
  for (const worker of workers) {
    // Flushed first, so close() has nothing left to send to a store that is about to stop.
    await worker.caches.flushStats();
    worker.caches.close();
    await new Promise<void>((resolve) => worker.server.close(() => resolve()));
  }
  await Promise.all([
    store?.close(),
    ca?.close(),
    work ? rm(work, { recursive: true, force: true }) : undefined,
  ]);
});

describe('shared TLS session cache', () => {
  let a: Worker;
  let b: Worker;
  beforeAll(async () => {
    a = await startWorker('a', cert, sessionSettings);
    // b reaches the store through the control plane's HTTP route, as a worker on another machine does.
    b = await startWorker('b', cert, sessionSettings, { transport: 'http' });
  });

  it('resumes a TLS 1.2 session ID created on one worker on another, and counts it', async () => {
    const file = join(work, 'tls12.sess');
    const before = (await sessions()).stats;
    const first = handshake(await sClient(a, ['-tls1_2', '-no_ticket', '-sess_out', file]));
    expect(first).toEqual({ reused: false, protocol: 'TLSv1.2' });
    const stored = await until(sessions, (info) => info.stats.stored > before.stored);
    expect(stored.stats.stored).toBe(before.stored + 1);
    expect(stored.items?.some((item) => item.protocol === 'TLSv1.2')).toBe(true);

    const second = handshake(await sClient(b, ['-tls1_2', '-no_ticket', '-sess_in', file]));
    expect(second).toEqual({ reused: true, protocol: 'TLSv1.2' });
    const afterB = await sessions();
    expect(afterB.stats.hits).toBe(before.hits + 1);

    // Again on b: its local LRU answers; the hit reaches the shared statistics with the next flush.
    expect(handshake(await sClient(b, ['-tls1_2', '-no_ticket', '-sess_in', file])).reused).toBe(true);
    await b.caches.flushStats();
    expect((await sessions()).stats.hits).toBe(before.hits + 2);
  });

  it('counts a session the store never saw as a miss (full handshake)', async () => {
    const lone = await startWorker('lone', cert, sessionSettings, { caches: false });
    const file = join(work, 'lone.sess');
    handshake(await sClient(lone, ['-tls1_2', '-no_ticket', '-sess_out', file]));
    const before = (await sessions()).stats;
    expect(handshake(await sClient(a, ['-tls1_2', '-no_ticket', '-sess_in', file])).reused).toBe(false);
    expect((await sessions()).stats.misses).toBe(before.misses + 1);
  });

  it('resumes a TLS 1.3 ticket issued on one worker on another (shared ticket keys)', async () => {
    expect(a.caches.ticketKeyEpoch).toBeDefined();
    expect(a.caches.ticketKeyEpoch).toBe(b.caches.ticketKeyEpoch);
    expect(a.server.getTicketKeys().equals(b.server.getTicketKeys())).toBe(true);
    const file = join(work, 'tls13.sess');
    expect(handshake(await sClient(a, ['-tls1_3', '-sess_out', file]))).toEqual({
      reused: false,
      protocol: 'TLSv1.3',
    });
    expect(handshake(await sClient(b, ['-tls1_3', '-sess_in', file]))).toEqual({
      reused: true,
      protocol: 'TLSv1.3',
    });
  });

  it('rotates the ticket key on every worker at the same boundary; tickets of the previous key get a full handshake', async () => {
    // Worker clocks 3 s before a one-minute boundary (the control plane's clock is real time).
    const periodMs = 60_000;
    const realNow = Date.now();
    const boundary = (Math.floor(realNow / periodMs) + 1) * periodMs;
    const rotating = tlsCacheSettings({ tickets: { rotateEveryS: 60 }, stapling: { enabled: false } });
    const offsetMs = boundary - 3000 - realNow;
    const [r1, r2] = await Promise.all([
      startWorker('r1', cert, rotating, { offsetMs }),
      startWorker('r2', cert, rotating, { offsetMs }),
    ]);
    const epoch = r1.caches.ticketKeyEpoch as number;
    expect(epoch).toBe(Math.floor(realNow / periodMs));
    const before = r1.server.getTicketKeys();
    expect(r2.server.getTicketKeys().equals(before)).toBe(true);
    const old = join(work, 'before-rotation.sess');
    handshake(await sClient(r1, ['-tls1_3', '-sess_out', old]));

    // The old ticket was issued before the switch (the workers started well within the 3 s).
    expect(Date.now() - realNow).toBeLessThan(3000);
    await until(
      async () => [r1.caches.ticketKeyEpoch, r2.caches.ticketKeyEpoch],
      (epochs) => epochs.every((value) => value === epoch + 1),
    );
    expect([r1.caches.ticketKeyEpoch, r2.caches.ticketKeyEpoch]).toEqual([epoch + 1, epoch + 1]);
    const after = r1.server.getTicketKeys();
    expect(after.equals(before)).toBe(false);
    expect(r2.server.getTicketKeys().equals(after)).toBe(true);

    const fresh = join(work, 'after-rotation.sess');
    handshake(await sClient(r1, ['-tls1_3', '-sess_out', fresh]));
    expect(handshake(await sClient(r2, ['-tls1_3', '-sess_in', fresh])).reused).toBe(true);
    // Node holds one ticket key: a ticket of the previous period no longer decrypts (docs/tls-caches.md).
    expect(handshake(await sClient(r2, ['-tls1_3', '-sess_in', old])).reused).toBe(false);
  });

  it("a listener is ready only once it holds the shared ticket key, so its first clients' tickets resume everywhere", async () => {
    // The control plane answers the ticket-key call late, as a loaded store does at start-up.
    const table: Table = {
      client: createDynamoDbClient({ endpoint: store.endpoint, region: 'us-east-1' }),
      name: TABLE,
    };
    const direct = createInProcessControlPlane(table);
    const slow: ControlPlaneClient = {
      ...direct,
      tlsCache: async (request) => {
        if (request.op === 'ticket-keys') await delay(400);
        return direct.tlsCache(request);
      },
    };
    const hook = listenerTlsHook({ controlPlane: slow, settings: sessionSettings, log: silentLogger });
    const config = listenerTlsSchema.parse({ certificates: [{ cert: cert.certFile, key: cert.keyFile }] });
    const listener = await FrontendTls.load(config, 'listeners[0].tls', hook);
    try {
      expect(listener.server.getTicketKeys().equals(a.server.getTicketKeys())).toBe(true);
    } finally {
      await listener.close();
      table.client.destroy();
    }
  });

  it('does not resume a TLS 1.3 ticket on a worker with its own ticket key', async () => {
    const lone = workers.find((worker) => worker.name === 'lone') as Worker;
    const file = join(work, 'tls13-lone.sess');
    handshake(await sClient(a, ['-tls1_3', '-sess_out', file]));
    expect(handshake(await sClient(lone, ['-tls1_3', '-sess_in', file])).reused).toBe(false);
  });

  it('expires sessions after the timeout', async () => {
    const short = tlsCacheSettings({
      sessions: { timeoutS: 2, localTtlMs: 500 },
      stapling: { enabled: false },
    });
    const c = await startWorker('c', cert, short);
    const d = await startWorker('d', cert, short);
    const file = join(work, 'short.sess');
    const before = (await sessions()).stats;
    handshake(await sClient(c, ['-tls1_2', '-no_ticket', '-sess_out', file]));
    await until(sessions, (info) => info.stats.stored > before.stored);
    await delay(2600);
    expect(handshake(await sClient(d, ['-tls1_2', '-no_ticket', '-sess_in', file])).reused).toBe(false);
    const after = (await sessions()).stats;
    expect(after.expired).toBe(before.expired + 1);
  });

  it('counts a session larger than the entry limit as exceeded, keeps it on its worker only', async () => {
    const tiny = tlsCacheSettings({ sessions: { maxEntryBytes: 64 }, stapling: { enabled: false } });
    const e = await startWorker('e', cert, tiny);
    const file = join(work, 'big.sess');
    const before = (await sessions()).stats;
    handshake(await sClient(e, ['-tls1_2', '-no_ticket', '-sess_out', file]));
    const after = await until(sessions, (info) => info.stats.exceeded > before.exceeded);
    expect(after.stats.exceeded).toBe(before.exceeded + 1);
    expect(after.stats.exceededMaxBytes).toBeGreaterThan(64);
    expect(after.stats.stored).toBe(before.stored);
    expect(handshake(await sClient(e, ['-tls1_2', '-no_ticket', '-sess_in', file])).reused).toBe(true);
    expect(handshake(await sClient(b, ['-tls1_2', '-no_ticket', '-sess_in', file])).reused).toBe(false);
  });

  it('never holds a handshake longer than the lookup deadline when the control plane hangs', async () => {
    // A control plane that accepts connections and never answers.
    const held: Socket[] = [];
    const silent = createNetServer((socket) => held.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const hung = await startWorker('hung', cert, sessionSettings, {
        transport: 'http',
        controlPlaneUrl: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`,
        awaitReady: false,
      });
      const file = join(work, 'hung.sess');
      handshake(await sClient(a, ['-tls1_2', '-no_ticket', '-sess_out', file]));
      const started = Date.now();
      expect(handshake(await sClient(hung, ['-tls1_2', '-no_ticket', '-sess_in', file])).reused).toBe(false);
      // The lookup deadline is 1 s; the transport would wait 5 s.
      expect(Date.now() - started).toBeLessThan(4000);
    } finally {
      for (const socket of held) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('clear empties the shared cache: a cleared session no longer resumes on a worker that never held it', async () => {
    const file = join(work, 'clear.sess');
    handshake(await sClient(a, ['-tls1_2', '-no_ticket', '-sess_out', file]));
    await until(sessions, (info) => info.entries > 0);
    const cleared = await clearCache(adminTable, 'sessions', Date.now());
    expect(cleared.cleared).toBeGreaterThan(0);
    expect((await sessions()).entries).toBe(0);
    const f = await startWorker('f', cert, sessionSettings);
    expect(handshake(await sClient(f, ['-tls1_2', '-no_ticket', '-sess_in', file])).reused).toBe(false);
  });
});

describe('two edge worker processes', () => {
  const children: ChildProcess[] = [];

  /** test/support/tls-cache-worker.ts, built (npm run build), as its own process with its own argv. */
  async function spawnWorker(name: string): Promise<Worker> {
    const child = spawn(
      process.execPath,
      [
        join(repoRoot, 'dist', 'test', 'support', 'tls-cache-worker.js'),
        '--name',
        name,
        '--control-plane',
        host.url,
        '--cert',
        cert.certFile,
        '--key',
        cert.keyFile,
        '--issuer',
        join(ca.dir, 'ca.crt'),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FTPX_CONTROL_PLANE_TOKEN: EDGE_TOKEN } },
    );
    children.push(child);
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (text: string) => {
      stderr += text;
    });
    const port = await new Promise<number>((resolve, reject) => {
      let stdout = '';
      const timer = setTimeout(() => reject(new Error(`worker ${name} did not start: ${stderr}`)), 15_000);
      child.stdout?.setEncoding('utf8').on('data', (text: string) => {
        stdout += text;
        const match = /listening (\d+)/.exec(stdout);
        if (match) {
          clearTimeout(timer);
          resolve(Number(match[1]));
        }
      });
      child.once('exit', (code) => reject(new Error(`worker ${name} exited (${code}): ${stderr}`)));
    });
    return { name, port } as Worker;
  }

  afterAll(async () => {
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
          }),
      ),
    );
  });

  it("resume each other's TLS 1.2 sessions and TLS 1.3 tickets through the control plane over HTTP", async () => {
    const [p1, p2] = await Promise.all([spawnWorker('p1'), spawnWorker('p2')]);
    const tls12 = join(work, 'process.sess');
    expect(handshake(await sClient(p1, ['-tls1_2', '-no_ticket', '-sess_out', tls12])).reused).toBe(false);
    await until(sessions, (info) => info.items?.some((item) => item.protocol === 'TLSv1.2') ?? false);
    expect(handshake(await sClient(p2, ['-tls1_2', '-no_ticket', '-sess_in', tls12]))).toEqual({
      reused: true,
      protocol: 'TLSv1.2',
    });
    const tls13 = join(work, 'process13.sess');
    handshake(await sClient(p2, ['-tls1_3', '-sess_out', tls13]));
    expect(handshake(await sClient(p1, ['-tls1_3', '-sess_in', tls13]))).toEqual({
      reused: true,
      protocol: 'TLSv1.3',
    });
  });
});

describe('OCSP stapling cache', () => {
  const stapling = tlsCacheSettings({ stapling: { enabled: true, timeoutMs: 3000 } });

  function ocspStatus(output: string): { response: string; certStatus?: string } {
    if (/OCSP response: no response sent/.test(output)) return { response: 'none' };
    const status = /OCSP Response Status: (\w+)/.exec(output)?.[1] ?? 'unparsed';
    const certStatus = /Cert Status: (\w+)/.exec(output)?.[1];
    return { response: status, ...(certStatus ? { certStatus } : {}) };
  }

  it('staples the responder answer, keeps stapling it from the shared cache when the responder stops, fakes tryLater once expired', async () => {
    const staple = await ca.issue('staple.test');
    const responder = await ca.startResponder({ nextUpdateMinutes: 10 });
    const g = await startWorker('g', staple, stapling);
    expect(ocspStatus(await sClient(g, ['-status']))).toEqual({ response: 'successful', certStatus: 'good' });
    const info = await cacheInfo(adminTable, 'ocsp', { verbose: true, nowMs: Date.now() });
    const entry = info.items?.find((item) => item.certStatus === 'good');
    expect(entry?.responseStatus).toBe('successful');
    // Stored with what the scheduled refresh needs to ask the responder again (ocsp-refresh).
    const stored = await adminTable.client.send(
      new GetItemCommand({ TableName: TABLE, Key: keyOf(tlsCacheKeys.ocsp(entry?.key ?? '')) }),
    );
    expect(readOcspSource(stored.Item ?? {})).toEqual({
      source: {
        certificate: new X509Certificate(staple.certPem).raw.toString('base64'),
        issuer: new X509Certificate(ca.caPem).raw.toString('base64'),
        responder: ca.ocspUrl,
        nonce: true,
        timeoutMs: 3000,
      },
      limits: { maxEntries: stapling.stapling.maxEntries, maxEntryBytes: stapling.stapling.maxEntryBytes },
    });
    await responder.stop();

    // Another worker, started while the responder is down: it staples from the shared cache.
    const h = await startWorker('h', staple, stapling);
    expect(ocspStatus(await sClient(h, ['-status']))).toEqual({ response: 'successful', certStatus: 'good' });
    // Stale (past half of the 10-minute window): still stapled while a refresh is attempted.
    h.clock.offsetMs = 6 * 60_000;
    expect(ocspStatus(await sClient(h, ['-status']))).toEqual({ response: 'successful', certStatus: 'good' });
    // Past nextUpdate: never stapled again; with no responder, mod_tls's fake tryLater.
    h.clock.offsetMs = 11 * 60_000;
    expect(ocspStatus(await sClient(h, ['-status'])).response).toBe('trylater');
  });

  it('staples a revoked status as revoked', async () => {
    const revoked = await ca.issue('revoked.test');
    await ca.revoke(revoked);
    const responder = await ca.startResponder();
    try {
      const w = await startWorker('revoked', revoked, stapling);
      const output = await runCommand(
        'openssl',
        [
          's_client',
          '-connect',
          `127.0.0.1:${w.port}`,
          '-servername',
          'revoked.test',
          '-CAfile',
          join(ca.dir, 'ca.crt'),
          '-status',
          '-ign_eof',
        ],
        { timeoutMs: 20_000 },
      );
      expect(ocspStatus(output.stdout.toString('utf8'))).toEqual({
        response: 'successful',
        certStatus: 'revoked',
      });
    } finally {
      await responder.stop();
    }
  });

  it('with NoFakeTryLater staples nothing when no response is available, except for a must-staple certificate', async () => {
    const noFake = tlsCacheSettings({ stapling: { enabled: true, timeoutMs: 2000, fakeTryLater: false } });
    const plain = await ca.issue('nofake.test', { ocspUrl: 'http://127.0.0.1:9' });
    const mustStaple = await ca.issue('muststaple.test', { ocspUrl: 'http://127.0.0.1:9', mustStaple: true });
    const p = await startWorker('plain', plain, noFake);
    const m = await startWorker('must', mustStaple, noFake);
    expect(ocspStatus(await sClient(p, ['-status'])).response).toBe('none');
    const output = await runCommand(
      'openssl',
      [
        's_client',
        '-connect',
        `127.0.0.1:${m.port}`,
        '-servername',
        'muststaple.test',
        '-status',
        '-ign_eof',
      ],
      { timeoutMs: 20_000 },
    );
    expect(ocspStatus(output.stdout.toString('utf8')).response).toBe('trylater');
  });
});

describe('ftpx cache info|clear|remove (registry API)', () => {
  let worker: Worker;
  const tokens: Record<string, string> = {};

  async function cache(
    args: string[],
    token: string,
  ): Promise<{ code: number; stdout: string; stderr: string }> {
    const { io, stdout, stderr } = bufferIo({ FTPX_API_URL: host.url, FTPX_API_TOKEN: token });
    const code = await runCommandGroup(tlsCacheCommands, args, io);
    return { code, stdout: stdout(), stderr: stderr() };
  }

  beforeAll(async () => {
    worker = await startWorker('cli', cert, sessionSettings, { transport: 'http' });
    for (const [name, scope, pools] of [
      ['reader', 'read', '*'],
      ['writer', 'write', '*'],
      ['tenant', 'write', ['main']],
    ] as const) {
      const { secret } = await createToken(
        adminTable,
        { name, scope: scope as 'read' | 'write', pools: pools as '*' | string[] },
        Date.now(),
      );
      tokens[name] = secret;
    }
  });

  it('info prints mod_tls_shmcache-style statistics, -v the sessions; clear and remove are authorised by scope', async () => {
    await cache(['remove'], BOOTSTRAP);
    const file = join(work, 'cli.sess');
    handshake(await sClient(worker, ['-tls1_2', '-no_ticket', '-sess_out', file]));
    await until(sessions, (info) => info.entries === 1);

    const info = await cache(['info'], tokens.reader as string);
    expect(info.code).toBe(0);
    expect(info.stdout).toContain('TLS session cache provided by ftpx');
    expect(info.stdout).toContain('Max session cache size: 153\n');
    expect(info.stdout).toMatch(/Current session cache size: 1 \(\d+ bytes\)/);
    expect(info.stdout).toContain('Cache lifetime sessions stored: 1\n');
    expect(info.stdout).not.toContain('BEGIN SSL SESSION PARAMETERS');
    const verbose = await cache(['info', '-v'], tokens.reader as string);
    expect(verbose.stdout).toContain('-----BEGIN SSL SESSION PARAMETERS-----');
    expect(verbose.stdout).toContain('  Protocol: TLSv1.2\n');

    // A token limited to some pools may not see state every pool shares.
    const tenant = await cache(['info'], tokens.tenant as string);
    expect(tenant.code).toBe(1);
    expect(tenant.stderr).toContain('HTTP 403');

    const readerClear = await cache(['clear'], tokens.reader as string);
    expect(readerClear.code).toBe(1);
    expect(readerClear.stderr).toContain('write scope');
    const cleared = await cache(['clear'], tokens.writer as string);
    expect(cleared).toMatchObject({
      code: 0,
      stdout: 'cache: cleared 1 session(s) from the session cache\n',
    });
    expect((await cache(['info'], tokens.reader as string)).stdout).toContain(
      'Current session cache size: 0 (0 bytes)',
    );

    // mod_tls refuses every `remove` (its ACL table lacks the action); here it needs an admin.
    const writerRemove = await cache(['remove'], tokens.writer as string);
    expect(writerRemove.code).toBe(1);
    expect(writerRemove.stderr).toContain('admin');
    const removed = await cache(['remove', '--json'], BOOTSTRAP);
    expect(removed.code).toBe(0);
    expect(JSON.parse(removed.stdout)).toEqual({ kind: 'sessions', cleared: 0, removed: true });
    expect((await cache(['info'], BOOTSTRAP)).stdout).toContain('Cache lifetime sessions stored: 0\n');
  });

  it('--ocsp works on the OCSP response cache, through the built CLI too', async () => {
    const info = await cache(['info', '--ocsp', '-v'], BOOTSTRAP);
    expect(info.code).toBe(0);
    expect(info.stdout).toContain('OCSP response cache provided by ftpx');
    expect(info.stdout).toContain('-----BEGIN OCSP RESPONSE PARAMETERS-----');
    expect(info.stdout).toMatch(/Certificate status: revoked/);
    const cli = await runCommand('env', [
      `FTPX_API_URL=${host.url}`,
      `FTPX_API_TOKEN=${tokens.writer}`,
      process.execPath,
      cliPath(),
      'cache',
      'clear',
      '--ocsp',
    ]);
    expect(cli.stderr).toBe('');
    expect(cli.stdout.toString('utf8')).toMatch(
      /^cache: cleared [1-9]\d* response\(s\) from the OCSP response cache\n$/,
    );
    expect(cli.code).toBe(0);
  });
});
