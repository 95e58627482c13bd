import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { children, decode, TAG } from '../../functions/core/der.js';

/** A control connection is issued two TLS 1.3 tickets per handshake; this bounds renegotiations and odd clients. */
const MAX_SECRETS_PER_CONNECTION = 32;

/**
 * Which TLS sessions belong to which frontend connection, so that a protected data connection is
 * accepted only when it resumes a session of ITS control connection (mod_tls, TLSOptions
 * NoSessionReuseRequired: "the SSL session used for the data connection [must be] the same as the
 * control connection's"). Sessions and tickets are shared by every client of a listener (and by
 * every worker, through the shared cache and ticket keys), so "the data connection resumed a
 * session" alone lets a client behind the same address resume its own session on another client's
 * passive port.
 *
 * What identifies a session in Node 20 / OpenSSL 3 (measured, see docs/tls-caches.md "Data
 * connections"): the master key field of the serialised SSL_SESSION (tlsSocket.getSession(), which
 * the server side returns too):
 * - TLS 1.2, by session ID or by ticket: a resumed connection has the master key of the session it
 *   resumed, which is the control connection's own (its getSession() after the handshake). Session
 *   IDs do not work for tickets: the resumed session carries the ID the client sent with the ticket.
 * - TLS 1.3: every ticket has its own resumption PSK, which OpenSSL keeps as the session's master key;
 *   a connection that resumes a ticket has that PSK as its master key. The server learns the tickets
 *   only through `newSession` (once per ticket, two per full handshake); the control connection's
 *   getSession() shows only the last one. `newSession` carries no socket, so each frontend socket is
 *   created inside an AsyncLocalStorage scope: Node raises the event from the socket's TLSWrap, whose
 *   async context is the one it was created in.
 * Only SHA-256 digests of the secrets are kept, never the secrets themselves.
 */
export class SessionBinding {
  private readonly scope = new AsyncLocalStorage<Set<string>>();
  private readonly secrets = new WeakMap<TLSSocket, Set<string>>();

  /** Creates a frontend TLS socket so that the sessions issued on it are recorded for it. */
  track(create: () => TLSSocket): TLSSocket {
    const issued = new Set<string>();
    const socket = this.scope.run(issued, create);
    this.secrets.set(socket, issued);
    return socket;
  }

  /**
   * The tls.Server's `newSession` listener (TLS 1.2 session IDs, TLS 1.3 tickets). Attach it in
   * addition to any cache: Node raises session events only when the server has listeners, and the
   * first `done` wins.
   */
  readonly onNewSession = (_id: Buffer, data: Buffer, done: () => void): void => {
    const issued = this.scope.getStore();
    if (issued) remember(issued, data);
    done();
  };

  /** Records the session a socket holds once its handshake is done (its own or the one it resumed). */
  established(socket: TLSSocket): void {
    const issued = this.secrets.get(socket);
    const data = socket.getSession();
    if (issued && data) remember(issued, data);
  }

  /** Did `data` resume a session that `control` established or was issued? */
  belongsTo(data: TLSSocket, control: TLSSocket): boolean {
    const session = data.getSession();
    const secret = session ? secretDigest(session) : undefined;
    if (secret === undefined) return false;
    // The control connection's current session too: TLS 1.2 sessions resumed on it, renegotiations.
    const current = control.getSession();
    if (current && secretDigest(current) === secret) return true;
    return this.secrets.get(control)?.has(secret) ?? false;
  }
}

function remember(issued: Set<string>, session: Buffer): void {
  const secret = secretDigest(session);
  if (secret === undefined) return;
  if (issued.size >= MAX_SECRETS_PER_CONNECTION) {
    const oldest = issued.values().next().value;
    if (oldest !== undefined) issued.delete(oldest);
  }
  issued.add(secret);
}

/**
 * SHA-256 of the master key of a serialised OpenSSL session (SSL_SESSION_ASN1: version,
 * ssl_version, cipher, session_id, master_key, ...), or undefined when it has none (a TLS 1.3
 * connection before its first ticket) or cannot be read.
 */
export function secretDigest(session: Buffer): string | undefined {
  try {
    const masterKey = children(decode(session))[4];
    if (!masterKey || masterKey.tag !== TAG.OCTET_STRING || masterKey.content.length === 0) return undefined;
    return createHash('sha256').update(masterKey.content).digest('hex');
  } catch {
    return undefined;
  }
}
