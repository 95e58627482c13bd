import { DEFAULT_LEASE_TTL_MS, type SessionEventsResponse } from '../contract/session-events.js';
import { DEFAULT_HEALTH_SETTINGS, type HealthSettings } from './health/index.js';
import type { Random } from './random.js';
import type { Table } from './store/index.js';
import {
  acquireLease,
  extendLease,
  recordConnectFailure,
  recordConnectSample,
  recordConnectSuccess,
  recordPassiveFailure,
  releaseLease,
} from './store/index.js';

/** Heartbeat lease extensions in flight at once. */
const HEARTBEAT_CONCURRENCY = 16;

export type SessionEvent =
  | { type: 'connected'; pool: string; backend: string; workerId: string; connectMs: number }
  | { type: 'connect-failed'; pool: string; backend: string; reason: string; workerId?: string }
  | { type: 'ended'; pool: string; backend: string; workerId: string }
  | { type: 'connect-succeeded'; pool: string; backend: string; workerId?: string }
  | { type: 'heartbeat'; workerId: string; leases: { pool: string; backend: string }[] };

export interface SessionEventsOptions {
  /** Epoch milliseconds; defaults to Date.now. */
  now?: () => number;
  /** How long a lease lives without a connect or heartbeat; defaults to 30 s. */
  leaseTtlMs?: number;
  /** For the jitter between optimistic retries; defaults to Math.random. */
  random?: Random;
  /** Passive health thresholds; default DEFAULT_HEALTH_SETTINGS. */
  health?: HealthSettings;
}

/** Applies one session event to the store. Every write is atomic or conditional. */
export async function handleSessionEvent(
  table: Table,
  event: SessionEvent,
  options: SessionEventsOptions = {},
): Promise<SessionEventsResponse> {
  const nowMs = (options.now ?? Date.now)();
  const ttlMs = options.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS;
  switch (event.type) {
    case 'connected': {
      // The lease first: it is what LeastConns reads; the sample is best effort under contention.
      const lease = await acquireLease(table, event, nowMs, ttlMs);
      const time = await recordConnectSample(
        table,
        event.pool,
        event.backend,
        event.connectMs,
        nowMs,
        options.random ?? Math.random,
      );
      return {
        type: 'connected',
        leaseCount: lease.count,
        leaseExpiresAt: lease.expiresAt,
        ...(time ? { connectMsEwma: time.ewmaMs } : {}),
      };
    }
    case 'connect-failed': {
      const settings = options.health ?? DEFAULT_HEALTH_SETTINGS;
      const [failures, health] = await Promise.all([
        recordConnectFailure(table, event, nowMs),
        settings.passive.enabled ? recordPassiveFailure(table, event, nowMs, settings) : undefined,
      ]);
      return {
        type: 'connect-failed',
        failures,
        ...(health ? { unhealthy: health.unhealthyUntil !== undefined } : {}),
      };
    }
    case 'connect-succeeded':
      return { type: 'connect-succeeded', cleared: await recordConnectSuccess(table, event, nowMs) };
    case 'ended': {
      const { released, count } = await releaseLease(table, event, nowMs);
      return { type: 'ended', released, leaseCount: count };
    }
    case 'heartbeat':
      return heartbeat(table, event, nowMs, ttlMs);
  }
}

async function heartbeat(
  table: Table,
  event: Extract<SessionEvent, { type: 'heartbeat' }>,
  nowMs: number,
  ttlMs: number,
): Promise<SessionEventsResponse> {
  const unique = new Map(event.leases.map((lease) => [JSON.stringify([lease.pool, lease.backend]), lease]));
  const leases = [...unique.values()];
  const expired: { pool: string; backend: string }[] = [];
  let extended = 0;
  for (let start = 0; start < leases.length; start += HEARTBEAT_CONCURRENCY) {
    const batch = leases.slice(start, start + HEARTBEAT_CONCURRENCY);
    const results = await Promise.all(
      batch.map((lease) => extendLease(table, { ...lease, workerId: event.workerId }, nowMs, ttlMs)),
    );
    results.forEach((ok, i) => {
      if (ok) extended += 1;
      else expired.push(batch[i] as { pool: string; backend: string });
    });
  }
  return { type: 'heartbeat', extended, expired };
}
