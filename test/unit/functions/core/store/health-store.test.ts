import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedStore } from '../../../../../edge-worker/embedded/store-server.js';
import { healthSettings } from '../../../../../functions/core/health/health-settings.js';
import { healthState } from '../../../../../functions/core/health/health-state.js';
import { createDynamoDbClient } from '../../../../../functions/core/store/dynamodb-client.js';
import {
  readPoolHealth,
  recordCheckResult,
  recordConnectSuccess,
  recordPassiveFailure,
} from '../../../../../functions/core/store/health-store.js';
import { ensureTable, type Table } from '../../../../../functions/core/store/table.js';

/** The transitions as stored, on dynalite (in-process), with a clock the test moves. */
describe('health store transitions', () => {
  let store: Awaited<ReturnType<typeof startEmbeddedStore>>;
  let table: Table;
  const settings = healthSettings({ passive: { failures: 2, windowMs: 10_000, cooldownMs: 5000 } });
  const failure = (backend: string) => ({ pool: 'p', backend, reason: 'ECONNREFUSED' });
  const stateOf = async (backend: string, nowMs: number) => {
    const record = (await readPoolHealth(table, 'p', nowMs)).find((item) => item.backend === backend);
    return record ? healthState(record, nowMs, settings) : 'healthy';
  };

  beforeAll(async () => {
    store = await startEmbeddedStore(undefined);
    table = {
      client: createDynamoDbClient({ endpoint: store.endpoint, region: 'us-east-1' }),
      name: 'health',
    };
    await ensureTable(table);
  });
  afterAll(async () => {
    table?.client.destroy();
    await store?.close();
  });

  it('N failures within T mark it for the cool-down; after it, one failure marks it again', async () => {
    const b = 'ftp://10.0.0.1:21';
    const t = 1_000_000;
    expect(await recordPassiveFailure(table, failure(b), t, settings)).toEqual({
      failures: 1,
      marked: false,
    });
    expect(await stateOf(b, t)).toBe('suspect');
    expect(await recordPassiveFailure(table, failure(b), t + 1000, settings)).toEqual({
      failures: 2,
      unhealthyUntil: t + 6000,
      marked: true,
    });
    expect(await stateOf(b, t + 1000)).toBe('unhealthy');
    // Reported late by another worker: already unhealthy, not marked again.
    expect((await recordPassiveFailure(table, failure(b), t + 2000, settings)).marked).toBe(false);
    expect(await stateOf(b, t + 6000)).toBe('suspect');
    // Probation: a single failure after the cool-down is enough.
    const again = await recordPassiveFailure(table, failure(b), t + 20_000, settings);
    expect(again).toEqual({ failures: 1, unhealthyUntil: t + 25_000, marked: true });
  });

  it('failures in separate windows do not add up', async () => {
    const b = 'ftp://10.0.0.2:21';
    const t = 2_000_000;
    await recordPassiveFailure(table, failure(b), t, settings);
    expect(await recordPassiveFailure(table, failure(b), t + 11_000, settings)).toEqual({
      failures: 1,
      marked: false,
    });
  });

  it('a success clears failures and probation; a second success has nothing to clear', async () => {
    const b = 'ftp://10.0.0.3:21';
    const t = 3_000_000;
    await recordPassiveFailure(table, failure(b), t, settings);
    await recordPassiveFailure(table, failure(b), t, settings);
    expect(await recordConnectSuccess(table, { pool: 'p', backend: b }, t + 7000)).toBe(true);
    expect(await stateOf(b, t + 7000)).toBe('healthy');
    expect(await recordConnectSuccess(table, { pool: 'p', backend: b }, t + 8000)).toBe(false);
  });

  it('a failed active check holds it unhealthy; a passing one brings it back at once', async () => {
    const b = 'ftp://10.0.0.4:21';
    const t = 4_000_000;
    const check = { at: t, latencyMs: 3, protocol: 'ftp' as const };
    await recordCheckResult(
      table,
      { pool: 'p', backend: b },
      { ...check, ok: false, reason: 'banner 421 busy' },
      settings,
    );
    expect(await stateOf(b, t + 59_000)).toBe('unhealthy');
    const [record] = (await readPoolHealth(table, 'p', t)).filter((item) => item.backend === b);
    expect(record?.unhealthyReason).toBe('active ftp check failed: banner 421 busy');
    expect(record?.check).toMatchObject({ ok: false, latencyMs: 3, reason: 'banner 421 busy' });
    await recordCheckResult(
      table,
      { pool: 'p', backend: b },
      { ...check, at: t + 1000, ok: true, reason: '220 banner' },
      settings,
    );
    expect(await stateOf(b, t + 1000)).toBe('healthy');
  });
});
