import type { ControlPlaneClient } from '../control-plane/control-plane-client.js';
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
}): TlsServerHook {
  const { settings } = deps;
  return {
    serverOptions: (certificate) => frontendTlsServerOptions(settings, certificate),
    attach: (server, certificate) => {
      const caches = attachFrontendTlsCaches(server, certificate, deps);
      const local = settings.sessions.enabled ? undefined : attachLocalSessionCache(server);
      return {
        close: async () => {
          // The statistics go out before the control plane closes (close() itself sends nothing).
          await caches.flushStats().catch(() => undefined);
          caches.close();
          local?.close();
        },
      };
    },
  };
}
