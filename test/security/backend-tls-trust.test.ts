import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleValue } from '../../edge-worker/admin/edge-metrics.js';
import { configSchema } from '../../edge-worker/config/schema.js';
import { Logger } from '../../edge-worker/log/logger.js';
import { type RunningEdgeWorker, startEdgeWorker } from '../../edge-worker/runtime/edge-worker.js';
import { createDynamoDbClient } from '../../functions/core/store/dynamodb-client.js';
import { ensureTable, type Table } from '../../functions/core/store/table.js';
import { readStats } from '../../functions/core/store/tls-cache/cache-stats.js';
import { type FtpBackend, startFtpBackend, writeHomeFile } from '../support/ftp-backends.js';
import { curl } from '../support/ftp-clients.js';
import { freePort } from '../support/ports.js';
import { type ProxyProcess, startProxyProcess } from '../support/proxy-process.js';
import { RawFtp } from '../support/raw-ftp.js';
import { createTestCa, type TestCa } from '../support/test-ca.js';
import { dynaliteStore, type StoreServer } from '../support/test-stores.js';

/**
 * Hole 2 of issue 14: a cached backend TLS session carries the verification result of the pool
 * that made it (OpenSSL does not verify a resumed session again, and Node skips the name check).
 * Pool `trusting` trusts the CA of a ProFTPD mod_tls backend; pool `other-ca` (same backend,
 * verifyServer on) trusts another CA only, so it must refuse that backend. The attack: let the
 * trusting pool log in first, so a session of the backend is cached locally and in the store,
 * then come in through the other pool, whose connect would resume that session. It must still be
 * refused, on the same edge worker and on another worker process sharing the store, under TLS 1.2
 * (session IDs and tickets) and TLS 1.3 (tickets); the trusting pool keeps working and resuming.
 */

const TABLE = 'backend-tls-trust';
const PROTOCOLS = ['TLSv1.2', 'TLSv1.3'] as const;
type Protocol = (typeof PROTOCOLS)[number];
/** What Node says when the chain does not lead to a trusted CA. */
const UNTRUSTED = /unable to verify the first certificate|unable to get local issuer certificate/i;

let backendCa: TestCa;
let otherCa: TestCa;
let backend: FtpBackend;
let store: StoreServer;
let table: Table;
const scratch: string[] = [];

beforeAll(async () => {
  [backendCa, otherCa, store] = await Promise.all([createTestCa(), createTestCa(), dynaliteStore.start()]);
  backend = await startFtpBackend('proftpd', {
    name: 'tls-trust',
    tls: { cert: backendCa.server.cert, key: backendCa.server.key },
  });
  await writeHomeFile(backend, 'whoami.txt', backend.name);
  table = { client: createDynamoDbClient({ endpoint: store.endpoint, region: 'us-east-1' }), name: TABLE };
  await ensureTable(table);
}, 60_000);

afterAll(async () => {
  await backend?.stop();
  table?.client.destroy();
  await store?.close();
  await Promise.all([backendCa?.remove(), otherCa?.remove()]);
  await Promise.all(scratch.map((dir) => rm(dir, { recursive: true, force: true })));
});

/** The pools' backend TLS settings: the same but for the CA each trusts. */
const poolTls = (ca: TestCa, protocols: Protocol) => ({
  caFile: ca.caCert,
  verifyServer: true,
  protocols,
  enableDiags: true,
});
const trustingPool = (protocols: Protocol) => ({
  name: 'trusting',
  backends: [backend.url],
  retryCount: 1,
  tls: poolTls(backendCa, protocols),
});
const otherCaPool = (protocols: Protocol) => ({
  name: 'other-ca',
  backends: [backend.url],
  retryCount: 1,
  tls: poolTls(otherCa, protocols),
});

const listing = (port: number) =>
  curl([`ftp://${backend.user}:${backend.password}@127.0.0.1:${port}/`, '--list-only', '--max-time', '20']);
const whoami = (port: number) =>
  curl([`ftp://${backend.user}:${backend.password}@127.0.0.1:${port}/whoami.txt`, '--max-time', '20']);

/** The honest pool lists the backend's home and reads a file through it. */
async function expectServed(port: number): Promise<void> {
  const list = await listing(port);
  expect(list.stdout.toString()).toContain('whoami.txt');
  expect((await whoami(port)).stdout.toString()).toBe(backend.name);
}

/** The other pool's client gets no backend: 421 at the banner, nothing listed. */
async function expectRefused(port: number): Promise<void> {
  const raw = await RawFtp.open(port);
  expect(await raw.reply()).toMatch(/^421 /);
  expect(await raw.closed()).toBe(true);
  const list = await listing(port);
  expect(list.code).not.toBe(0);
  expect(list.stdout.toString()).not.toContain('whoami.txt');
}

/** Waits until the store took another backend session (puts run in the background, TLS 1.3 after the ticket). */
async function storedAfter(before: number, what: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while ((await readStats(table, 'backend-sessions')).stats.stored <= before) {
    if (Date.now() > deadline) throw new Error(`no backend session of ${what} reached the store`);
    await delay(50);
  }
}

const storeStats = () => readStats(table, 'backend-sessions');

