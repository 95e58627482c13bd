import type { BackendUrl } from '../../../functions/core/backend-url.js';
import type { Logger } from '../../log/logger.js';
import type { BackendTls } from '../../tls/backend-tls-context.js';
import type { ConnectOptions } from '../control/backend-connect.js';
import type { BackendControl } from '../control/backend-control.js';
import type { FtpCommand } from '../control/command-parser.js';
import type { ControlChannel } from '../control/frontend-control.js';
import { localReply } from '../control/reply.js';
import { backendConnectTls, backendProt, negotiateBackendTls, setBackendProtection } from './backend-tls.js';
import type { FrontendSecurity } from './frontend-security.js';

/** A connected backend (reverse) or destination (forward), as TLS bridging sees it. */
export interface BridgedBackend {
  control: BackendControl;
  /** Its host (the TLS server name and the name verified) and whether it is implicit FTPS. */
  url: BackendUrl;
  /** Its key in the backend TLS session cache. */
  key: string;
}

export interface SecurityCommandContext {
  security: FrontendSecurity;
  frontend: ControlChannel;
  /** The session's backend now, if connected. */
  backend: BridgedBackend | undefined;
  /** The pool's backend TLS client (ProxyTLS*); undefined when its engine is off. */
  backendTls: BackendTls | undefined;
  log: Logger;
  /**
   * Runs once the client's control connection turned TLS, before the backend follows the client
   * (MatchClient); true when the session took it from there (reverse: the SNI name chose another pool).
   */
  onTlsStarted?: () => Promise<boolean>;
}

/**
 * The `tls` connect option for one backend: ProxyTLSEngine (MatchClient reads how the client came
 * in) and ProxyTLSTransferProtectionPolicy (`client` reads the client's PROT). Undefined for plain FTP.
 */
export function bridgedConnectTls(
  backendTls: BackendTls | undefined,
  url: BackendUrl,
  key: string,
  security: FrontendSecurity,
  log: Logger,
): ConnectOptions['tls'] {
  return backendTls ? backendConnectTls(backendTls, url, key, security, log) : undefined;
}

/**
 * AUTH, PBSZ, PROT, CCC and the other RFC 2228 commands, the same in both roles: the proxy answers
 * them (FrontendSecurity), then the backend follows where ProxyTLS* says it must. With MatchClient, a
 * client that turns TLS on after the backend was connected in plain text gets its backend upgraded
 * too; under transferProtection `client`, the client's PROT is passed on. Returns why the session
 * must end (the client was told), or undefined.
 */
export async function bridgeSecurityCommand(
  command: FtpCommand,
  ctx: SecurityCommandContext,
): Promise<string | undefined> {
  const { security, frontend, backend, backendTls, log } = ctx;
  const outcome = await security.handle(command, frontend);
  if (outcome === 'tls-failed') return 'client TLS handshake failed';
  if (outcome === 'tls-started') {
    if (ctx.onTlsStarted && (await ctx.onTlsStarted())) return undefined;
    if (backend && !backend.control.tls && backendTls?.config.engine === 'MatchClient') {
      const matched = await negotiateBackendTls(
        backend.control,
        backendTls,
        backend.url,
        backend.key,
        'required',
        backendProt(backendTls.config, security),
        log,
      ).catch((err: unknown) => {
        log.warn('backend TLS for MatchClient failed', { reason: (err as Error).message });
        return false;
      });
      if (!matched) {
        // The client asked for a protected session; going on in plain text to the backend would betray that.
        await frontend.sendAndClose(
          localReply(421, 'Service not available, backend TLS negotiation failed.'),
        );
        return 'backend TLS (MatchClient) failed';
      }
    }
    return undefined;
  }
  if (
    outcome === 'prot-changed' &&
    backend?.control.tls &&
    backendTls?.config.transferProtection === 'client'
  ) {
    const prot = security.prot;
    if (!(await setBackendProtection(backend.control, prot))) {
      log.warn('backend refused the PROT the client chose', { prot });
    }
  }
  return undefined;
}
