import type { Server } from 'node:tls';
import { LRUCache } from 'lru-cache';

const MAX_SESSIONS = 10_000;
/** mod_tls's lifetime of sessions in its internal cache when no TLSSessionCache is configured (300 s per its doc). */
const LIFETIME_MS = 300_000;

/**
 * A per-process TLS session-ID cache for one listener, so that TLS 1.2 clients that resume by
 * session ID (rather than by ticket) can resume their control session on data connections. It is the
 * stand-in for the shared cache (issue 6 part 3, edge-worker/tls/frontend-caches.ts), which replaces
 * it where the worker attaches TLS caches: only one of the two may listen on a server.
 */
export function attachLocalSessionCache(server: Server): { close(): void } {
  const sessions = new LRUCache<string, Buffer>({ max: MAX_SESSIONS, ttl: LIFETIME_MS });
  const onNew = (id: Buffer, data: Buffer, done: () => void) => {
    sessions.set(id.toString('hex'), data);
    done();
  };
  const onResume = (id: Buffer, done: (err: Error | null, data: Buffer | null) => void) => {
    done(null, sessions.get(id.toString('hex')) ?? null);
  };
  server.on('newSession', onNew);
  server.on('resumeSession', onResume);
  return {
    close: () => {
      server.off('newSession', onNew);
      server.off('resumeSession', onResume);
      sessions.clear();
    },
  };
}
