/** mod_proxy's limits for cached backend sessions (`lib/proxy/tls.c`). */
export const MAX_BACKEND_SESSIONS = 1000;
export const BACKEND_SESSION_MAX_AGE_MS = 86_400_000;

/**
 * TLS sessions of backends, by backend key (`ftp://host:port`), so the next proxy session's control
 * connection resumes instead of a full handshake. Per worker process; older entries are dropped on
 * lookup, and beyond 1000 backends new sessions are not cached (as mod_proxy does).
 */
export class BackendTlsSessions {
  private readonly sessions = new Map<string, { session: Buffer; storedAt: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  get size(): number {
    return this.sessions.size;
  }

  get(key: string): Buffer | undefined {
    const entry = this.sessions.get(key);
    if (!entry) return undefined;
    if (this.now() - entry.storedAt > BACKEND_SESSION_MAX_AGE_MS) {
      this.sessions.delete(key);
      return undefined;
    }
    return entry.session;
  }

  set(key: string, session: Buffer): void {
    if (!this.sessions.has(key) && this.sessions.size >= MAX_BACKEND_SESSIONS) return;
    this.sessions.set(key, { session, storedAt: this.now() });
  }

  delete(key: string): void {
    this.sessions.delete(key);
  }
}
