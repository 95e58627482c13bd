import type { BackendUrl } from '../../functions/shared/backend-url.js';
import type { ControlPlaneClient } from '../control-plane/control-plane-client.js';
import { type ConnectedBackend, type ConnectOptions, connectBackend } from '../ftp/backend-connect.js';
import type { Logger } from '../log/logger.js';
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
 * already failed in this session, up to ProxyRetryCount attempts.
 */
export async function selectAndConnect(
  pool: Pool,
  controlPlane: ControlPlaneClient,
  log: Logger,
  prelude?: ConnectOptions['prelude'],
): Promise<SelectedBackend> {
  const failed: number[] = [];
  const reasons: string[] = [];
  for (let attempt = 1; attempt <= pool.config.retryCount; attempt++) {
    const { candidates } = await controlPlane.resolveBackend({
      pool: pool.config.name,
      policy: pool.config.connectPolicy,
      backends: pool.keys,
      exclude: failed,
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
      return { ...connected, url, key };
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      log.warn('backend connect failed', { backend: key, attempt, reason });
      failed.push(candidate.index);
      reasons.push(`${key}: ${reason}`);
    }
  }
  throw new NoBackendAvailableError(
    reasons.length > 0 ? `no backend reachable (${reasons.join('; ')})` : 'no backend to try',
  );
}
