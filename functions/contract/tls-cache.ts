import { z } from 'zod';

/**
 * The tls-cache contract: what edge workers share about frontend TLS (mod_tls_shmcache's job,
 * across machines). One function, one operation per request (`op`):
 *
 * - `session-put` / `session-get` / `session-delete`: the TLS session cache (TLSSessionCache):
 *   DER-serialised sessions by session ID, with an expiry, a total budget (`maxEntries`, derived
 *   from mod_tls_shmcache's `&size=` and its 10 KiB slot) and a largest entry (`maxEntryBytes`).
 * - `ticket-keys`: the session ticket keys every worker uses, one per rotation period, created by
 *   whichever worker asks first (TLS 1.3 and TLS 1.2 tickets resume on any worker).
 * - `ocsp-get` / `ocsp-put`: OCSP responses (TLSStaplingCache) by the server certificate's SHA-1
 *   fingerprint, with their freshness computed by the edge worker that fetched them.
 * - `ocsp-refresh` (the schedule's, never an edge worker's): asks the responder again for every
 *   cached OCSP response that is stale or goes stale before `aheadS`, from the `source` its
 *   `ocsp-put` stored, and replaces it with the fresh answer; a failed fetch keeps the old one.
 * - `backend-session-put` / `backend-session-get`: the TLS sessions the proxy holds as a client of
 *   each backend (mod_proxy's backend session cache: at most 1000 entries, 24 hours), by backend
 *   key and trust context, so a worker's first connection to a backend resumes a session another
 *   worker made under the same verification settings (a resumed session is not verified again,
 *   edge-worker/tls/backend-trust-context.ts). An entry is one backend under one context: the
 *   1000 count pairs, so a backend reached by three differently configured pools takes three.
 * - `report-hits`: resumptions and staples an edge worker served from its local LRU, and cache
 *   calls that failed there, so the shared statistics count every hit and error.
 *
 * Binary values (session data, keys, OCSP responses) travel as base64. Session data and ticket
 * keys are secrets: never logged by either side.
 */

/** mod_tls_shmcache's limits, which `&size=` is measured against. */
export const TLS_CACHE_LIMITS = {
  /** Default shared segment: 1538 KiB. */
  defaultSizeBytes: 1538 * 1024,
  /** TLS_MAX_SSL_SESSION_SIZE. */
  maxSessionBytes: 10 * 1024,
  /** One session slot: expiry (8), ID length (4), 32-byte ID, data length (4), data (10 KiB). */
  sessionSlotBytes: 8 + 4 + 32 + 4 + 10 * 1024,
  /** TLS_MAX_OCSP_RESPONSE_SIZE. */
  maxOcspBytes: 4 * 1024,
  /** One OCSP slot: fingerprint length (4), 64-byte fingerprint, age (8), response length (4), response (4 KiB). */
  ocspSlotBytes: 4 + 64 + 8 + 4 + 4 * 1024,
  /** mod_tls's TLSSessionCache timeout default. */
  defaultSessionTimeoutS: 1800,
} as const;

/** mod_proxy's limits for cached backend sessions (`lib/proxy/tls.c`): 1000 backends, 24 hours. */
export const BACKEND_TLS_SESSION_LIMITS = {
  maxEntries: 1000,
  timeoutS: 86_400,
  /** As for frontend sessions: TLS_MAX_SSL_SESSION_SIZE. */
  maxEntryBytes: 10 * 1024,
} as const;

/** Slots a budget of `sizeBytes` holds; a budget too small for one entry falls back to the default (as mod_tls_shmcache does). */
export function slotsFor(sizeBytes: number | undefined, slotBytes: number): number {
  const size =
    sizeBytes === undefined || sizeBytes < slotBytes ? TLS_CACHE_LIMITS.defaultSizeBytes : sizeBytes;
  return Math.floor(size / slotBytes);
}

const base64 = (max: number) =>
  z
    .string()
    .max(Math.ceil((max * 4) / 3) + 4)
    .regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64');
/** A TLS session ID (up to 32 bytes), hex. */
const sessionId = z
  .string()
  .min(2)
  .max(64)
  .regex(/^(?:[0-9a-f]{2})+$/, 'must be lower-case hex');
/** A backend as the edge worker keys it (`ftp://host:port`, no credentials). */
const backendKey = z
  .string()
  .min(1)
  .max(300)
  .regex(/^[a-z][a-z0-9+]*:\/\/[^\s/@]+$/, 'must be a backend key (scheme://host:port, no credentials)');
