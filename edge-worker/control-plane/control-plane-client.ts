import type {
  ResolveBackendRequest,
  ResolveBackendResponse,
} from '../../functions/contract/resolve-backend.js';
import type { SessionEventsRequest, SessionEventsResponse } from '../../functions/contract/session-events.js';

/**
 * What the edge worker asks of the control plane. One interface, several transports: in-process
 * (embedded mode) today, HTTP to the deployed functions later. Sessions never know which.
 */
export interface ControlPlaneClient {
  resolveBackend(request: ResolveBackendRequest): Promise<ResolveBackendResponse>;
  /** Reports a backend session's connect, failure, end, or the worker's heartbeat (LeastConns, LeastResponseTime). */
  sessionEvent(event: SessionEventsRequest): Promise<SessionEventsResponse>;
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
