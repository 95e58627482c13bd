import type { TlsCacheRequest, TlsCacheResponse } from '../../functions/contract/tls-cache.js';
import type { EdgeMetrics } from '../admin/edge-metrics.js';
import { type ControlPlaneClient, ControlPlaneError } from '../control-plane/control-plane-client.js';
import type { Logger } from '../log/logger.js';
import { attachFrontendTlsCaches, frontendTlsServerOptions } from './frontend-caches.js';
import type { TlsServerHook } from './frontend-tls-context.js';
import { attachLocalSessionCache } from './local-session-cache.js';
import type { FrontendTlsCacheSettings } from './tls-cache-settings.js';

/**
 * What every TLS listener of an edge worker gets on its tls.Server: the shared caches (sessions,
 * ticket keys, OCSP stapling), and, when the shared session cache is off (`TLSSessionCache off`), a
 * per-process one, so that data connections can still resume their control connection's session.
 */
export function listenerTlsHook(deps: {
  controlPlane: ControlPlaneClient;
  settings: FrontendTlsCacheSettings;
  log: Logger;
  metrics?: EdgeMetrics;
}): TlsServerHook {
  const { settings, metrics } = deps;
  return {
    handshake: (resumed) => metrics?.tlsHandshake('frontend', resumed),
    serverOptions: (certificate) => frontendTlsServerOptions(settings, certificate),
    attach: (server, certificate) => {
      const tracked = trackCacheCalls(deps.controlPlane, metrics);
      const caches = attachFrontendTlsCaches(server, certificate, { ...deps, controlPlane: tracked.client });
      const local = settings.sessions.enabled ? undefined : attachLocalSessionCache(server);
      return {
        close: async () => {
          // The statistics go out before the control plane closes (close() itself sends nothing).
          await caches.flushStats().catch(() => undefined);
          caches.close();
          local?.close();
          // Session puts and OCSP stores run in the background: the store must outlive them (an
          // in-process store closed under a call fails outside any promise).
          await tracked.settled();
        },
      };
    },
  };
}

/**
 * The control plane as the caches of one listener see it: every tls-cache call is remembered until it
 * settles, and after `settled()` was asked for, new calls fail at once instead of reaching the store.
 */
function trackCacheCalls(
  controlPlane: ControlPlaneClient,
  metrics: EdgeMetrics | undefined,
): {
  client: ControlPlaneClient;
  settled(): Promise<void>;
} {
  const inFlight = new Set<Promise<unknown>>();
  let closing = false;
  const tlsCache = (request: TlsCacheRequest): Promise<TlsCacheResponse> => {
    if (closing) return Promise.reject(new ControlPlaneError('tls-cache', 'the listener is closing'));
    const call = controlPlane.tlsCache(request);
    const settledCall = call.then(
      (answer) => {
        if (answer.op === 'session-get' || answer.op === 'ocsp-get') {
          metrics?.tlsCacheLookup(answer.op === 'session-get' ? 'sessions' : 'ocsp', answer.result);
        }
      },
      () => {
        if (request.op === 'session-get' || request.op === 'ocsp-get') {
          metrics?.tlsCacheLookup(request.op === 'session-get' ? 'sessions' : 'ocsp', 'error');
        }
      },
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
