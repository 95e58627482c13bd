import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConfigInput, configSchema } from '../../../edge-worker/config/schema.js';
import { type EmbeddedStoreServer, startEmbeddedStore } from '../../../edge-worker/embedded/store-server.js';
import { Logger } from '../../../edge-worker/log/logger.js';
import { type RunningEdgeWorker, startEdgeWorker } from '../../../edge-worker/runtime/edge-worker.js';
import { createDynamoDbClient } from '../../../functions/core/store/dynamodb-client.js';
import { ensureTable, type Table } from '../../../functions/core/store/table.js';
import { type ControlPlaneHost, startControlPlaneHost } from '../../../functions/http-host/host.js';
import { type FtpBackend, startFtpBackend, writeHomeFile } from '../../support/ftp-backends.js';
import { curl } from '../../support/ftp-clients.js';
import { RawFtp } from '../../support/raw-ftp.js';

const TOKEN = 'shared-edge-token-0123456789abcdef';
const STALE_FOR_MS = 5000;

interface Worker {
  name: string;
  running: RunningEdgeWorker;
  port: number;
  lines: string[];
  dataDir: string;
}

/**
 * Two edge workers (each with its own control-plane client) sharing one control plane over real
 * HTTP, in front of two real ProFTPD backends; real FTP sessions with curl.
 */
