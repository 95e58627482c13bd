import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type RunningControlPlaneServer,
  startControlPlaneServer,
} from '../../../edge-worker/control-plane/control-plane-server.js';
import {
  createHttpControlPlane,
  type HttpControlPlane,
} from '../../../edge-worker/control-plane/http-transport.js';
import { Logger } from '../../../edge-worker/log/logger.js';
import { startDnsServer, type TestDnsServer } from '../../support/dns-server.js';
import { freePort } from '../../support/ports.js';

/**
 * `ftpx control-plane serve` (its server, in this process) with discovery and passive health: an edge
 * worker's resolve-backend over HTTP gets `+srv` entries expanded and failed backends skipped.
 */
describe('control-plane server: discovery and health over HTTP', () => {
  let dns: TestDnsServer;
  let server: RunningControlPlaneServer;
  let client: HttpControlPlane;
  const silent = new Logger({ write: () => {} });

  beforeAll(async () => {
    dns = await startDnsServer();
    server = await startControlPlaneServer({
      listen: { host: '127.0.0.1', port: 0 },
      discovery: { servers: [{ host: dns.host, port: dns.port }] },
      health: {
        passive: { enabled: true, failures: 1, windowMs: 60_000, cooldownMs: 60_000 },
        whenAllUnhealthy: 'try',
        activeFailureHoldMs: 60_000,
      },
      log: silent,
    });
    client = createHttpControlPlane({ url: server.url, timeoutMs: 3000, retries: 0, log: silent });
  });

  afterAll(async () => {
    await client?.close();
    await server?.close();
    await dns?.close();
  });

  it('expands +srv through its resolver and skips a backend an edge worker reported failing', async () => {
    const [p1, p2] = [await freePort(), await freePort()];
    dns.set('_ftp._tcp.cp.test', 'SRV', [
      { ttl: 60, data: { priority: 1, weight: 1, port: p1, target: 'one.cp.test' } },
      { ttl: 60, data: { priority: 1, weight: 1, port: p2, target: 'one.cp.test' } },
    ]);
    dns.set('one.cp.test', 'A', [{ ttl: 60, data: '127.0.0.1' }]);
    const request = {
      pool: 'cp',
      policy: 'RoundRobin' as const,
      backends: ['ftp+srv://_ftp._tcp.cp.test:21'],
    };
    const first = await client.resolveBackend(request);
    expect(first.candidates.map((candidate) => candidate.backend).sort()).toEqual(
      [`ftp://127.0.0.1:${p1}`, `ftp://127.0.0.1:${p2}`].sort(),
    );
    expect(first.candidates[0]).toMatchObject({
      via: { backend: 'ftp+srv://_ftp._tcp.cp.test:21', index: 0 },
    });
    expect(
      await client.sessionEvent({
        type: 'connect-failed',
        pool: 'cp',
        backend: `ftp://127.0.0.1:${p1}`,
        reason: 'ECONNREFUSED',
      }),
    ).toEqual({ type: 'connect-failed', failures: 1, unhealthy: true });
    for (let i = 0; i < 3; i++) {
      const { candidates } = await client.resolveBackend(request);
      expect(candidates.map((candidate) => candidate.backend)).toEqual([`ftp://127.0.0.1:${p2}`]);
    }
  });
});
