import type { BackendHealth } from '../store/index.js';
import type { HealthSettings } from './health-settings.js';

// The records are the store's (it reads and writes them); their meaning is decided here.
export type { BackendHealth, CheckResult } from '../store/index.js';

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