/** One edge worker in this process with a listener per pool, on the shared store. */
async function startTwoPoolWorker(protocols: Protocol): Promise<{
  worker: RunningEdgeWorker;
  trustingPort: number;
  otherPort: number;
  logs(): Record<string, unknown>[];
  close(): Promise<void>;
}> {
  const dataDir = await mkdtemp(join(tmpdir(), 'ftpx-backend-trust-'));
  scratch.push(dataDir);
  const config = configSchema.parse({
    dataDir,
    store: { endpoint: store.endpoint, table: TABLE },
    listeners: [
      { address: '127.0.0.1', port: 0, pool: 'trusting' },
      { address: '127.0.0.1', port: 0, pool: 'other-ca' },
    ],
    pools: [trustingPool(protocols), otherCaPool(protocols)],
  });
  const lines: string[] = [];
  const worker = await startEdgeWorker(config, new Logger({ write: (line) => lines.push(line) }, 'debug'));
  const [trusting, other] = worker.listeners;
  if (!trusting || !other) throw new Error('the worker has not both listeners');
  return {
    worker,
    trustingPort: trusting.port,
    otherPort: other.port,
    logs: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
    close: () => worker.close(),
  };
}

const handshakes = (logs: Record<string, unknown>[]) =>
  logs.filter((line) => line.msg === 'backend TLS handshake');
const connectFailures = (logs: Record<string, unknown>[]) =>
  logs.filter((line) => line.msg === 'backend connect failed').map((line) => String(line.reason));

describe('a cached backend TLS session is resumed only under the trust settings that verified it', () => {
  for (const protocols of PROTOCOLS) {
    it(`on one worker, ${protocols}: the other pool stays refused after the trusting pool logged in`, async () => {
      const proxy = await startTwoPoolWorker(protocols);
      try {
        const lookups = (result: string) =>
          sampleValue(proxy.worker.metrics.tlsCacheLookups, { cache: 'backend-sessions', result });
        // A fresh start: the other pool refuses the backend (its CA did not sign it).
        await expectRefused(proxy.otherPort);
        expect(connectFailures(proxy.logs()).length).toBeGreaterThan(0);
        expect(connectFailures(proxy.logs()).every((reason) => UNTRUSTED.test(reason))).toBe(true);

        const stored = (await storeStats()).stats.stored;
        await expectServed(proxy.trustingPort);
        expect(handshakes(proxy.logs())[0]).toMatchObject({ protocol: protocols, reused: false });
        await storedAfter(stored, `the trusting pool (${protocols})`);

        // The attack: the trusting pool's session is in this worker and in the store.
        const entries = (await storeStats()).entries;
        const hits = await lookups('hit');
        const failures = connectFailures(proxy.logs()).length;
        for (let attempt = 0; attempt < 2; attempt++) await expectRefused(proxy.otherPort);
        const reasons = connectFailures(proxy.logs()).slice(failures);
        expect(reasons.length).toBeGreaterThanOrEqual(2);
        for (const reason of reasons) expect(reason).toMatch(UNTRUSTED);
        // No lookup of the other pool found the trusting pool's session, and it stored nothing.
        expect(await lookups('hit')).toBe(hits);
        expect((await storeStats()).entries).toBe(entries);

        // The honest pool still works and resumes its own cached session.
        const before = handshakes(proxy.logs()).length;
        await expectServed(proxy.trustingPort);
        const control = handshakes(proxy.logs())[before];
        expect(control).toMatchObject({ protocol: protocols, reused: true });
      } finally {
        await proxy.close();
      }
    }, 120_000);
  }

  describe('across two worker processes sharing one store (ftpx serve)', () => {
    const started: ProxyProcess[] = [];
    afterAll(async () => {
      for (const proxy of started.reverse()) await proxy.stop();
    });

    /** `ftpx serve` with one pool, on the test's store, logging each backend handshake. */
    const serve = async (pool: Record<string, unknown>): Promise<ProxyProcess> => {
      const dir = await mkdtemp(join(tmpdir(), 'ftpx-backend-trust-cli-'));
      scratch.push(dir);
      const port = await freePort('127.0.0.1');
      const config = join(dir, 'ftpx.yaml');
      // YAML is a superset of JSON.
      await writeFile(
        config,
        JSON.stringify({
          dataDir: join(dir, 'data'),
          log: { level: 'info' },
          store: { endpoint: store.endpoint, table: TABLE },
          listeners: [{ address: '127.0.0.1', port, pool: pool.name }],
          pools: [pool],
        }),
      );
      const proxy = await startProxyProcess({ args: ['serve', '--config', config], port });
      started.push(proxy);
      return proxy;
    };
    const logsOf = (proxy: ProxyProcess) =>
      proxy
        .stderr()
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>);

    for (const protocols of PROTOCOLS) {
      it(`${protocols}: the other process's pool stays refused after the trusting process logged in`, async () => {
        const [trusting, other] = await Promise.all([
          serve(trustingPool(protocols)),
          serve(otherCaPool(protocols)),
        ]);
        await expectRefused(other.port);

        const stored = (await storeStats()).stats.stored;
        await expectServed(trusting.port);
        await storedAfter(stored, `the trusting process (${protocols})`);
        const entries = (await storeStats()).entries;

        const failures = connectFailures(logsOf(other)).length;
        for (let attempt = 0; attempt < 2; attempt++) await expectRefused(other.port);
        const reasons = connectFailures(logsOf(other)).slice(failures);
        expect(reasons.length).toBeGreaterThanOrEqual(2);
        for (const reason of reasons) expect(reason).toMatch(UNTRUSTED);
        // The other process never completed a handshake with the backend, and stored nothing.
        expect(handshakes(logsOf(other))).toEqual([]);
        expect((await storeStats()).entries).toBe(entries);

        // The trusting process resumes its session from its cache, as before.
        const before = handshakes(logsOf(trusting)).length;
        await expectServed(trusting.port);
        expect(handshakes(logsOf(trusting))[before]).toMatchObject({ protocol: protocols, reused: true });
        await Promise.all([trusting.stop(), other.stop()]);
      }, 120_000);
    }
  });
});
