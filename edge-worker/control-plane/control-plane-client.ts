import type { AbuseRequest, AbuseResponse } from '../../functions/contract/abuse.js';
import type { AuthRequest, AuthResponse } from '../../functions/contract/auth.js';
import type {
  ResolveBackendRequest,
  ResolveBackendResponse,
} from '../../functions/contract/resolve-backend.js';
import type { SessionEventsRequest, SessionEventsResponse } from '../../functions/contract/session-events.js';
import type { SshHostKeyRequest, SshHostKeyResponse } from '../../functions/contract/ssh-host-keys.js';
import type { TlsCacheRequest, TlsCacheResponse } from '../../functions/contract/tls-cache.js';

/**
 * What the edge worker asks of the control plane. One interface, several transports: in-process
 * (embedded mode) today, HTTP to the deployed functions later. Sessions never know which.
 */
export interface ControlPlaneClient {
  resolveBackend(request: ResolveBackendRequest): Promise<ResolveBackendResponse>;
  /** Reports a backend session's connect, failure, end, or the worker's heartbeat (LeastConns, LeastResponseTime). */
  sessionEvent(event: SessionEventsRequest): Promise<SessionEventsResponse>;
  /**
   * Proxy authentication (UseReverseProxyAuth): checks USER / PASS against the pool's proxy users
   * or its identity hook. Never cached: when the control plane cannot answer, the login fails.
   */
  authenticate(request: AuthRequest): Promise<AuthResponse>;
  /**
   * The shared TLS caches (frontend sessions, ticket keys, OCSP responses, backend sessions;
   * contract/tls-cache.ts). Never served from a cache here: edge-worker/tls/frontend-caches.ts and
   * backend-tls-sessions.ts keep their own local copies.
   */
  tlsCache(request: TlsCacheRequest): Promise<TlsCacheResponse>;
  /**
   * ProxySFTPVerifyServer: reads or stores an SFTP backend's host key. Optional: a client without it
   * (test doubles) leaves the edge worker to keep host keys in memory.
   */
  sshHostKey?(request: SshHostKeyRequest): Promise<SshHostKeyResponse>;
  /**
   * Bans and connection-limit counts shared by every worker (contract/abuse.ts). Optional: without
   * it (test doubles) the limits are kept per worker and bans are not shared.
   */
  abuse?(request: AbuseRequest): Promise<AbuseResponse>;
}

/** The control plane did not answer, or answered with something the contract does not allow. */
export class ControlPlaneError extends Error {
  override readonly name = 'ControlPlaneError';
  constructor(
    readonly operation: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`control plane ${operation}: ${message}`, options);
  }
}

/**
 * The control plane answered and refused the request (HTTP 4xx other than 429, or a handler's
 * invalid-request error): the request or the credentials are wrong. Retrying or serving a cached
 * answer would only hide the mistake, so callers fail at once.
 */
export class ControlPlaneRejectedError extends ControlPlaneError {
  constructor(
    operation: string,
    /** The HTTP status (400, 401, 403, 404, 405, 413, 415, ...). */
    readonly status: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(operation, message, options);
  }
}

/**
 * True when `err` means the control plane could not be used (no answer, a timeout, a 5xx or 429, a
 * malformed answer): the cases where an edge worker may fall back to what it cached. False for a
 * refusal (ControlPlaneRejectedError, or an in-process handler's 4xx error) and for anything that
 * is not a ControlPlaneError.
 */
export function isControlPlaneUnavailable(err: unknown): boolean {
  if (!(err instanceof ControlPlaneError) || err instanceof ControlPlaneRejectedError) return false;
  const status = (err.cause as { statusCode?: unknown } | undefined)?.statusCode;
  return !(typeof status === 'number' && status >= 400 && status < 500 && status !== 429);
}

/** A client that holds resources (connections, timers) to release when the worker stops. */
export interface ClosableControlPlaneClient extends ControlPlaneClient {
  close(): Promise<void>;
}
