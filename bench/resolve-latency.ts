import type { ControlPlaneClient } from '../edge-worker/control-plane/control-plane-client.js';
import { createHttpControlPlane } from '../edge-worker/control-plane/http-transport.js';
import { createInProcessControlPlane } from '../edge-worker/control-plane/in-process-transport.js';
import { startEmbeddedStore } from '../edge-worker/embedded/store-server.js';
import { silentLogger } from '../edge-worker/log/logger.js';
import { createDynamoDbClient, ensureTable } from '../functions/core/store/index.js';
import { startControlPlaneHost } from '../functions/http-host/host.js';
import { percentile, round2 } from './stats.js';

export interface ResolveLatency {
  transport: string;
  calls: number;
  medianMs: number;
  p99Ms: number;
}

/** resolve-backend round trips (RoundRobin over three backends) in-process and over HTTP, same store. */
export async function measureResolveLatency(calls: number): Promise<ResolveLatency[]> {
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
