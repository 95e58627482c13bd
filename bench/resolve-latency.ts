import type { ControlPlaneClient } from '../edge-worker/control-plane/control-plane-client.js';
import { createHttpControlPlane } from '../edge-worker/control-plane/http-transport.js';
import { createInProcessControlPlane } from '../edge-worker/control-plane/in-process-transport.js';
import { startEmbeddedStore } from '../edge-worker/embedded/store-server.js';
import { silentLogger } from '../edge-worker/log/logger.js';
import type { ConnectPolicy } from '../functions/contract/connect-policies.js';
import {
  createDynamoDbClient,
  DEFAULT_READ_CACHE_TTL_MS,
  enableReadCache,
  ensureTable,
} from '../functions/core/store/index.js';
import { startControlPlaneHost } from '../functions/http-host/host.js';
import { percentile, round2 } from './stats.js';

export interface ResolveLatency {
  transport: string;
  calls: number;
  medianMs: number;
  p99Ms: number;
}

/** resolve-backend round trips (RoundRobin over three backends) in-process and over HTTP, same store (read cache on). */
export async function measureResolveLatency(calls: number): Promise<ResolveLatency[]> {
  const store = await startEmbeddedStore(undefined);
  const table = {
    client: createDynamoDbClient({ endpoint: store.endpoint, region: 'us-east-1' }),
    name: 'ftpx-bench',
  };
  await ensureTable(table);
  // As `ftpx serve` and `ftpx control-plane serve` open their store.
  enableReadCache(table.client, { ttlMs: DEFAULT_READ_CACHE_TTL_MS });
  const host = await startControlPlaneHost({
    listen: { host: '127.0.0.1', port: 0 },
    table,
    log: silentLogger,
  });
  const http = createHttpControlPlane({ url: host.url, timeoutMs: 2000, retries: 0, log: silentLogger });
  try {
    const clients: [string, ControlPlaneClient][] = [
      ['in-process', createInProcessControlPlane(table)],
      ['HTTP (undici, keep-alive)', http],
    ];
    const results: ResolveLatency[] = [];
    for (const [transport, client] of clients) {
      const times: number[] = [];
      for (let i = 0; i < calls + 100; i++) {
        const started = performance.now();
        await client.resolveBackend({
          pool: `bench-${transport}`,
          policy: 'RoundRobin',
          backends: ['ftp://10.0.0.1:21', 'ftp://10.0.0.2:21', 'ftp://10.0.0.3:21'],
        });
        // The first hundred calls warm up the JIT and the connection pool.
        if (i >= 100) times.push(performance.now() - started);
      }
      results.push({
        transport,
        calls,
        medianMs: round2(percentile(times, 0.5)),
        p99Ms: round2(percentile(times, 0.99)),
      });
    }
    return results;
  } finally {
    await http.close();
    await host.close();
    table.client.destroy();
    await store.close();
  }
}

export interface StoreRequestsRow {
  policy: ConnectPolicy;
  /** Store requests per resolve-backend call, by DynamoDB action, calls one after the other. */
  sequential: Record<string, number>;
  /** The same with `concurrency` calls at a time (a burst of logins). */
  burst: Record<string, number>;
}

/**
 * Store requests per resolve-backend call for each policy, counted at the client (an SDK
 * middleware) of an in-process control plane on the embedded store, read cache on as `ftpx serve`
 * has it. A login makes one call (the sticky policies two: the provisional pick, the confirmation).
 */
export async function measureStoreRequests(calls: number, concurrency: number): Promise<StoreRequestsRow[]> {
  const store = await startEmbeddedStore(undefined);
  const client = createDynamoDbClient({ endpoint: store.endpoint, region: 'us-east-1' });
  const table = { client, name: 'ftpx-bench' };
  let counts: Record<string, number> = {};
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const action = (context.commandName ?? 'unknown').replace(/Command$/, '');
      counts[action] = (counts[action] ?? 0) + 1;
      return next(args);
    },
    { step: 'initialize', name: 'benchCountRequests' },
  );
  await ensureTable(table);
  enableReadCache(client, { ttlMs: DEFAULT_READ_CACHE_TTL_MS });
  const controlPlane = createInProcessControlPlane(table);
  const policies: ConnectPolicy[] = ['Random', 'RoundRobin', 'Shuffle', 'PerUser', 'PerHost'];
  const perCall = (n: number) =>
    Object.fromEntries(Object.entries(counts).map(([action, count]) => [action, round2(count / n)]));
  try {
    const rows: StoreRequestsRow[] = [];
    for (const policy of policies) {
      const call = (i: number) =>
        controlPlane.resolveBackend({
          pool: `bench-${policy}`,
          policy,
          backends: ['ftp://10.0.0.1:21', 'ftp://10.0.0.2:21', 'ftp://10.0.0.3:21'],
          // Sticky keys of 50 users or hosts: mostly mapped already, as in a running service.
          ...(policy === 'PerUser' || policy === 'PerHost' ? { stickyKey: `key-${i % 50}` } : {}),
        });
      for (let i = 0; i < 100; i++) await call(i);
      counts = {};
      for (let i = 0; i < calls; i++) await call(i);
      const sequential = perCall(calls);
      counts = {};
      for (let done = 0; done < calls; done += concurrency) {
        await Promise.all(Array.from({ length: concurrency }, (_, i) => call(done + i)));
      }
      const burst = perCall(Math.ceil(calls / concurrency) * concurrency);
      rows.push({ policy, sequential, burst });
    }
    return rows;
  } finally {
    client.destroy();
    await store.close();
  }
}
