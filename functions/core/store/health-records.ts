/**
 * The health records the store keeps per backend and pool, and the thresholds its conditional
 * updates apply (health/health-settings.ts holds them with their defaults and meaning).
 */

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

/** A backend's health record in one pool, as stored (store/health-store.ts; health/health-state.ts decides what it means). */
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

/** The part of the health settings the store's atomic updates need. */
export interface HealthThresholds {
  passive: { failures: number; windowMs: number; cooldownMs: number };
  activeFailureHoldMs: number;
}
