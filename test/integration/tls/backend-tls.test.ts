import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleValue } from '../../../edge-worker/admin/edge-metrics.js';
import { ConfigError } from '../../../edge-worker/config/config-error.js';
import { backendTlsSchema } from '../../../edge-worker/config/tls-schema.js';
import { silentLogger } from '../../../edge-worker/log/logger.js';
import { BackendTls } from '../../../edge-worker/tls/backend-tls-context.js';
import { createDynamoDbClient } from '../../../functions/core/store/dynamodb-client.js';
import { ensureTable, type Table } from '../../../functions/core/store/table.js';
import { readStats } from '../../../functions/core/store/tls-cache/cache-stats.js';
import { startControlPlaneHost } from '../../../functions/http-host/host.js';
import { type FtpBackend, startFtpBackend, writeHomeFile } from '../../support/ftp-backends.js';
import { curl, pythonFtp } from '../../support/ftp-clients.js';
import { freePort } from '../../support/ports.js';
import { spawnServer } from '../../support/process.js';
import { startTestProxy, type TestProxy } from '../../support/proxy.js';
import { RawFtp } from '../../support/raw-ftp.js';
import { createTestCa, type TestCa } from '../../support/test-ca.js';
import { dynaliteStore } from '../../support/test-stores.js';

/**
 * Backend FTPS verification (ProxyTLSVerifyServer, CA, CRL, client certificates), the backend
 * session cache, and TLS-PSK, against ProFTPD mod_tls and OpenSSL's s_server.
 */
