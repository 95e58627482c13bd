/**
 * TLS handshake latency with the shared TLS caches: a full handshake, a resumption on the worker
 * that made the session (its local LRU), and a resumption on another worker (the store, through the
 * control plane over HTTP), for TLS 1.2 session IDs and TLS 1.3 tickets. Two tls.Servers in this
 * process stand for two edge workers; a Node client measures connect-to-secure.
 *
 *   npm run build && npm run bench:tls-cache       # BENCH_TLS_HANDSHAKES=200 by default
 */
import { constants } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { connect, createServer, type Server } from 'node:tls';
import { createHttpControlPlane } from '../edge-worker/control-plane/http-transport.js';
import { createInProcessControlPlane } from '../edge-worker/control-plane/in-process-transport.js';
import { startEmbeddedStore } from '../edge-worker/embedded/store-server.js';
import { silentLogger } from '../edge-worker/log/logger.js';
import { attachFrontendTlsCaches, frontendTlsServerOptions } from '../edge-worker/tls/frontend-caches.js';
import { tlsCacheSettings } from '../edge-worker/tls/tls-cache-settings.js';
import { createDynamoDbClient, ensureTable } from '../functions/core/store/index.js';
import { startControlPlaneHost } from '../functions/http-host/host.js';
import { createTestCaOcsp } from '../test/support/test-ca-ocsp.js';
import { percentile, round2 } from './stats.js';

const HANDSHAKES = Number(process.env.BENCH_TLS_HANDSHAKES ?? 200);
/** Between making a session and resuming it: the new session is written to the store in the background. */
const GAP_MS = Number(process.env.BENCH_TLS_GAP_MS ?? 50);

interface Row {
  case: string;
  handshakes: number;
  reused: number;
  medianMs: number;
  p95Ms: number;
}

function handshake(port: number, ca: string, options: { tls12: boolean; session?: Buffer }) {
  return new Promise<{ ms: number; reused: boolean; session: Buffer | undefined }>((resolve, reject) => {
    const started = process.hrtime.bigint();
    let session: Buffer | undefined;
    const socket = connect({
      host: '127.0.0.1',
      port,
      ca,
      servername: 'localhost',
      ...(options.tls12
        ? { maxVersion: 'TLSv1.2' as const, secureOptions: constants.SSL_OP_NO_TICKET }
        : { minVersion: 'TLSv1.3' as const }),
      ...(options.session ? { session: options.session } : {}),
    });
    socket.on('session', (value: Buffer) => {
      session = value;
    });
    socket.once('secureConnect', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const reused = socket.isSessionReused();
      socket.once('end', () => resolve({ ms, reused, session: session ?? socket.getSession() }));
      socket.resume();
    });
    socket.once('error', reject);
  });
}

async function main(): Promise<void> {
  const ca = await createTestCaOcsp();
  const cert = await ca.issue('localhost');
  const store = await startEmbeddedStore(undefined);
  const table = {
    client: createDynamoDbClient({ endpoint: store.endpoint, region: 'us-east-1' }),
    name: 'ftpx-bench',
  };
  await ensureTable(table);
  const host = await startControlPlaneHost({
    listen: { host: '127.0.0.1', port: 0 },
    table,
    log: silentLogger,
  });
  const http = createHttpControlPlane({ url: host.url, timeoutMs: 2000, retries: 0, log: silentLogger });
  // Room for every session the run makes (mod_tls_shmcache's default budget holds 153).
  const settings = tlsCacheSettings({ sessions: { maxEntries: 100_000 } });
  const identity = { certPem: cert.certPem, issuerPem: ca.caPem };
  const servers: Server[] = [];
  const closers: Array<() => Promise<void>> = [];
  const worker = async (controlPlane: typeof http | ReturnType<typeof createInProcessControlPlane>) => {
    const server = createServer({
      cert: cert.certPem,
      key: cert.keyPem,
      ...frontendTlsServerOptions(settings, identity),
    });
    server.on('secureConnection', (socket) => socket.end('220 bench\r\n'));
    const caches = attachFrontendTlsCaches(server, identity, { controlPlane, settings, log: silentLogger });
    await caches.ready;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(server);
    closers.push(async () => {
      await caches.flushStats();
      caches.close();
    });
    return (server.address() as AddressInfo).port;
  };
  try {
    const a = await worker(createInProcessControlPlane(table));
    const b = await worker(http);
    const rows: Row[] = [];
    for (const tls12 of [true, false]) {
      const protocol = tls12 ? 'TLS 1.2 session ID' : 'TLS 1.3 ticket';
      const cases: Array<[string, () => Promise<{ ms: number; reused: boolean }>]> = [
        [`${protocol}: full handshake`, () => handshake(a, ca.caPem, { tls12 })],
        [
          `${protocol}: resumed on the same worker`,
          async () => {
            const first = await handshake(a, ca.caPem, { tls12 });
            await new Promise((resolve) => setTimeout(resolve, GAP_MS));
            return handshake(a, ca.caPem, { tls12, ...(first.session ? { session: first.session } : {}) });
          },
        ],
        [
          `${protocol}: resumed on another worker (store over HTTP)`,
          async () => {
            const first = await handshake(a, ca.caPem, { tls12 });
            await new Promise((resolve) => setTimeout(resolve, GAP_MS));
            return handshake(b, ca.caPem, { tls12, ...(first.session ? { session: first.session } : {}) });
          },
        ],
      ];
      for (const [name, run] of cases) {
        const times: number[] = [];
        let reused = 0;
        for (let i = 0; i < HANDSHAKES + 10; i++) {
          const result = await run();
          if (i < 10) continue; // warm-up
          times.push(result.ms);
          if (result.reused) reused += 1;
        }
        rows.push({
          case: name,
          handshakes: HANDSHAKES,
          reused,
          medianMs: round2(percentile(times, 0.5)),
          p95Ms: round2(percentile(times, 0.95)),
        });
      }
    }
    process.stdout.write('| case | handshakes | reused | median ms | p95 ms |\n|---|---|---|---|---|\n');
    for (const row of rows) {
      process.stdout.write(
        `| ${row.case} | ${row.handshakes} | ${row.reused} | ${row.medianMs} | ${row.p95Ms} |\n`,
      );
    }
  } finally {
    for (const close of closers) await close();
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
    await http.close();
    await host.close();
    await store.close();
    await ca.close();
  }
}

await main();
