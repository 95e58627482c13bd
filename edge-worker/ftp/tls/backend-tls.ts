import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { BackendUrl } from '../../../functions/core/backend-url.js';
import type { BackendTlsConfig } from '../../config/tls-schema.js';
import type { Logger } from '../../log/logger.js';
import type { BackendTls } from '../../tls/backend-tls-context.js';
import { type BackendControl, describeReply } from '../control/backend-control.js';
import { isSuccess } from '../control/reply.js';
import type { DataEndpoint } from '../data/data-endpoint.js';
import { DataConnectionError } from '../data/data-errors.js';

/** How the client reached the proxy, for ProxyTLSEngine MatchClient. */
export type ClientTlsState = 'none' | 'explicit' | 'implicit';

/**
 * What the proxy does with TLS towards one backend: nothing, implicit FTPS (TLS before the banner),
 * AUTH TLS that must succeed, or AUTH TLS with plain FTP when refused (`auto`).
 */
export type BackendTlsMode = 'off' | 'implicit' | 'required' | 'try';

/**
 * ProxyTLSEngine for one backend URL (http://www.proftpd.org/docs/contrib/mod_proxy.html#ProxyTLSEngine): an `ftps://host:990` URL is implicit FTPS and
 * any other ftps:// URL needs TLS, unless the engine is off; MatchClient copies the client.
 */
export function backendTlsMode(
  url: BackendUrl,
  engine: BackendTlsConfig['engine'],
  client: ClientTlsState,
): BackendTlsMode {
  if (engine === 'off') return 'off';
  if (url.implicitTls) return 'implicit';
  if (engine === 'MatchClient') {
    if (client === 'implicit') return 'implicit';
    if (client === 'explicit' || url.protocol === 'ftps') return 'required';
    return 'off';
  }
  if (engine === 'on' || url.protocol === 'ftps') return 'required';
  return 'try';
}

/** What the client side says about TLS, for MatchClient and the `client` transfer-protection policy. */
export interface ClientTlsView {
  clientState: ClientTlsState;
  /** The client's PROT (C until it sends one). */
  prot: 'C' | 'P';
}

/** PROT for the backend: the policy's, or under `client` the client's (P while the client has no TLS, as in mod_proxy). */
export function backendProt(config: BackendTlsConfig, client: ClientTlsView): 'P' | 'C' {
  if (config.transferProtection === 'required') return 'P';
  if (config.transferProtection === 'clear') return 'C';
  return client.clientState === 'none' ? 'P' : client.prot;
}

/** The `tls` connect option for one backend (ProxyTLSEngine, ProxyTLSTransferProtectionPolicy); undefined for plain FTP. */
export function backendConnectTls(
  client: BackendTls,
  url: BackendUrl,
  key: string,
  view: ClientTlsView,
  log: Logger,
): { client: BackendTls; mode: BackendTlsMode; key: string; prot: 'P' | 'C'; log: Logger } | undefined {
  const mode = backendTlsMode(url, client.config.engine, view.clientState);
  if (mode === 'off') return undefined;
  return { client, mode, key, prot: backendProt(client.config, view), log };
}

/** How long a TLS 1.3 backend's session ticket is waited for before the first data connection. */
const TICKET_WAIT_MS = 2000;

/**
 * The TLS state of a backend control connection: the session data connections resume (vsftpd's
 * require_ssl_reuse and ProFTPD's default refuse any other), and whether PROT P is in force.
 */
export class BackendControlTls {
  /** PROT P accepted by the backend: data connections need TLS. */
  dataProtected = false;
  private latest: Buffer | undefined;
  private readonly waiters: Array<(session: Buffer) => void> = [];

  constructor(
    readonly socket: TLSSocket,
    private readonly client: BackendTls,
    private readonly host: string,
    private readonly key: string,
    private readonly log: Logger,
  ) {
    // Filed under the trust context that verified it: another pool's settings never resume it.
    const context = client.sessionContext(host);
    const cache = !client.config.noSessionCache && client.mayCacheSessionOf(socket);
    // TLS 1.3 sends tickets after the handshake; TLS 1.2 gives its session at once.
    socket.on('session', (session: Buffer) => {
      this.latest = session;
      if (cache) {
        log.trace('proxy.tls', 19, () => `caching SSL session using key '${key}'`);
        client.sessions.set(key, context, session);
      }
      for (const waiter of this.waiters.splice(0)) waiter(session);
    });
    if (socket.isSessionReused()) log.debug('backend TLS session resumed', { backend: key });
    // A TLS 1.2 session is complete with the handshake, whose 'session' event came before we listened.
    if (socket.getProtocol() !== 'TLSv1.3') {
      const session = socket.getSession();
      if (session) {
        this.latest = session;
        if (cache) {
          log.trace('proxy.tls', 19, () => `caching SSL session using key '${key}'`);
          client.sessions.set(key, context, session);
        }
      }
    }
  }

