import { BACKEND_TLS_SESSION_LIMITS } from '../../functions/contract/tls-cache.js';
import type { ControlPlaneClient } from '../control-plane/control-plane-client.js';
import type { Logger } from '../log/logger.js';
import { withTimeout } from '../runtime/with-timeout.js';

/** mod_proxy's limits for cached backend sessions (`lib/proxy/tls.c`). */
export const MAX_BACKEND_SESSIONS = BACKEND_TLS_SESSION_LIMITS.maxEntries;
export const BACKEND_SESSION_MAX_AGE_MS = BACKEND_TLS_SESSION_LIMITS.timeoutS * 1000;

/** The store behind the local map: every edge worker sharing it resumes every other's backend sessions. */
export interface SharedBackendSessions {
  /** The control plane's tls-cache function (tracked by the worker, which waits for it on close). */
  controlPlane: ControlPlaneClient;
  /** How long a backend connect waits for the store before it goes on with a full handshake, ms. */
  lookupTimeoutMs: number;
  log: Logger;
}

/**
 * TLS sessions of backends, by backend key (`ftp://host:port`), so the next proxy session's control
 * connection resumes instead of a full handshake. A per-process map in front of the store's
 * `backend-session` entries (when `shared` is given): `lookup` asks the store when the map has
 * nothing, `set` keeps the session here at once and writes it to the store in the background. Older
 * entries are dropped on lookup, and beyond 1000 backends new sessions are not cached (mod_proxy's
 * limits, here and in the store). The store never fails a session: an error or a slow answer is a
 * miss.
 */
export class BackendTlsSessions {
  private readonly sessions = new Map<string, { session: Buffer; storedAt: number }>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly shared?: SharedBackendSessions,
  ) {}

  get size(): number {
    return this.sessions.size;
  }

  /** The session in this process's map. */
  get(key: string): Buffer | undefined {
    const entry = this.sessions.get(key);
    if (!entry) return undefined;
    if (this.now() - entry.storedAt > BACKEND_SESSION_MAX_AGE_MS) {
      this.sessions.delete(key);
      return undefined;
    }
    return entry.session;
  }

  /** The session in this process's map, else the store's (kept here for the next connect). */
  async lookup(key: string): Promise<Buffer | undefined> {
    const local = this.get(key);
    if (local || !this.shared) return local;
    const { controlPlane, lookupTimeoutMs, log } = this.shared;
    try {
      const answer = await withTimeout(
        controlPlane.tlsCache({ op: 'backend-session-get', backend: key }),
        lookupTimeoutMs,
        () => {
          throw new Error(`no answer within ${lookupTimeoutMs} ms`);
        },
      );
      if (answer.op !== 'backend-session-get' || answer.result !== 'hit' || answer.data === undefined) {
        return undefined;
      }
      const session = Buffer.from(answer.data, 'base64');
      // Its age is the store's: it expires here when it does there.
      const storedAt =
        (answer.expiresAt ?? this.now() + BACKEND_SESSION_MAX_AGE_MS) - BACKEND_SESSION_MAX_AGE_MS;
      this.keep(key, session, storedAt);
      return session;
    } catch (err) {
      log.warn('cannot look up a backend TLS session in the store', {
        backend: key,
        error: err instanceof Error ? err.message : String(err),
      });
      return undefined;
    }
  }

  /** Keeps a backend's newest session here and, in the background, in the store. */
  set(key: string, session: Buffer): void {
    this.keep(key, session, this.now());
    if (!this.shared) return;
    const { controlPlane, log } = this.shared;
    controlPlane
      .tlsCache({
        op: 'backend-session-put',
        backend: key,
        data: session.toString('base64'),
        maxEntries: MAX_BACKEND_SESSIONS,
      })
      .then(
        (answer) => {
          if (answer.op === 'backend-session-put' && answer.result !== 'stored') {
            log.debug('backend TLS session not shared', { backend: key, result: answer.result });
          }
        },
        (err: unknown) =>
          log.warn('cannot store a backend TLS session in the store', {
            backend: key,
            error: err instanceof Error ? err.message : String(err),
          }),
      );
  }

  /** Forgets this process's session (one that failed a handshake); the store's is replaced by the next. */
  delete(key: string): void {
    this.sessions.delete(key);
  }

  private keep(key: string, session: Buffer, storedAt: number): void {
    if (!this.sessions.has(key) && this.sessions.size >= MAX_BACKEND_SESSIONS) return;
    this.sessions.set(key, { session, storedAt });
  }
}
