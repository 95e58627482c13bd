import { slotsFor, TLS_CACHE_LIMITS } from '../../functions/contract/tls-cache.js';
import { type TlsCacheConfig, tlsCacheSchema } from '../config/schema.js';

/**
 * How the shared frontend TLS caches behave on one edge worker: the `tlsCache` block of the YAML
 * (edge-worker/config/schema.ts), which `TLSSessionCache`, `TLSStaplingCache` and `TLSStapling*`
 * in a proftpd.conf map onto. Durations are held in the unit the code uses (noted per field).
 */
export interface FrontendTlsCacheSettings {
  sessions: {
    /** `TLSSessionCache off` / `internal:` turn the shared cache off. */
    enabled: boolean;
    /**
     * Without the shared cache, a per-process cache still resumes this worker's session IDs
     * (`internal:`); false is `TLSSessionCache off`: no session-ID resumption at all.
     */
    workerCache: boolean;
    /** Session lifetime, seconds (TLSSessionCache's timeout; default 1800). */
    timeoutS: number;
    /** Live sessions at most: `&size=` divided by mod_tls_shmcache's 10,288-byte slot (153 by default). */
    maxEntries: number;
    /** Largest session stored, bytes (mod_tls_shmcache: 10 KiB). */
    maxEntryBytes: number;
    /** The edge-local LRU in front of the store: entries, and how long one is trusted (ms). */
    localEntries: number;
    localTtlMs: number;
  };
  tickets: {
    /** Shared, rotated session ticket keys; off leaves Node's per-process random key. */
    enabled: boolean;
    /** How long one ticket key is the current one, seconds (default 12 h). */
    rotateEveryS: number;
  };
  stapling: {
    enabled: boolean;
    /** TLSStaplingResponder: overrides the certificate's AIA OCSP URL. */
    responder?: string | undefined;
    /** TLSStaplingTimeout, ms (default 10 s). */
    timeoutMs: number;
    /** Staple a fake tryLater when no response is available (TLSStaplingOptions NoFakeTryLater turns it off). */
    fakeTryLater: boolean;
    /** Send a nonce (TLSStaplingOptions NoNonce turns it off). */
    nonce: boolean;
    maxEntries: number;
    maxEntryBytes: number;
  };
  /** How often local hits and errors are added to the shared statistics, ms. */
  statsFlushMs: number;
  /**
   * How long a handshake waits for the store (a session lookup, a cached OCSP response) before it
   * goes on without it (a full handshake; no staple from the store), ms.
   */
  lookupTimeoutMs: number;
}

export const DEFAULT_TLS_CACHE_SETTINGS: FrontendTlsCacheSettings = {
  sessions: {
    enabled: true,
    workerCache: true,
    timeoutS: TLS_CACHE_LIMITS.defaultSessionTimeoutS,
    maxEntries: slotsFor(undefined, TLS_CACHE_LIMITS.sessionSlotBytes),
    maxEntryBytes: TLS_CACHE_LIMITS.maxSessionBytes,
    localEntries: 1000,
    localTtlMs: 60_000,
  },
  tickets: { enabled: true, rotateEveryS: 12 * 3600 },
  stapling: {
    enabled: false,
    timeoutMs: 10_000,
    fakeTryLater: true,
    nonce: true,
    maxEntries: slotsFor(undefined, TLS_CACHE_LIMITS.ocspSlotBytes),
    maxEntryBytes: TLS_CACHE_LIMITS.maxOcspBytes,
  },
  statsFlushMs: 10_000,
  lookupTimeoutMs: 1000,
};

/** The settings with some fields replaced (tests, and the config loader). */
export function tlsCacheSettings(
  overrides: {
    sessions?: Partial<FrontendTlsCacheSettings['sessions']>;
    tickets?: Partial<FrontendTlsCacheSettings['tickets']>;
    stapling?: Partial<FrontendTlsCacheSettings['stapling']>;
    statsFlushMs?: number;
    lookupTimeoutMs?: number;
  } = {},
): FrontendTlsCacheSettings {
  const d = DEFAULT_TLS_CACHE_SETTINGS;
  return {
    sessions: { ...d.sessions, ...overrides.sessions },
    tickets: { ...d.tickets, ...overrides.tickets },
    stapling: { ...d.stapling, ...overrides.stapling },
    statsFlushMs: overrides.statsFlushMs ?? d.statsFlushMs,
    lookupTimeoutMs: overrides.lookupTimeoutMs ?? d.lookupTimeoutMs,
  };
}

/** Bytes a slot needs besides the entry (mod_tls_shmcache: expiry, ID length, ID, data length). */
const SESSION_SLOT_OVERHEAD = TLS_CACHE_LIMITS.sessionSlotBytes - TLS_CACHE_LIMITS.maxSessionBytes;
const OCSP_SLOT_OVERHEAD = TLS_CACHE_LIMITS.ocspSlotBytes - TLS_CACHE_LIMITS.maxOcspBytes;

/** The settings a validated `tlsCache` block (edge-worker/config/schema.ts) describes. */
export function tlsCacheSettingsFromConfig(config: TlsCacheConfig | undefined): FrontendTlsCacheSettings {
  const { sessions, tickets, stapling, lookupTimeout } = config ?? tlsCacheSchema.parse({});
  return tlsCacheSettings({
    sessions: {
      enabled: sessions.enabled,
      workerCache: sessions.workerCache,
      timeoutS: sessions.timeout / 1000,
      maxEntries: slotsFor(sessions.size, sessions.maxEntrySize + SESSION_SLOT_OVERHEAD),
      maxEntryBytes: sessions.maxEntrySize,
      localEntries: sessions.local.entries,
      localTtlMs: sessions.local.ttl,
    },
    tickets: { enabled: tickets.enabled, rotateEveryS: tickets.rotateEvery / 1000 },
    stapling: {
      enabled: stapling.enabled,
      ...(stapling.responder !== undefined ? { responder: stapling.responder } : {}),
      timeoutMs: stapling.timeout,
      fakeTryLater: stapling.fakeTryLater,
      nonce: stapling.nonce,
      maxEntries: slotsFor(stapling.size, stapling.maxEntrySize + OCSP_SLOT_OVERHEAD),
      maxEntryBytes: stapling.maxEntrySize,
    },
    lookupTimeoutMs: lookupTimeout,
  });
}
