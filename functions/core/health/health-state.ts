import type { HealthSettings } from './health-settings.js';

/** The last active check of a backend. */
export interface CheckResult {
  ok: boolean;
  /** Epoch ms. */
  at: number;
  latencyMs: number;
  protocol: 'ftp' | 'ftps' | 'sftp';
  reason: string;
  /** FTPS: the backend certificate's notAfter (epoch ms). */
  certNotAfter?: number;
  /** E.g. a certificate close to expiry: the check passed, an operator should look. */
  warning?: string;
}

/** A backend's health record in one pool, as stored (core/health/health-store.ts). */
export interface BackendHealth {
  pool: string;
  backend: string;
  /** Failed connects in the current window. */
  failures: number;
  windowStart?: number;
  lastFailureAt?: number;
  lastFailureReason?: string;
  /** Set when marked unhealthy; kept (on probation) after the cool-down until a success. */
  unhealthyUntil?: number;
  unhealthyReason?: string;
  lastSuccessAt?: number;
  check?: CheckResult;
}

export type HealthState = 'healthy' | 'suspect' | 'unhealthy';

/**
 * - `unhealthy`: inside a cool-down (passive) or hold (failed active check): selections skip it;
 * - `suspect`: failures in the current window, or on probation after a cool-down: used, and its
 *   next successful connect is reported so that it is cleared;
 * - `healthy`: anything else.
 */
export function healthState(health: BackendHealth, nowMs: number, settings: HealthSettings): HealthState {
  if (health.unhealthyUntil !== undefined && health.unhealthyUntil > nowMs) return 'unhealthy';
  if (health.unhealthyUntil !== undefined) return 'suspect';
  if (health.failures > 0 && (health.windowStart ?? 0) > nowMs - settings.passive.windowMs) return 'suspect';
  return 'healthy';
}
