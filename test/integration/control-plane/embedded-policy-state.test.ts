import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInProcessControlPlane } from '../../../edge-worker/control-plane/in-process-transport.js';
import { type RunningStore, startStore } from '../../../edge-worker/embedded/store-startup.js';
import { silentLogger } from '../../../edge-worker/log/logger.js';
import type { Table } from '../../../functions/core/store/index.js';

const BACKENDS = ['ftp://127.0.0.1:2101', 'ftp://127.0.0.1:2102', 'ftp://127.0.0.1:2103'];

const open = (endpoint: string | undefined) =>
  startStore({
    store: endpoint === undefined ? { embedded: true } : { embedded: false, endpoint },
    region: 'us-east-1',
    tableName: 'ftpx',
    discovery: {},
    discoveryRefreshMs: 60_000,
    log: silentLogger,
  });

/** The sort keys of the pool items RoundRobin and Shuffle write (CURSOR#..., SHUFFLE...). */
async function policyItems(table: Table): Promise<string[]> {
  const result = await table.client.send(new ScanCommand({ TableName: table.name }));
  return (result.Items ?? [])
    .map((item) => item.sk?.S ?? '')
    .filter((sk) => sk.startsWith('CURSOR#') || sk.toUpperCase().startsWith('SHUFFLE'))
    .sort();
}

async function picks(
  controlPlanes: ReturnType<typeof createInProcessControlPlane>[],
  pool: string,
  policy: 'RoundRobin' | 'Shuffle',
): Promise<number[]> {
  const chosen: number[] = [];
  for (const controlPlane of controlPlanes) {
    const { candidates } = await controlPlane.resolveBackend({ pool, policy, backends: BACKENDS });
    chosen.push(candidates[0]?.index ?? -1);
  }
  return chosen;
}

/** The login path of RoundRobin and Shuffle writes nothing to the embedded store (performance issue: logins). */
describe('RoundRobin and Shuffle with the embedded store', () => {
  let embedded: RunningStore;

  beforeAll(async () => {
    embedded = await open(undefined);
  });

  afterAll(async () => {
    await embedded?.close();
  });

  it('keep their state in the control plane process and write nothing to the store', async () => {
    expect(embedded.policyState).toBeDefined();
    const controlPlane = createInProcessControlPlane(embedded.table, {
      ...(embedded.policyState ? { policyState: embedded.policyState } : {}),
    });
    expect(await picks(Array(6).fill(controlPlane), 'local', 'RoundRobin')).toEqual([0, 1, 2, 0, 1, 2]);
    // Shuffle: each backend once per round of three.
    const shuffled = await picks(Array(6).fill(controlPlane), 'local', 'Shuffle');
    expect([...shuffled.slice(0, 3)].sort()).toEqual([0, 1, 2]);
    expect([...shuffled.slice(3)].sort()).toEqual([0, 1, 2]);
    expect(await policyItems(embedded.table)).toEqual([]);
  });

  it('keep it in the table when the store is an endpoint other control planes may share', async () => {
    // The embedded store's own endpoint, opened as an external one: the state must be the table's.
    const shared = await open(embedded.endpoint);
    try {
      expect(shared.policyState).toBeUndefined();
      const a = createInProcessControlPlane(shared.table);
      const b = createInProcessControlPlane(shared.table);
      // One rotation and one round across both control planes: they share the table's state.
      expect(await picks([a, b, a, b], 'shared', 'RoundRobin')).toEqual([0, 1, 2, 0]);
      const shuffled = await picks([a, b, a], 'shared', 'Shuffle');
      expect([...shuffled].sort()).toEqual([0, 1, 2]);
      expect((await policyItems(shared.table)).length).toBe(2);
      expect(await policyItems(shared.table)).toContain('CURSOR#RoundRobin');
    } finally {
      await shared.close();
    }
  });
});