/** The digest of a backend session's trust context (SHA-256, lower-case hex): secrets never travel in clear. */
const trustContext = z.string().regex(/^[0-9a-f]{64}$/, 'must be a SHA-256 digest in lower-case hex');
/** SHA-1 fingerprint of a server certificate, lower-case hex. */
const fingerprint = z.string().regex(/^[0-9a-f]{40}$/, 'must be a SHA-1 fingerprint in lower-case hex');
const count = z.number().int().min(0).max(1_000_000_000);
const epochMs = z.number().int().min(0);
/** Largest binary value a request may carry (anything larger is refused before it is stored). */
const MAX_VALUE_BYTES = 64 * 1024;

export const OCSP_CERT_STATUSES = ['good', 'revoked', 'unknown'] as const;
/** Largest certificate (server or issuer) an `ocsp-put` may carry for the scheduled refresh. */
export const MAX_OCSP_SOURCE_CERT_BYTES = 16 * 1024;
/** Largest stapling timeout an `ocsp-put` source may carry (the refresh caps it lower anyway). */
export const MAX_OCSP_SOURCE_TIMEOUT_MS = 600_000;

/** How a cached OCSP response was obtained, so the scheduled refresh can ask again the same way. */
const ocspSourceSchema = z
  .object({
    /** The server certificate, DER, base64. */
    certificate: base64(MAX_OCSP_SOURCE_CERT_BYTES),
    /** Its issuer's certificate, DER, base64 (builds the CertID and verifies the answer). */
    issuer: base64(MAX_OCSP_SOURCE_CERT_BYTES),
    /** TLSStaplingResponder, or the certificate's AIA OCSP URL. */
    responder: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).max(2048),
    /** TLSStaplingOptions NoNonce sets this false. */
    nonce: z.boolean(),
    /** TLSStaplingTimeout, milliseconds. */
    timeoutMs: z.number().int().min(1).max(MAX_OCSP_SOURCE_TIMEOUT_MS),
  })
  .strict();
export type OcspSource = z.output<typeof ocspSourceSchema>;

/** `ticket-keys`: sent by edge workers, and by the rotation schedule so the next key exists in time. */
const ticketKeysRequestSchema = z
  .object({
    op: z.literal('ticket-keys'),
    /** How long one key is the current one. */
    rotateEveryS: z
      .number()
      .int()
      .min(60)
      .max(30 * 86_400),
    /** How long a ticket lives (the session timeout): keys are kept at least this long after use. */
    lifetimeS: z
      .number()
      .int()
      .min(1)
      .max(30 * 86_400),
  })
  .strict();

/** `ocsp-refresh`: the OCSP refresh schedule's only request. */
const ocspRefreshRequestSchema = z
  .object({
    op: z.literal('ocsp-refresh'),
    /** Responses that go stale within this many seconds are refreshed too (the schedule's interval). */
    aheadS: z.number().int().min(0).max(86_400),
    /** Upper bound on one responder's time, whatever the worker's TLSStaplingTimeout said. */
    maxTimeoutMs: z.number().int().min(100).max(60_000).default(10_000),
    /** Responders asked at the same time. */
    concurrency: z.number().int().min(1).max(64).default(8),
  })
  .strict();

