import { BACKEND_TLS_SESSION_LIMITS } from '../../functions/contract/tls-cache.js';
import type { ControlPlaneClient } from '../control-plane/control-plane-client.js';
import type { Logger } from '../log/logger.js';
import { withTimeout } from '../net/with-timeout.js';

/** mod_proxy's limits for cached backend sessions (`lib/proxy/tls.c`). */
export const MAX_BACKEND_SESSIONS = BACKEND_TLS_SESSION_LIMITS.maxEntries;
export const BACKEND_SESSION_MAX_AGE_MS = BACKEND_TLS_SESSION_LIMITS.timeoutS * 1000;

/** The store behind the local map: every edge worker sharing it resumes every other's backend sessions. */
export interface SharedBackendSessions {
  /** The control plane's tls-cache function (tracked by the worker, which waits for it on close). */
  controlPlane: ControlPlaneClient;
  /** How long a backend connect waits for the store before it goes on with a full handshake, ms. */
  lookupTimeoutMs: number;
  /**
   * How long this process uses its own copy without asking the store again, ms (tlsCache.sessions.
   * local.ttl): an operator's `ftpx cache clear --backends` reaches every worker within it. Absent:
   * the copy is used until the session expires.
   */
  localTtlMs?: number;
  log: Logger;
}

/**
 * TLS sessions of backends, by backend key (`ftp://host:port`) and session context (the digest of
 * the trust settings and the expected host name it was verified under, backend-trust-context.ts),
 * so the next proxy session's control connection resumes instead of a full handshake, but only
 * under the settings that verified the backend: a resumed session is not verified again. A
 * per-process map in front of the store's `backend-session` entries (when `shared` is given):
 * `lookup` asks the store when the map has nothing, `set` keeps the session here at once and writes
 * it to the store in the background. Older entries are dropped on lookup, and beyond 1000 entries
 * (backend and context pairs) new sessions are not cached (mod_proxy's limits, here and in the
 * store). The store never fails a session: an error or a slow answer is a miss.
 */
export class BackendTlsSessions {
  private readonly sessions = new Map<string, { session: Buffer; storedAt: number; checkedAt: number }>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly shared?: SharedBackendSessions,
  ) {}

  get size(): number {
    return this.sessions.size;
  }

  /** The session in this process's map. */
  get(backend: string, context: string): Buffer | undefined {
    const key = mapKey(backend, context);
    const entry = this.sessions.get(key);
    if (!entry) return undefined;
    if (this.now() - entry.storedAt > BACKEND_SESSION_MAX_AGE_MS) {
      this.sessions.delete(key);
      return undefined;
    }
    return entry.session;
  }

  /**
   * The session in this process's map, else the store's (kept here for the next connect). A copy
   * older than localTtlMs is checked against the store: gone there (cleared by the operator), it
   * goes here too; a store that cannot answer leaves it in use.
   */
  async lookup(backend: string, context: string): Promise<Buffer | undefined> {
    const local = this.get(backend, context);
    if (!this.shared) return local;
    const ttl = this.shared.localTtlMs;
    const entry = this.sessions.get(mapKey(backend, context));
    if (local && (ttl === undefined || (entry && this.now() - entry.checkedAt < ttl))) return local;
    const found = await this.fromStore(backend, context);
    if (found === 'error') return local;
    if (found === undefined) this.sessions.delete(mapKey(backend, context));
    return found;
  }

  private async fromStore(backend: string, context: string): Promise<Buffer | undefined | 'error'> {
    if (!this.shared) return undefined;
    const { controlPlane, lookupTimeoutMs, log } = this.shared;
    try {
      const answer = await withTimeout(
        controlPlane.tlsCache({ op: 'backend-session-get', backend, context }),
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
      this.keep(mapKey(backend, context), session, storedAt);
      return session;
    } catch (err) {
      log.warn('cannot look up a backend TLS session in the store', {
        backend,
        error: err instanceof Error ? err.message : String(err),
      });
      return 'error';
    }
  }

  /** Keeps a backend's newest session under its context here and, in the background, in the store. */
  set(backend: string, context: string, session: Buffer): void {
    this.keep(mapKey(backend, context), session, this.now());
    if (!this.shared) return;
    const { controlPlane, log } = this.shared;
    controlPlane
      .tlsCache({
        op: 'backend-session-put',
        backend,
        context,
        data: session.toString('base64'),
        maxEntries: MAX_BACKEND_SESSIONS,
      })
      .then(
        (answer) => {
          if (answer.op === 'backend-session-put' && answer.result !== 'stored') {
            log.debug('backend TLS session not shared', { backend, result: answer.result });
          }
        },
        (err: unknown) =>
          log.warn('cannot store a backend TLS session in the store', {
            backend,
            error: err instanceof Error ? err.message : String(err),
          }),
      );
  }

  /** Forgets this process's session (one that failed a handshake); the store's is replaced by the next. */
  delete(backend: string, context: string): void {
    this.sessions.delete(mapKey(backend, context));
  }

  private keep(key: string, session: Buffer, storedAt: number): void {
    if (!this.sessions.has(key) && this.sessions.size >= MAX_BACKEND_SESSIONS) return;
    this.sessions.set(key, { session, storedAt, checkedAt: this.now() });
  }
}

/** The context digest is fixed-length hex: no backend key can make two pairs collide. */
const mapKey = (backend: string, context: string) => `${context} ${backend}`;
