import type { EdgeMetrics } from '../admin/edge-metrics.js';
import type { ControlPlaneClient } from '../control-plane/control-plane-client.js';
import type { Logger } from '../log/logger.js';
import { attachFrontendTlsCaches, frontendTlsServerOptions } from './frontend-caches.js';
import type { TlsServerHook } from './frontend-tls-context.js';
import { attachLocalSessionCache } from './local-session-cache.js';
import type { FrontendTlsCacheSettings } from './tls-cache-settings.js';
import { lookupResult, type TrackedTlsCache, trackTlsCacheCalls } from './tracked-tls-cache.js';

/**
 * What every TLS listener of an edge worker gets on its tls.Server: the shared caches (sessions,
 * ticket keys, OCSP stapling), and, when the shared session cache is off (`TLSSessionCache
 * internal:`), a per-process one, so that data connections can still resume their control
 * connection's session; `TLSSessionCache off` has neither.
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
      // `TLSSessionCache off`: neither cache listens, and Node keeps no session IDs of its own
      // (SSL_SESS_CACHE_NO_INTERNAL_STORE): no session-ID resumption, as mod_tls's SSL_SESS_CACHE_OFF.
      const local =
        settings.sessions.enabled || !settings.sessions.workerCache
          ? undefined
          : attachLocalSessionCache(server);
      return {
        ready: caches.ticketKeyReady,
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

/** The listener's tls-cache calls, tracked so that closing waits for them, with lookups counted. */
function trackCacheCalls(
  controlPlane: ControlPlaneClient,
  metrics: EdgeMetrics | undefined,
): TrackedTlsCache {
  return trackTlsCacheCalls(controlPlane, 'the listener is closing', (request, outcome) => {
    if (request.op !== 'session-get' && request.op !== 'ocsp-get') return;
    metrics?.tlsCacheLookup(request.op === 'session-get' ? 'sessions' : 'ocsp', lookupResult(outcome));
  });
}