  get protocol(): string | null {
    return this.socket.getProtocol();
  }

  /** The session a data connection resumes; a TLS 1.3 ticket is waited for briefly if none came yet. */
  async dataSession(): Promise<Buffer | undefined> {
    if (this.latest) return this.latest;
    if (this.socket.getProtocol() === 'TLSv1.3') {
      const ticket = await new Promise<Buffer | undefined>((resolve) => {
        const timer = setTimeout(() => resolve(undefined), TICKET_WAIT_MS);
        this.waiters.push((session) => {
          clearTimeout(timer);
          resolve(session);
        });
      });
      if (ticket) return ticket;
      this.log.warn('backend sent no TLS 1.3 session ticket; its data connections cannot resume', {
        backend: this.key,
      });
    }
    return this.socket.getSession();
  }

  /** The endpoint with TLS on top (the proxy is the TLS client, whichever side connects). */
  protect(endpoint: DataEndpoint): DataEndpoint {
    return {
      description: `${endpoint.description} (TLS)`,
      open: async (signal) => {
        const raw = await endpoint.open(signal);
        try {
          return await this.client.connect(raw, this.host, {
            session: await this.dataSession(),
            log: this.log,
          });
        } catch (err) {
          raw.destroy();
          throw new DataConnectionError(`backend data TLS: ${(err as Error).message}`, { cause: err });
        }
      },
      dispose: () => endpoint.dispose(),
    };
  }
}

/**
 * Runs TLS on the control connection to a backend: implicitly (before the banner) or after AUTH TLS.
 * Returns the TLS state, or undefined when `try` found the backend without TLS. Throws when TLS was
 * required and failed (the connect attempt fails and the next backend is tried).
 */
export async function startBackendControlTls(
  socket: Socket,
  client: BackendTls,
  url: BackendUrl,
  key: string,
  log: Logger,
): Promise<BackendControlTls> {
  const context = client.sessionContext(url.host);
  let session: Buffer | undefined;
  if (client.config.noSessionCache) {
    log.trace('proxy.tls', 19, 'NoSessionCache ProxyTLSOptions in effect, not using cached SSL sessions');
  } else {
    log.trace('proxy.tls', 19, () => `looking for cached SSL session using key '${key}'`);
    session = await client.sessions.lookup(key, context);
    if (session) log.trace('proxy.tls', 12, () => `found cached SSL session using key '${key}'`);
    else log.trace('proxy.tls', 19, () => `no cached sessions found for key '${key}'`);
  }
  const tlsSocket = await client.connect(socket, url.host, { session, log }).catch((err: unknown) => {
    // A cached session the backend no longer accepts is not the reason; dropping it costs nothing.
    client.sessions.delete(key, context);
    throw err;
  });
  return new BackendControlTls(tlsSocket, client, url.host, key, log);
}

export class BackendTlsRefusedError extends Error {
  override readonly name = 'BackendTlsRefusedError';
}

/**
 * AUTH TLS on a connected control connection, then PBSZ 0 and PROT as ProxyTLSTransferProtectionPolicy
 * says (`prot`). Resolves false when the backend refused AUTH TLS and `mode` is `try`.
 */
export async function negotiateBackendTls(
  control: BackendControl,
  client: BackendTls,
  url: BackendUrl,
  key: string,
  mode: 'required' | 'try',
  prot: 'P' | 'C',
  log: Logger,
): Promise<boolean> {
  const auth = await control.command('AUTH TLS');
  // 334 (ADAT needed) counts as a refusal, as in mod_proxy.
  if (auth.code !== 234) {
    if (mode === 'try') {
      log.debug('backend refused AUTH TLS; plain FTP', { reply: describeReply(auth) });
      log.trace('proxy.ftp.sess', 9, 'backend server does not support AUTH TLS');
      return false;
    }
    throw new BackendTlsRefusedError(`backend refused AUTH TLS: ${describeReply(auth)}`);
  }
  const raw = control.detachSocket();
  const tls = await startBackendControlTls(raw, client, url, key, log);
  control.attachSocket(tls.socket);
  control.tls = tls;
  await setBackendProtection(control, prot);
  return true;
}

/** PBSZ 0 (its refusal does not matter) and PROT P or C; remembers whether data needs TLS. */
export async function setBackendProtection(control: BackendControl, prot: 'P' | 'C'): Promise<boolean> {
  if (!control.tls) return false;
  await control.command('PBSZ 0');
  const reply = await control.command(`PROT ${prot}`);
  if (isSuccess(reply)) control.tls.dataProtected = prot === 'P';
  return isSuccess(reply);
}
