import type { BackendHealthView, PoolHealthView } from '../../contract/health.js';
import type { Table } from '../store/index.js';
import { readPoolHealth } from '../store/index.js';
import type { HealthSettings } from './health-settings.js';
import { type BackendHealth, healthState } from './health-state.js';

const iso = (ms: number) => new Date(ms).toISOString();

/** A pool's health records as the API shows them, in backend order. */
export async function poolHealthView(
  table: Table,
  pool: string,
  nowMs: number,
  settings: HealthSettings,
): Promise<PoolHealthView> {
  const records = await readPoolHealth(table, pool, nowMs);
  return {
    pool,
    backends: records
      .map((record) => backendHealthView(record, nowMs, settings))
      .sort((a, b) => a.backend.localeCompare(b.backend)),
  };
}

export function backendHealthView(
  record: BackendHealth,
  nowMs: number,
  settings: HealthSettings,
): BackendHealthView {
  const state = healthState(record, nowMs, settings);
  const { check } = record;
  return {
    backend: record.backend,
    state,
    failures: state === 'healthy' ? 0 : record.failures,
    ...(record.unhealthyUntil !== undefined ? { unhealthyUntil: iso(record.unhealthyUntil) } : {}),
    ...(record.unhealthyReason !== undefined ? { reason: record.unhealthyReason } : {}),
    ...(record.lastFailureAt !== undefined ? { lastFailureAt: iso(record.lastFailureAt) } : {}),
    ...(record.lastFailureReason !== undefined ? { lastFailureReason: record.lastFailureReason } : {}),
    ...(record.lastSuccessAt !== undefined ? { lastSuccessAt: iso(record.lastSuccessAt) } : {}),
    ...(check
      ? {
          check: {
            ok: check.ok,
            at: iso(check.at),
            protocol: check.protocol,
            latencyMs: check.latencyMs,
            reason: check.reason,
            ...(check.certNotAfter !== undefined ? { certNotAfter: iso(check.certNotAfter) } : {}),
            ...(check.warning !== undefined ? { warning: check.warning } : {}),
          },
        }
      : {}),
  };
}