export const tlsCacheRequestSchema = z.discriminatedUnion('op', [
  z
    .object({
      op: z.literal('session-put'),
      id: sessionId,
      data: base64(MAX_VALUE_BYTES),
      /** TLSv1.2, TLSv1.3 ... as read from the session (for `info -v`). */
      protocol: z.string().max(16).optional(),
      /** When the session started (epoch ms). */
      startedAt: epochMs.optional(),
      /** Lifetime from now, seconds (TLSSessionCache timeout). */
      timeoutS: z
        .number()
        .int()
        .min(1)
        .max(30 * 86_400),
      maxEntries: z.number().int().min(1).max(10_000_000),
      maxEntryBytes: z.number().int().min(1).max(MAX_VALUE_BYTES),
    })
    .strict(),
  z.object({ op: z.literal('session-get'), id: sessionId }).strict(),
  z.object({ op: z.literal('session-delete'), id: sessionId }).strict(),
  z
    .object({
      op: z.literal('backend-session-put'),
      backend: backendKey,
      /** The trust context it was verified under: only a get with the same context finds it. */
      context: trustContext,
      /** Larger than a session may be (10 KiB): refused as `exceeded`, as frontend sessions are. */
      data: base64(MAX_VALUE_BYTES),
      /** Entries (backend and context pairs) at most (mod_proxy: 1000); a put beyond is refused as `full`. */
      maxEntries: z.number().int().min(1).max(100_000).default(BACKEND_TLS_SESSION_LIMITS.maxEntries),
    })
    .strict(),
  z.object({ op: z.literal('backend-session-get'), backend: backendKey, context: trustContext }).strict(),
  ticketKeysRequestSchema,
  z.object({ op: z.literal('ocsp-get'), fingerprint }).strict(),
  z
    .object({
      op: z.literal('ocsp-put'),
      fingerprint,
      response: base64(MAX_VALUE_BYTES),
      responseStatus: z.string().min(1).max(32),
      certStatus: z.enum(OCSP_CERT_STATUSES).optional(),
      /** The response came from no responder: mod_tls's fake tryLater. */
      fake: z.boolean().optional(),
      fetchedAt: epochMs,
      staleAt: epochMs,
      expiresAt: epochMs,
      maxEntries: z.number().int().min(1).max(10_000_000),
      maxEntryBytes: z.number().int().min(1).max(MAX_VALUE_BYTES),
      /** Absent: the response is served until it expires but never refreshed by the schedule. */
      source: ocspSourceSchema.optional(),
    })
    .strict(),
  z
    .object({
      op: z.literal('report-hits'),
      sessionHits: count.optional(),
      ocspHits: count.optional(),
      /** Cache calls that failed on the worker (the control plane or store was unavailable). */
      sessionErrors: count.optional(),
      ocspErrors: count.optional(),
    })
    .strict(),
]);

/**
 * What EventBridge schedules send the function (infra/lib/functions.ts): validated with this schema
 * by the function, and by the infra tests against the manifest, so the two cannot drift apart.
 * Edge workers' HTTP requests never reach `ocsp-refresh`.
 */
export const tlsCacheScheduledRequestSchema = z.discriminatedUnion('op', [
  ticketKeysRequestSchema,
  ocspRefreshRequestSchema,
]);

const ticketKey = z.object({
  /** The rotation period's number (floor(activeFrom / rotateEvery)). */
  epoch: z.number().int().min(0),
  /** 48 bytes, base64: what tls.Server.setTicketKeys takes. */
  key: base64(48),
  activeFrom: epochMs,
  activeUntil: epochMs,
});

export const tlsCacheResponseSchema = z.discriminatedUnion('op', [
  z.object({
    op: z.literal('session-put'),
    /** stored; exceeded: larger than maxEntryBytes; full: no room even after removing expired sessions. */
    result: z.enum(['stored', 'exceeded', 'full']),
  }),
  z.object({
    op: z.literal('session-get'),
    result: z.enum(['hit', 'miss', 'expired']),
    data: base64(MAX_VALUE_BYTES).optional(),
    /** Epoch ms. */
    expiresAt: epochMs.optional(),
  }),
  z.object({ op: z.literal('session-delete'), deleted: z.boolean() }),
  z.object({
    op: z.literal('backend-session-put'),
    /** exceeded: larger than a session may be; full: 1000 entries (backend and context) are live already. */
    result: z.enum(['stored', 'exceeded', 'full']),
  }),
  z.object({
    op: z.literal('backend-session-get'),
    result: z.enum(['hit', 'miss', 'expired']),
    data: base64(BACKEND_TLS_SESSION_LIMITS.maxEntryBytes).optional(),
    /** Epoch ms. */
    expiresAt: epochMs.optional(),
  }),
  z.object({
    op: z.literal('ticket-keys'),
    /** The current period's key and the next one's, in that order. */
    current: ticketKey,
    next: ticketKey,
  }),
  z.object({
    op: z.literal('ocsp-get'),
    result: z.enum(['hit', 'miss', 'expired']),
    response: base64(MAX_VALUE_BYTES).optional(),
    responseStatus: z.string().optional(),
    certStatus: z.enum(OCSP_CERT_STATUSES).optional(),
    fake: z.boolean().optional(),
    fetchedAt: epochMs.optional(),
    staleAt: epochMs.optional(),
    expiresAt: epochMs.optional(),
  }),
  z.object({ op: z.literal('ocsp-put'), result: z.enum(['stored', 'exceeded', 'full']) }),
  z.object({ op: z.literal('report-hits'), recorded: z.boolean() }),
  z.object({
    op: z.literal('ocsp-refresh'),
    /** Cached responses looked at (live ones). */
    checked: count,
    /** Replaced by a fresh answer. */
    refreshed: count,
    /** The responder failed or answered something unusable: the cached response was kept. */
    failed: count,
    /** Stale or about to be, but stored without a source (or with one that no longer parses). */
    unrefreshable: count,
    /** Why refreshes failed (the first 50): for the function's log and an operator's manual run. */
    failures: z.array(z.object({ fingerprint: z.string(), reason: z.string() })),
  }),
]);

