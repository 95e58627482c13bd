import type { TlsCacheRequest, TlsCacheResponse } from '../../functions/contract/tls-cache.js';
import { type ControlPlaneClient, ControlPlaneError } from '../control-plane/control-plane-client.js';

/** The control plane as a background user of the tls-cache function sees it, and its wait for quiet. */
export interface TrackedTlsCache {
  client: ControlPlaneClient;
  /**
   * Resolves once every call made so far has settled; from the moment it is asked for, new calls
   * fail at once instead of reaching the store.
   */
  settled(): Promise<void>;
}

/**
 * Remembers every tls-cache call until it settles, so the owner can close only after its
 * background calls (session puts, OCSP stores) are done: an in-process store closed under a call
 * fails outside any promise. `observe` sees each call's outcome (metrics).
 */
export function trackTlsCacheCalls(
  controlPlane: ControlPlaneClient,
  closingMessage: string,
  observe?: (request: TlsCacheRequest, outcome: TlsCacheResponse | Error) => void,
): TrackedTlsCache {
  const inFlight = new Set<Promise<unknown>>();
  let closing = false;
  const tlsCache = (request: TlsCacheRequest): Promise<TlsCacheResponse> => {
    if (closing) return Promise.reject(new ControlPlaneError('tls-cache', closingMessage));
    const call = controlPlane.tlsCache(request);
    const settledCall = call.then(
      (answer) => observe?.(request, answer),
      (err: unknown) => observe?.(request, err instanceof Error ? err : new Error(String(err))),
    );
    inFlight.add(settledCall);
    void settledCall.then(() => inFlight.delete(settledCall));
    return call;
  };
  return {
    client: { ...controlPlane, tlsCache },
    settled: async () => {
      closing = true;
      while (inFlight.size > 0) await Promise.all([...inFlight]);
    },
  };
}

/** The result a lookup's outcome counts as in the metrics: hit, miss, expired, or error. */
export function lookupResult(outcome: TlsCacheResponse | Error): string {
  return outcome instanceof Error || !('result' in outcome) ? 'error' : outcome.result;
}