describe('two edge workers sharing one control plane over HTTP', () => {
  let store: EmbeddedStoreServer;
  let table: Table;
  let host: ControlPlaneHost;
  let hostPort: number;
  const hostLines: string[] = [];
  const backends: FtpBackend[] = [];
  const workers: Worker[] = [];
  let tmp: string;

  const startHost = (port: number) =>
    startControlPlaneHost({
      listen: { host: '127.0.0.1', port },
      table,
      edgeToken: TOKEN,
      log: new Logger({ write: (line) => hostLines.push(line) }, 'debug'),
    });

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'ftpx-http-cp-'));
    store = await startEmbeddedStore(undefined);
    table = { client: createDynamoDbClient({ endpoint: store.endpoint, region: 'us-east-1' }), name: 'ftpx' };
    await ensureTable(table);
    host = await startHost(0);
    hostPort = host.port;
    backends.push(
      ...(await Promise.all(
        ['one', 'two'].map((name) => startFtpBackend('proftpd', { name: `http-cp-${name}` })),
      )),
    );
    for (const backend of backends) await writeHomeFile(backend, 'whoami.txt', `${backend.name}\n`);
    for (const name of ['edge-a', 'edge-b']) {
      const dataDir = join(tmp, name, 'data');
      const input: ConfigInput = {
        dataDir,
        listeners: [{ address: '127.0.0.1', port: 0, pool: 'main' }],
        pools: [{ name: 'main', connectPolicy: 'RoundRobin', backends: backends.map((b) => b.url) }],
        controlPlane: {
          url: host.url,
          token: TOKEN,
          timeout: '1s',
          retries: 1,
          staleFor: `${STALE_FOR_MS}ms`,
        },
      };
      const lines: string[] = [];
      const running = await startEdgeWorker(
        configSchema.parse(input),
        new Logger({ write: (line) => lines.push(line) }, 'debug'),
      );
      workers.push({ name, running, port: running.listeners[0]?.port ?? 0, lines, dataDir });
    }
  });

  afterAll(async () => {
    await Promise.all(workers.map((worker) => worker.running.close()));
    await host?.close();
    await Promise.all(backends.map((backend) => backend.stop()));
    table?.client.destroy();
    await store?.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  /** One login and download through a worker: the backend's name, or curl's complaint. */
  const whoami = async (worker: Worker): Promise<string> => {
    const backend = backends[0] as FtpBackend;
    const run = await curl(
      [`ftp://${backend.user}:${backend.password}@127.0.0.1:${worker.port}/whoami.txt`],
      { timeoutMs: 20_000 },
    );
    return run.code === 0 ? run.stdout.toString('utf8').trim() : `curl ${run.code}: ${run.stderr.trim()}`;
  };
  const names = () => backends.map((backend) => backend.name);
  const a = () => workers[0] as Worker;
  const b = () => workers[1] as Worker;

  it('opens no store in the workers', () => {
    for (const worker of workers) {
      expect(worker.running.storeEndpoint).toBeUndefined();
      expect(worker.running.controlPlaneUrl).toBe(host.url);
      expect(existsSync(worker.dataDir), worker.name).toBe(false);
      expect(worker.lines.join('')).not.toContain(TOKEN);
    }
  });

  it('RoundRobin alternates across both workers: one cursor for the pool', async () => {
    const served: string[] = [];
    for (let i = 0; i < 6; i++) served.push(await whoami(i % 2 === 0 ? a() : b()));
    const [first, second] = names();
    // Whichever backend the shared cursor starts on, the sessions alternate, across workers.
    const start = served[0] === first ? 0 : 1;
    expect(served).toEqual(served.map((_, i) => ((i + start) % 2 === 0 ? first : second)));
  });

  it('keeps logins working from the cache when the control plane stops, then fails clearly', async () => {
    // The last answers before the outage: each worker continues its rotation from there.
    const before = [await whoami(a()), await whoami(b())];
    await host.close();
    const stoppedAt = Date.now();

    const stale: string[][] = [[], []];
    // Each worker's outage starts at its first failed call: the later of the two bounds the wait.
    let lastOutageStart = 0;
    for (let i = 0; i < 4; i++) {
      if (i < 2) lastOutageStart = Date.now();
      stale[i % 2]?.push(await whoami(i % 2 === 0 ? a() : b()));
    }
    expect(Date.now() - stoppedAt).toBeLessThan(STALE_FOR_MS);
    for (const [index, got] of stale.entries()) {
      const other = (name: string | undefined) => names().find((n) => n !== name);
      // Each worker rotates locally from its own last answer: sessions still spread.
      expect(got, `worker ${index}`).toEqual([other(before[index]), before[index]]);
    }
    for (const worker of workers) {
      const warned = worker.lines.filter((line) => line.includes('serving cached backend selections'));
      expect(warned, worker.name).toHaveLength(1);
    }

    await new Promise((resolve) => setTimeout(resolve, lastOutageStart + STALE_FOR_MS + 300 - Date.now()));
    for (const worker of [a(), b()]) {
      // Backend selection happens before the greeting: the client is told at once.
      const ftp = await RawFtp.open(worker.port);
      expect(await ftp.reply()).toBe('421 Service not available, backend selection failed.');
      expect(await ftp.closed()).toBe(true);
      ftp.destroy();
      const reason = worker.lines
        .map((line) => JSON.parse(line) as { msg: string; reason?: string })
        .find((line) => line.msg === 'no backend available')?.reason;
      expect(reason).toMatch(
        /^control plane resolve-backend: unreachable since \d{4}-\d\d-\d\dT[\d:.]+Z; cached answers are only used for 5 s after that/,
      );
      const expired = worker.lines.filter((line) => line.includes('longer than staleFor'));
      expect(expired, worker.name).toHaveLength(1);
    }
  });

  it('serves from the control plane again once it is back', async () => {
    host = await startHost(hostPort);
    // One probe per second while it was down: within two seconds each worker has seen it back.
    const deadline = Date.now() + 10_000;
    for (const worker of workers) {
      let got = await whoami(worker);
      while (!names().includes(got) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        got = await whoami(worker);
      }
      expect(names()).toContain(got);
      expect(worker.lines.some((line) => line.includes('control plane reachable again'))).toBe(true);
    }
    // Shared cursor again: four more sessions alternate across the workers.
    const served: string[] = [];
    for (let i = 0; i < 4; i++) served.push(await whoami(i % 2 === 0 ? a() : b()));
    expect(new Set([served[0], served[1]]).size).toBe(2);
    expect(served[2]).toBe(served[0]);
    expect(served[3]).toBe(served[1]);
  });
});