export type TlsCacheRequest = z.input<typeof tlsCacheRequestSchema>;
export type TlsCacheScheduledRequest = z.input<typeof tlsCacheScheduledRequestSchema>;
export type TlsCacheResponse = z.output<typeof tlsCacheResponseSchema>;
export type TlsCacheResponseOf<T extends TlsCacheResponse['op']> = Extract<TlsCacheResponse, { op: T }>;
export type TicketKey = z.output<typeof ticketKey>;

/**
 * The operator's view (registry API `GET /v1/tls-cache/{kind}`), mod_tls_shmcache's `info`: the
 * frontend session cache, the OCSP response cache, and the sessions ftpx holds as each backend's
 * TLS client (mod_proxy's backend session cache).
 */
export const TLS_CACHE_KINDS = ['sessions', 'ocsp', 'backend-sessions'] as const;
export type TlsCacheKind = (typeof TLS_CACHE_KINDS)[number];

export const tlsCacheStatsSchema = z.object({
  hits: count,
  misses: count,
  stored: count,
  deleted: count,
  expired: count,
  errors: count,
  exceeded: count,
  /** The largest entry refused for its size (0: none). */
  exceededMaxBytes: count,
  /** Entries not stored because the cache was full of live entries (mod_tls_shmcache keeps those per process). */
  full: count,
});
export type TlsCacheStats = z.output<typeof tlsCacheStatsSchema>;

export const tlsCacheEntrySchema = z.object({
  /** Session ID (hex), certificate fingerprint (hex), or the backend (`ftps://host:port`). */
  key: z.string(),
  /** backend-sessions: the trust context the session was verified under (its digest's first 16 hex). */
  context: z.string().optional(),
  bytes: count,
  protocol: z.string().optional(),
  startedAt: z.string().optional(),
  expiresAt: z.string(),
  /** OCSP only. */
  responseStatus: z.string().optional(),
  certStatus: z.string().optional(),
  fake: z.boolean().optional(),
  fetchedAt: z.string().optional(),
  staleAt: z.string().optional(),
});
export type TlsCacheEntry = z.output<typeof tlsCacheEntrySchema>;

export const tlsCacheInfoSchema = z.object({
  kind: z.enum(TLS_CACHE_KINDS),
  /** The store's table (mod_tls_shmcache prints its segment). */
  table: z.string(),
  /** When the statistics were first written (ISO 8601). */
  createdAt: z.string().optional(),
  /** Budget the last writer used, in entries, and the budget in bytes it came from. */
  maxEntries: count.optional(),
  maxEntryBytes: count.optional(),
  /** Live entries now. */
  entries: count,
  bytes: count,
  stats: tlsCacheStatsSchema,
  /** With `?verbose=true` (`info -v`): each live entry, never its data. */
  items: z.array(tlsCacheEntrySchema).optional(),
});
export type TlsCacheInfo = z.output<typeof tlsCacheInfoSchema>;

export const tlsCacheClearedSchema = z.object({
  kind: z.enum(TLS_CACHE_KINDS),
  /** Entries removed (expired or not). */
  cleared: count,
  /** `remove`: the statistics were reset too. */
  removed: z.boolean(),
  /** `clear --backend`: only this backend's sessions went. */
  backend: z.string().optional(),
});
export type TlsCacheCleared = z.output<typeof tlsCacheClearedSchema>;

/** `/v1/tls-cache/{kind}`: sessions (TLSSessionCache), ocsp (TLSStaplingCache) or backend-sessions. */
export const tlsCacheParamsSchema = z
  .object({ kind: z.enum(TLS_CACHE_KINDS).meta({ description: 'sessions, ocsp or backend-sessions' }) })
  .strict();
/** `POST /v1/tls-cache/backend-sessions/clear?backend=ftps://host:port`: one backend's sessions. */
export const tlsCacheClearQuerySchema = z
  .object({
    backend: backendKey
      .optional()
      .meta({ description: 'backend-sessions only: remove this backend’s sessions (every trust context).' }),
  })
  .strict();
export const tlsCacheInfoQuerySchema = z
  .object({
    verbose: z
      .enum(['true', 'false'])
      .transform((value) => value === 'true')
      .optional()
      .meta({ description: 'List every live entry too (never its data): `info -v`.' }),
  })
  .strict();
