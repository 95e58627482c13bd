import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInProcessControlPlane } from '../../../edge-worker/control-plane/in-process-transport.js';
import { type RunningStore, startStore } from '../../../edge-worker/embedded/store-startup.js';
import { silentLogger } from '../../../edge-worker/log/logger.js';
import type { Table } from '../../../functions/core/store/index.js';

const BACKENDS = ['ftp://127.0.0.1:2101', 'ftp://127.0.0.1:2102', 'ftp://127.0.0.1:2103'];

const open = (store: RunningStore['endpoint'] | undefined) =>
  startStore({
    store: store === undefined ? { embedded: true } : { embedded: false, endpoint: store },
    region: 'us-east-1',
    tableName: 'ftpx',
    discovery: {},
    discoveryRefreshMs: 60_000,
    log: silentLogger,
  });

async function cursorItems(table: Table): Promise<string[]> {
  const result = await table.client.send(new ScanCommand({ TableName: table.name }));
  return (result.Items ?? []).map((item) => item.sk?.S ?? '').filter((sk) => sk.startsWith('CURSOR#'));
}

/** The login path of RoundRobin writes nothing to the embedded store (performance issue: logins). */
describe('RoundRobin with the embedded store', () => {
  let embedded: RunningStore;

  beforeAll(async () => {
    embedded = await open(undefined);
  });

  afterAll(async () => {
    await embedded?.close();
  });

  it('rotates in the control plane process and writes no cursor to the store', async () => {
    expect(embedded.roundRobinCursor).toBeDefined();
    const controlPlane = createInProcessControlPlane(embedded.table, {
      ...(embedded.roundRobinCursor ? { roundRobinCursor: embedded.roundRobinCursor } : {}),
    });
    const picks: number[] = [];
    for (let i = 0; i < 6; i++) {
      const { candidates } = await controlPlane.resolveBackend({
        pool: 'rr-local',
        policy: 'RoundRobin',
        backends: BACKENDS,
      });
      picks.push(candidates[0]?.index ?? -1);
    }
    expect(picks).toEqual([0, 1, 2, 0, 1, 2]);
    expect(await cursorItems(embedded.table)).toEqual([]);
  });

  it('keeps the cursor in the table when the store is an endpoint others may share', async () => {
    // The embedded store's own endpoint, opened as an external one: the cursor must be the table's.
    const shared = await open(embedded.endpoint);
    try {
      expect(shared.roundRobinCursor).toBeUndefined();
      const a = createInProcessControlPlane(shared.table);
      const b = createInProcessControlPlane(shared.table);
      const picks: number[] = [];
      for (const controlPlane of [a, b, a, b]) {
        const { candidates } = await controlPlane.resolveBackend({
          pool: 'rr-shared',
          policy: 'RoundRobin',
          backends: BACKENDS,
        });
        picks.push(candidates[0]?.index ?? -1);
      }
      // One rotation across both control planes: they share the table's cursor.
      expect(picks).toEqual([0, 1, 2, 0]);
      expect(await cursorItems(shared.table)).toEqual(['CURSOR#RoundRobin']);
    } finally {
      await shared.close();
    }
  });
});
