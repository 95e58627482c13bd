import type { Table } from '../store/index.js';
import { recordCheckResult } from '../store/index.js';
import { type ActiveCheckOptions, checkBackend } from './check-backend.js';
import type { HealthSettings } from './health-settings.js';
import type { CheckResult } from './health-state.js';
import type { AllowedTarget } from './target-destinations.js';

/** Checks in flight at once: each holds one connection to a backend for at most the timeout. */
const CONCURRENCY = 16;

export interface CheckOutcome extends CheckResult {
  pool: string;
  backend: string;
}

/** Checks every target (a few at a time; at its checked address when it has one) and stores each result as the backend's health in its pool. */
export async function runHealthChecks(
  table: Table,
  targets: readonly AllowedTarget[],
  options: ActiveCheckOptions,
  settings: HealthSettings,
): Promise<CheckOutcome[]> {
  const outcomes: CheckOutcome[] = [];
  let next = 0;
  const worker = async () => {
    while (next < targets.length) {
      const target = targets[next++] as AllowedTarget;
      const result =
        target.unresolved !== undefined
          ? unresolvedResult(target, target.unresolved, options)
          : await checkBackend(
              target.url,
              target.operator ? options : withoutAccount(options),
              target.address,
            );
      await recordCheckResult(table, target, result, settings);
      outcomes.push({ pool: target.pool, backend: target.backend, ...result });
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, targets.length) }, worker));
  return outcomes.sort((a, b) => a.pool.localeCompare(b.pool) || a.backend.localeCompare(b.backend));
}

function unresolvedResult(target: AllowedTarget, reason: string, options: ActiveCheckOptions): CheckResult {
  const protocol = target.url.protocol === 'sftp' ? 'sftp' : target.url.protocol === 'ftps' ? 'ftps' : 'ftp';
  return { ok: false, at: (options.now ?? Date.now)(), latencyMs: 0, protocol, reason };
}

/**
 * The health-check account is an account on the operator's backends: a registered or discovered
 * backend (a tenant's server, or whatever a DNS answer names) gets NOOP instead of the login, so its
 * owner never receives the account's password.
 */
function withoutAccount(options: ActiveCheckOptions): ActiveCheckOptions {
  if (options.check !== 'login' && options.user === undefined && options.password === undefined)
    return options;
  const { user: _user, password: _password, ...rest } = options;
  return { ...rest, check: options.check === 'login' ? 'noop' : options.check };
}