describe('backend FTPS verification and sessions (ProFTPD)', () => {
  let ca: TestCa;
  let good: FtpBackend;
  let wrongName: FtpBackend;
  let revoked: FtpBackend;
  let unknownCa: FtpBackend;
  let clientAuth: FtpBackend;
  let scratch: string;
  const proxies: TestProxy[] = [];

  beforeAll(async () => {
    ca = await createTestCa();
    const tls = (cert: { cert: string; key: string }, clientCa?: string) => ({
      tls: { cert: cert.cert, key: cert.key, ...(clientCa ? { clientCa } : {}) },
    });
    [good, wrongName, revoked, unknownCa, clientAuth] = await Promise.all([
      startFtpBackend('proftpd', { name: 'tls-good', ...tls(ca.server) }),
      startFtpBackend('proftpd', { name: 'tls-wrong-name', ...tls(ca.wrongName) }),
      startFtpBackend('proftpd', { name: 'tls-revoked', ...tls(ca.revoked) }),
      startFtpBackend('proftpd', { name: 'tls-unknown-ca', ...tls(ca.unknownCa) }),
      startFtpBackend('proftpd', { name: 'tls-client-auth', ...tls(ca.server, ca.caCert) }),
    ]);
    for (const backend of [good, wrongName, revoked, unknownCa, clientAuth]) {
      await writeHomeFile(backend, 'whoami.txt', backend.name);
    }
    scratch = await mkdtemp(join(tmpdir(), 'ftpx-backend-tls-'));
  }, 60_000);

  afterAll(async () => {
    await Promise.all(proxies.map((proxy) => proxy.close()));
    await Promise.all([good, wrongName, revoked, unknownCa, clientAuth].map((backend) => backend?.stop()));
    if (scratch) await rm(scratch, { recursive: true, force: true });
    await ca?.remove();
  });

  const proxyTo = async (backend: FtpBackend, tls: Record<string, unknown>) => {
    const proxy = await startTestProxy({ backends: [backend.url], retryCount: 1, poolSettings: { tls } });
    proxies.push(proxy);
    return proxy;
  };
  const whoami = (proxy: TestProxy, backend: FtpBackend) =>
    curl([`ftp://${backend.user}:${backend.password}@127.0.0.1:${proxy.port}/whoami.txt`]);
  const connectFailure = (proxy: TestProxy) =>
    String(proxy.logs.find((line) => line.msg === 'backend connect failed')?.reason ?? '');

  it('verifies the chain and the IP SAN, and logs in through TLS', async () => {
    const proxy = await proxyTo(good, { caFile: ca.caCert, enableDiags: true });
    const run = await whoami(proxy, good);
    expect(run.stdout.toString()).toBe(good.name);
    const handshake = proxy.logs.find((line) => line.msg === 'backend TLS handshake');
    expect(handshake?.subject).toBe('server');
  });

  it('offers TLS_AES_128_GCM_SHA256 first on control and data connections unless cipherSuites is configured', async () => {
    const clientOrder = await startFtpBackend('proftpd', {
      name: 'tls-client-order',
      tls: { cert: ca.server.cert, key: ca.server.key, serverCipherPreference: false },
    });
    try {
      await writeHomeFile(clientOrder, 'whoami.txt', clientOrder.name);
      const suites = async (backend: FtpBackend, tls: Record<string, unknown>) => {
        const proxy = await proxyTo(backend, { caFile: ca.caCert, enableDiags: true, ...tls });
        expect((await whoami(proxy, backend)).stdout.toString()).toBe(backend.name);
        return proxy.logs.filter((line) => line.msg === 'backend TLS handshake').map((line) => line.cipher);
      };
      // A backend that follows the client's order (TLSServerCipherPreference off) takes ours.
      expect(await suites(clientOrder, {})).toEqual(['TLS_AES_128_GCM_SHA256', 'TLS_AES_128_GCM_SHA256']);
      const chacha = { cipherSuites: 'TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256' };
      expect(await suites(clientOrder, chacha)).toEqual([
        'TLS_CHACHA20_POLY1305_SHA256',
        'TLS_CHACHA20_POLY1305_SHA256',
      ]);
      // mod_tls's default (TLSServerCipherPreference on) keeps its own order among what is offered.
      expect(await suites(good, {})).toEqual(['TLS_AES_256_GCM_SHA384', 'TLS_AES_256_GCM_SHA384']);
      expect(await suites(good, chacha)).toEqual([
        'TLS_CHACHA20_POLY1305_SHA256',
        'TLS_CHACHA20_POLY1305_SHA256',
      ]);
    } finally {
      await clientOrder.stop();
    }
  });

  it('refuses a backend whose CA is unknown (and accepts it with verifyServer off)', async () => {
    const strict = await proxyTo(unknownCa, { caFile: ca.caCert });
    const raw = await RawFtp.open(strict.port);
    expect(await raw.reply()).toMatch(/^421 Service not available, no backend server reachable/);
    expect(await raw.closed()).toBe(true);
    expect(connectFailure(strict)).toMatch(
      /unable to verify the first certificate|unable to get local issuer certificate/i,
    );
    const lax = await proxyTo(unknownCa, { caFile: ca.caCert, verifyServer: false });
    expect((await whoami(lax, unknownCa)).stdout.toString()).toBe(unknownCa.name);
  });

  it('refuses a backend whose certificate names another host', async () => {
    const proxy = await proxyTo(wrongName, { caFile: ca.caCert });
    expect((await whoami(proxy, wrongName)).stdout.toString()).toBe('');
    expect(connectFailure(proxy)).toMatch(/IP: 127\.0\.0\.1 is not in the cert's list|does not match/i);
  });

  it("refuses a revoked backend certificate once the CA's CRL is configured", async () => {
    const withoutCrl = await proxyTo(revoked, { caFile: ca.caCert });
    expect((await whoami(withoutCrl, revoked)).stdout.toString()).toBe(revoked.name);
    const withCrl = await proxyTo(revoked, { caFile: ca.caCert, crlFile: ca.crl });
    expect((await whoami(withCrl, revoked)).stdout.toString()).toBe('');
    expect(connectFailure(withCrl)).toMatch(/certificate revoked/i);
    // The CRL does not stop a backend that is not revoked.
    const goodWithCrl = await proxyTo(good, { caFile: ca.caCert, crlFile: ca.crl });
    expect((await whoami(goodWithCrl, good)).stdout.toString()).toBe(good.name);
  });

  it('presents a client certificate to a backend that requires one, and fails without it', async () => {
    const without = await proxyTo(clientAuth, { caFile: ca.caCert });
    expect((await whoami(without, clientAuth)).stdout.toString()).toBe('');
    expect(connectFailure(without)).not.toBe('');
    const withCert = await proxyTo(clientAuth, {
      caFile: ca.caCert,
      certFile: ca.client.cert,
      keyFile: ca.client.key,
    });
    expect((await whoami(withCert, clientAuth)).stdout.toString()).toBe(clientAuth.name);
  });

  it('resumes the cached backend session in the next proxy session, unless noSessionCache', async () => {
    const cached = await proxyTo(good, { caFile: ca.caCert, enableDiags: true, protocols: 'TLSv1.2' });
    for (let i = 0; i < 2; i++) expect((await whoami(cached, good)).stdout.toString()).toBe(good.name);
    const controlHandshakes = (proxy: TestProxy) =>
      proxy.logs.filter((line) => line.msg === 'backend TLS handshake' && line.protocol === 'TLSv1.2');
    // Per session: one control handshake and one data handshake (resumed); the second control one resumes too.
    expect(controlHandshakes(cached).map((line) => line.reused)).toEqual([false, true, true, true]);
    const uncached = await proxyTo(good, {
      caFile: ca.caCert,
      enableDiags: true,
      protocols: 'TLSv1.2',
      noSessionCache: true,
    });
    for (let i = 0; i < 2; i++) expect((await whoami(uncached, good)).stdout.toString()).toBe(good.name);
    expect(controlHandshakes(uncached).map((line) => line.reused)).toEqual([false, true, false, true]);
  });

  it("shares backend sessions through the store: a second worker resumes the first one's", async () => {
    const store = await dynaliteStore.start();
    const table: Table = {
      client: createDynamoDbClient({ endpoint: store.endpoint, region: 'us-east-1' }),
      name: 'ftpx',
    };
    await ensureTable(table);
    // `ftpx control-plane serve` on the same store, for workers with a remote control plane.
    const host = await startControlPlaneHost({
      listen: { host: '127.0.0.1', port: 0 },
      table,
      edgeToken: 'backend-sessions-edge-token-0123456789',
      log: silentLogger,
    });
    const started: TestProxy[] = [];
    const worker = async (tls: Record<string, unknown>, transport: 'in-process' | 'http' = 'in-process') => {
      const proxy = await startTestProxy({
        backends: [good.url],
        retryCount: 1,
        storeEndpoint: store.endpoint,
        poolSettings: { tls: { caFile: ca.caCert, enableDiags: true, ...tls } },
        ...(transport === 'http'
          ? { settings: { controlPlane: { url: host.url, token: 'backend-sessions-edge-token-0123456789' } } }
          : {}),
      });
      started.push(proxy);
      expect(proxy.logs.some((line) => line.msg === 'control plane is remote')).toBe(transport === 'http');
      return proxy;
    };
    const firstHandshake = (proxy: TestProxy) =>
      proxy.logs.find((line) => line.msg === 'backend TLS handshake');
    try {
      // Each session is put through one transport and found through the other.
      for (const [protocols, put, get] of [
        ['TLSv1.2', 'in-process', 'http'],
        ['TLSv1.3', 'http', 'in-process'],
      ] as const) {
        const stored = (await readStats(table, 'backend-sessions')).stats.stored;
        const first = await worker({ protocols }, put);
        expect((await whoami(first, good)).stdout.toString()).toBe(good.name);
        expect(firstHandshake(first)).toMatchObject({ protocol: protocols, reused: false });
        const lookups = (proxy: TestProxy, result: string) =>
          sampleValue(proxy.worker.metrics.tlsCacheLookups, { cache: 'backend-sessions', result });
        // TLS 1.3: the TLS 1.2 session in the store was made under other protocol limits, another
        // trust context (backend-trust-context.ts): not found.
        expect(await lookups(first, 'miss')).toBe(1);
        // The put runs in the background, after the handshake (TLS 1.3: after the ticket came).
        const deadline = Date.now() + 10_000;
        while ((await readStats(table, 'backend-sessions')).stats.stored === stored) {
          if (Date.now() > deadline) throw new Error(`no ${protocols} backend session reached the store`);
          await delay(50);
        }
        const second = await worker({ protocols }, get);
        expect((await whoami(second, good)).stdout.toString()).toBe(good.name);
        expect(firstHandshake(second)).toMatchObject({ protocol: protocols, reused: true });
        // One store lookup; the data connection resumed the control session, not a cached one.
        expect(await lookups(second, 'hit')).toBe(1);
        expect(await lookups(second, 'miss')).toBe(0);
      }
      // One entry per trust context: the TLS 1.2 workers' and the TLS 1.3 workers'.
      expect(await readStats(table, 'backend-sessions')).toMatchObject({ entries: 2 });
      // ProxyTLSOptions NoSessionCache: the store is neither read nor written.
      const before = await readStats(table, 'backend-sessions');
      const uncached = await worker({ protocols: 'TLSv1.2', noSessionCache: true });
      expect((await whoami(uncached, good)).stdout.toString()).toBe(good.name);
      expect(firstHandshake(uncached)).toMatchObject({ reused: false });
      const after = await readStats(table, 'backend-sessions');
      expect(after.stats.hits + after.stats.misses).toBe(before.stats.hits + before.stats.misses);
      expect(after.stats.stored).toBe(before.stats.stored);
    } finally {
      for (const proxy of started.reverse()) await proxy.close();
      await host.close();
      table.client.destroy();
      await store.close();
    }
  });

  it('refuses the login when TLS is required (engine on) but the backend has none; auto falls back', async () => {
    const plain = await startFtpBackend('proftpd', { name: 'plain-for-tls' });
    try {
      await writeHomeFile(plain, 'whoami.txt', plain.name);
      const required = await proxyTo(plain, { engine: 'on' });
      expect((await whoami(required, plain)).stdout.toString()).toBe('');
      expect(connectFailure(required)).toMatch(/refused AUTH TLS: 500/);
      const auto = await proxyTo(plain, { engine: 'auto' });
      expect((await whoami(auto, plain)).stdout.toString()).toBe(plain.name);
    } finally {
      await plain.stop();
    }
  });

  describe('with a backend that requires TLS (TLSRequired on)', () => {
    let strict: FtpBackend;
    beforeAll(async () => {
      strict = await startFtpBackend('proftpd', {
        name: 'tls-required',
        tls: { cert: ca.server.cert, key: ca.server.key, required: true },
      });
      await writeHomeFile(strict, 'whoami.txt', strict.name);
    });
    afterAll(() => strict?.stop());

    const tlsProxy = async (tls: Record<string, unknown>) => {
      const proxy = await startTestProxy({
        backends: [strict.url.replace('ftps://', 'ftp://')],
        listener: { tls: { certificates: [{ cert: ca.server.cert, key: ca.server.key }] } },
        poolSettings: { tls: { caFile: ca.caCert, ...tls } },
      });
      proxies.push(proxy);
      return proxy;
    };
    const py = (proxy: TestProxy, ops: Parameters<typeof pythonFtp>[0], options: Record<string, unknown>) =>
      pythonFtp(ops, {
        host: 'localhost',
        port: proxy.port,
        user: strict.user,
        password: strict.password,
        caFile: ca.caCert,
        ...options,
      });
    const codes = (results: { reply?: string; error?: string }[]) =>
      results.map((step) => (step.error ?? step.reply ?? '').slice(0, 3));

    it('MatchClient: the backend gets AUTH TLS when the client sends it, after the banner was relayed', async () => {
      const proxy = await tlsProxy({ engine: 'MatchClient', enableDiags: true });
      const secured = await py(
        proxy,
        [{ op: 'login' }, { op: 'retr', path: 'whoami.txt', local: '/dev/null' }],
        {
          tls: 'explicit',
        },
      );
      expect(codes(secured.result.results)).toEqual(['234', '200', '230', '226']);
      expect(proxy.logs.some((line) => line.msg === 'backend TLS handshake')).toBe(true);
      // A plain client gets a plain backend, which refuses it (ProFTPD's TLSRequired on).
      const plain = await py(proxy, [{ op: 'login' }], {});
      expect(plain.result.results[0]?.error).toMatch(/^550 SSL\/TLS required on the control channel/);
    });

    it("transferProtection client passes the client's PROT on; required keeps PROT P towards the backend", async () => {
      const viaGood = async (tls: Record<string, unknown>) => {
        const proxy = await startTestProxy({
          backends: [good.url],
          listener: { tls: { certificates: [{ cert: ca.server.cert, key: ca.server.key }] } },
          poolSettings: { tls: { caFile: ca.caCert, enableDiags: true, ...tls } },
        });
        proxies.push(proxy);
        return proxy;
      };
      const handshakes = (proxy: TestProxy) =>
        proxy.logs.filter((line) => line.msg === 'backend TLS handshake').length;
      const clearOps: Parameters<typeof pythonFtp>[0] = [
        { op: 'login' },
        { op: 'raw', command: 'PBSZ 0' },
        { op: 'raw', command: 'PROT C' },
        { op: 'nlst' },
      ];
      const options = { user: good.user, password: good.password, tls: 'explicit', protP: false };
      // client: the client's PROT C goes on to the backend, whose data connection is then clear.
      const passOn = await viaGood({ transferProtection: 'client' });
      const clear = await py(passOn, clearOps, options);
      expect(codes(clear.result.results)).toEqual(['234', '230', '200', '200', '226']);
      expect(handshakes(passOn)).toBe(1);
      // required: the backend keeps PROT P whatever the client says: one more handshake for the data.
      const required = await viaGood({ transferProtection: 'required' });
      const stillProtected = await py(required, clearOps, options);
      expect(codes(stillProtected.result.results)).toEqual(['234', '230', '200', '200', '226']);
      expect(handshakes(required)).toBe(2);
      // clear: PROT C towards the backend even under a client's PROT P.
      const clearPolicy = await viaGood({ transferProtection: 'clear' });
      const protP = await py(clearPolicy, [{ op: 'login' }, { op: 'nlst' }], { ...options, protP: true });
      expect(codes(protP.result.results)).toEqual(['234', '200', '230', '226']);
      expect(handshakes(clearPolicy)).toBe(1);
    });

    it('a backend error on a TLS data transfer reaches the client at once (mod_proxy issue 244)', async () => {
      const proxy = await tlsProxy({ engine: 'on' });
      const started = Date.now();
      const { result } = await py(
        proxy,
        [{ op: 'login' }, { op: 'nlst', path: 'no-such-dir' }, { op: 'raw', command: 'NOOP' }],
        {
          tls: 'explicit',
        },
      );
      expect(codes(result.results)).toEqual(['234', '200', '230', '450', '200']);
      expect(Date.now() - started).toBeLessThan(10_000);
    });
  });

  it('negotiates TLS-PSK with a backend that only knows the key (openssl s_server -nocert)', async () => {
    const hex = 'a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6';
    const keyFile = join(scratch, 'psk.hex');
    await writeFile(keyFile, `${hex}\n`, { mode: 0o600 });
    const port = await freePort('127.0.0.1');
    const serverDir = await mkdtemp(join(tmpdir(), 'ftpx-psk-server-'));
    const server = spawnServer(
      'openssl',
      [
        's_server',
        '-accept',
        `127.0.0.1:${port}`,
        '-nocert',
        '-psk',
        hex,
        '-psk_identity',
        'ftpx-proxy',
        '-tls1_2',
        '-cipher',
        'PSK',
        '-naccept',
        '1',
        '-quiet',
      ],
      serverDir,
    );
    try {
      const config = backendTlsSchema.parse({
        preSharedKey: { identity: 'ftpx-proxy', key: `hex:${keyFile}` },
      });
      const client = await BackendTls.load(config, 'pools[psk].tls');
      let socket: import('node:tls').TLSSocket | undefined;
      for (let attempt = 0; attempt < 50 && !socket; attempt++) {
        const raw = createConnection({ host: '127.0.0.1', port });
        const connected = await new Promise<boolean>((resolve) => {
          raw.once('connect', () => resolve(true));
          raw.once('error', () => resolve(false));
        });
        if (!connected) {
          await new Promise((resolve) => setTimeout(resolve, 100));
          continue;
        }
        socket = await client.connect(raw, '127.0.0.1', {});
      }
      expect(socket?.getCipher().name).toMatch(/PSK/);
      expect(socket?.getPeerCertificate()).toEqual({});
      socket?.destroy();
    } finally {
      await server.stop();
    }
  });

  it('checks the PSK file as mod_proxy does: private, hex, at least 20 bytes', async () => {
    const load = (path: string) =>
      BackendTls.load(
        backendTlsSchema.parse({ preSharedKey: { identity: 'id', key: `hex:${path}` } }),
        'pools[p].tls',
      );
    const readable = join(scratch, 'readable.hex');
    await writeFile(readable, 'a1'.repeat(32));
    await chmod(readable, 0o644);
    await expect(load(readable)).rejects.toThrow(/world-readable/);
    const short = join(scratch, 'short.hex');
    await writeFile(short, 'a1'.repeat(10), { mode: 0o600 });
    await expect(load(short)).rejects.toThrow(/holds 10 bytes; a pre-shared key needs at least 20/);
    const notHex = join(scratch, 'not-hex.hex');
    await writeFile(notHex, 'zz'.repeat(32), { mode: 0o600 });
    await expect(load(notHex)).rejects.toThrow(ConfigError);
    await expect(load(notHex)).rejects.toThrow(/hex/);
  });
});
