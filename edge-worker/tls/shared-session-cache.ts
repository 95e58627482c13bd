import type { ControlPlaneClient } from '../control-plane/control-plane-client.js';
import type { Logger } from '../log/logger.js';
import { withTimeout } from '../net/with-timeout.js';
import type { LocalCacheCounters } from './local-counters.js';
import { LruCache } from './lru-cache.js';
import { sessionSummary } from './session-summary.js';
import type { FrontendTlsCacheSettings } from './tls-cache-settings.js';

/**
 * TLS session IDs (TLS 1.2, and TLS 1.3 stateful tickets) shared by every edge worker: the
 * `newSession` / `resumeSession` events of a tls.Server, backed by the control plane's tls-cache
 * function with a local LRU in front. The handshake never waits for the store on `newSession`
 * (the session is kept locally at once and written in the background), and never fails because
 * of the cache: a lookup that cannot be answered is a miss (a full handshake).
 */
export class SharedSessionCache {
  private readonly local: LruCache<Buffer>;

  constructor(
    private readonly deps: {
      controlPlane: ControlPlaneClient;
      settings: FrontendTlsCacheSettings['sessions'];
      /** How long a handshake waits for a lookup before going on with a full handshake. */
      lookupTimeoutMs: number;
      log: Logger;
      counters: LocalCacheCounters;
      now: () => number;
    },
  ) {
    this.local = new LruCache<Buffer>(
      {
        maxEntries: deps.settings.localEntries,
        maxBytes: deps.settings.localEntries * Math.max(deps.settings.maxEntryBytes, 1024),
      },
      deps.now,
    );
  }

  readonly onNewSession = (sessionId: Buffer, data: Buffer, done: () => void): void => {
    done();
    const { settings, now } = this.deps;
    const id = sessionId.toString('hex');
    const expiresMs = now() + settings.timeoutS * 1000;
    // Kept locally even when the shared cache refuses it (too large, full): mod_tls_shmcache keeps
    // such sessions in a per-process list, so they still resume on this worker.
    this.local.set(id, data, Math.min(expiresMs, now() + settings.localTtlMs), data.length);
    const summary = sessionSummary(data);
    // mod_tls_shmcache's tls.shmcache lines, at its levels, for the store-backed cache.
    this.deps.log.trace('tls.shmcache', 9, 'adding session to shared session cache (store)');
    this.deps.controlPlane
      .tlsCache({
        op: 'session-put',
        id,
        data: data.toString('base64'),
        ...summary,
        timeoutS: settings.timeoutS,
        maxEntries: settings.maxEntries,
        maxEntryBytes: settings.maxEntryBytes,
      })
      .then(
        (answer) => {
          if (answer.op === 'session-put' && answer.result !== 'stored') {
            this.deps.log.debug('TLS session not shared', { result: answer.result, bytes: data.length });
          }
        },
        (err: unknown) => this.failed('store', err),
      );
  };

  readonly onResumeSession = (
    sessionId: Buffer,
    callback: (err: Error | null, data: Buffer | null) => void,
  ): void => {
    const id = sessionId.toString('hex');
    this.deps.log.trace('tls.shmcache', 9, 'getting session from shared session cache (store)');
    const local = this.local.get(id);
    if (local) {
      this.deps.counters.sessionHits += 1;
      callback(null, local);
      return;
    }
    const lookup = this.deps.controlPlane.tlsCache({ op: 'session-get', id });
    withTimeout(lookup, this.deps.lookupTimeoutMs, () => {
      throw new Error(`no answer within ${this.deps.lookupTimeoutMs} ms`);
    }).then(
      (answer) => {
        if (answer.op !== 'session-get' || answer.result !== 'hit' || answer.data === undefined) {
          this.deps.log.trace('tls.shmcache', 9, 'no matching session found in shared session cache');
          callback(null, null);
          return;
        }
        const data = Buffer.from(answer.data, 'base64');
        const { now, settings } = this.deps;
        this.local.set(
          id,
          data,
          Math.min(answer.expiresAt ?? now(), now() + settings.localTtlMs),
          data.length,
        );
        callback(null, data);
      },
      (err: unknown) => {
        this.failed('look up', err);
        callback(null, null);
      },
    );
  };

  private failed(what: string, err: unknown): void {
    this.deps.counters.sessionErrors += 1;
    this.deps.log.warn(`cannot ${what} a TLS session in the shared cache`, {
      error: err instanceof Error ? err.message : String(err),
    });
  }

  close(): void {
    this.local.clear();
  }
}
