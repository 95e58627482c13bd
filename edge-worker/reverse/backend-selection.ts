import type { BackendUrl } from '../../functions/shared/backend-url.js';
import type { ControlPlaneClient } from '../control-plane/control-plane-client.js';
import { type ConnectedBackend, type ConnectOptions, connectBackend } from '../ftp/backend-connect.js';
import type { Logger } from '../log/logger.js';
import { type ConnectionReporter, needsReports } from './connection-reporter.js';
import type { Pool } from './pool.js';

/** Every attempt allowed by ProxyRetryCount failed, or no backend was left to try. */
export class NoBackendAvailableError extends Error {
  override readonly name = 'NoBackendAvailableError';
}

export interface SelectedBackend extends ConnectedBackend {
  url: BackendUrl;
  key: string;
}

/**
 * Selects a backend through the control plane and connects to it. Each attempt re-runs the connect
 * policy (so RoundRobin's shared cursor moves on, as in mod_proxy) and skips every backend that
 * already failed in this session, up to ProxyRetryCount attempts. Connects and failures are reported
 * for the policies that count them.
 */
export interface SelectionContext {
  controlPlane: ControlPlaneClient;
  reporter: ConnectionReporter;
  log: Logger;
  /** PerUser: the user name; PerHost: the client address. */
  stickyKey?: string;
  prelude?: ConnectOptions['prelude'];
}

export async function selectAndConnect(pool: Pool, context: SelectionContext): Promise<SelectedBackend> {
  const { controlPlane, reporter, log, stickyKey, prelude } = context;
  const reports = needsReports(pool.config.connectPolicy);
  const failed: number[] = [];
  const reasons: string[] = [];
  for (let attempt = 1; attempt <= pool.config.retryCount; attempt++) {
    const { candidates } = await controlPlane.resolveBackend({
      pool: pool.config.name,
      policy: pool.config.connectPolicy,
      backends: pool.keys,
      exclude: failed,
      workerId: reporter.workerId,
      ...(stickyKey !== undefined ? { stickyKey } : {}),
    });
    const candidate = candidates[0];
    const url = candidate ? pool.backends[candidate.index] : undefined;
    if (!candidate || !url) break;
    const key = pool.keys[candidate.index] ?? candidate.backend;
    try {
      const connected = await connectBackend(url, {
        timeoutMs: pool.config.connectTimeout,
        ...(pool.config.sourceAddress ? { sourceAddress: pool.config.sourceAddress } : {}),
        ...(prelude ? { prelude } : {}),
      });
      log.info('connected to backend', { backend: key, attempt, connectMs: connected.connectMs });
      if (reports) reporter.connected(pool.config.name, key, connected.connectMs);
      return { ...connected, url, key };
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      log.warn('backend connect failed', { backend: key, attempt, reason });
      if (reports) reporter.failed(pool.config.name, key, reason);
      failed.push(candidate.index);
      reasons.push(`${key}: ${reason}`);
    }
  }
  throw new NoBackendAvailableError(
    reasons.length > 0 ? `no backend reachable (${reasons.join('; ')})` : 'no backend to try',
  );
}
