import { createHash } from 'node:crypto';

/**
 * Key builders for the single table. Every entity's key shape is written here once, so the access
 * patterns in functions/README.md can be checked against one file.
 *
 * Free-form parts (pool names, user and group names, client addresses, worker ids) go through
 * `part()`, which escapes `%` and `#`, so `#` only ever separates parts and no two different
 * inputs build the same key. Backends appear in sort keys as `backendId()`: a fixed-length digest,
 * because a backend key may be up to 1024 characters and a sort key may not exceed 1024 bytes; the
 * items carry the full backend key in their `backend` attribute.
 */
export const keys = {
  /** The policy cursor of a pool (RoundRobin): one counter item per pool and policy. */
  policyCursor: (pool: string, policy: string) => ({ pk: poolPk(pool), sk: `CURSOR#${part(policy)}` }),

  /** The Shuffle round of a pool: the set of backends not yet used in the current round. */
  shuffleRound: (pool: string) => ({ pk: poolPk(pool), sk: 'SHUFFLE' }),

  /** One edge worker's connection lease on one backend of a pool (LeastConns, LeastResponseTime). */
  lease: (pool: string, backend: string, workerId: string) => ({
    pk: poolPk(pool),
    sk: `${LEASE_PREFIX}${backendId(backend)}#${part(workerId)}`,
  }),

  /** The smoothed connect time of one backend of a pool (LeastResponseTime). */
  responseTime: (pool: string, backend: string) => ({
    pk: poolPk(pool),
    sk: `${RESPONSE_TIME_PREFIX}${backendId(backend)}`,
  }),

  /** Failed connect attempts to one backend of a pool (recorded, never counted as connections). */
  connectFailures: (pool: string, backend: string) => ({
    pk: poolPk(pool),
    sk: `FAILURES#${backendId(backend)}`,
  }),

  /** A backend's health in a pool: passive failure window, cool-down, last active check. */
  health: (pool: string, backend: string) => ({
    pk: poolPk(pool),
    sk: `${HEALTH_PREFIX}${backendId(backend)}`,
  }),

  /** A pool that has health records (so scheduled checks find pools no registry lists). */
  healthPool: (pool: string) => ({ pk: HEALTH_POOLS_PK, sk: `${REGISTRY_POOL_PREFIX}${part(pool)}` }),

  /** The cached DNS answer for one `+srv` / `+txt` backend URL (all in one small partition). */
  discovery: (source: string) => ({ pk: DISCOVERY_PK, sk: `${DISCOVERY_PREFIX}${backendId(source)}` }),

  /** The SSH host key an SFTP backend of a pool showed (ProxySFTPVerifyServer, trust on first use). */
  sshHostKey: (pool: string, backend: string) => ({
    pk: poolPk(pool),
    sk: `SSHHOSTKEY#${backendId(backend)}`,
  }),

  /**
   * A sticky mapping (PerUser, PerGroup, PerHost): its own partition per key, because a pool may have
   * millions of client addresses and the only access is a point read or a conditional write.
   */
  stickyMapping: (pool: string, policy: string, stickyKey: string) => ({
    pk: `STICKY#${part(policy)}#${part(pool)}#${part(stickyKey)}`,
    sk: 'MAPPING',
  }),

  /**
   * One edge worker's count of live connections in a connection-limit group (MaxClients,
   * MaxConnectionsPerHost, ...; the member is a client address for MaxHostsPerUser, else empty): the
   * lease shape of LeastConns, one partition per group so a tally is one Query.
   */
  connectionSlot: (group: string, member: string, workerId: string) => ({
    pk: `${SLOTS_PREFIX}${part(group)}`,
    sk: `${LEASE_PREFIX}${part(member)}#${part(workerId)}`,
  }),

  /** A ban (mod_ban's ban list): all in one partition, which every edge worker reads on its poll. */
  ban: (kind: string, value: string) => ({ pk: BANS_PK, sk: `${part(kind)}#${part(value)}` }),

  /** The count of one BanOnEvent event for one host, user or class, alive for the rule's window. */
  banEvent: (event: string, kind: string, value: string) => ({
    pk: `BANEVENT#${part(event)}#${part(kind)}#${part(value)}`,
    sk: 'COUNT',
  }),
} as const;

/** The partition prefix of connection-limit groups. */
export const SLOTS_PREFIX = 'SLOTS#';

/** The partition of the ban list. */
export const BANS_PK = 'BANS';

/** The prefix every lease of a pool shares in its sort key: one Query reads them all. */
export const LEASE_PREFIX = 'LEASE#';

/** The prefix every health item of a pool shares in its sort key. */
export const HEALTH_PREFIX = 'HEALTH#';

/** The partition listing the pools that have health records. */
export const HEALTH_POOLS_PK = 'HEALTH#POOLS';

/** The partition of cached discovery answers, and their sort-key prefix. */
export const DISCOVERY_PK = 'DISCOVERY';
export const DISCOVERY_PREFIX = 'NAME#';

/** The prefix every response-time item of a pool shares in its sort key. */
export const RESPONSE_TIME_PREFIX = 'RTIME#';

/** The partition key of a pool's own items (cursor, shuffle round, leases, response times, failures). */
export function poolPk(pool: string): string {
  return `POOL#${part(pool)}`;
}

/** Escapes a free-form key part: `%` becomes `%25` and `#` becomes `%23`. */
export function part(text: string): string {
  return text.replace(/%/g, '%25').replace(/#/g, '%23');
}

/**
 * A backend's identity inside keys and sets: the first 16 bytes of SHA-256 over its key, base64url
 * (22 characters, no `#`). Stable across processes and releases: changing it orphans stored state.
 */
export function backendId(backend: string): string {
  return createHash('sha256').update(backend, 'utf8').digest().subarray(0, 16).toString('base64url');
}

/**
 * The registry (functions/registry, shared/registry): what operators register through the API.
 * Pools are listed from one partition; a pool's registered contents live in its own partition
 * under `REG#`, next to its runtime state, so one Query per kind reads them. API tokens are keyed
 * by an id derived from the token's hash, so a presented token is found with one GetItem.
 */
export const REGISTRY_POOLS_PK = 'REGISTRY#POOLS';
export const REGISTRY_TOKENS_PK = 'REGISTRY#TOKENS';
/** Every registered item inside a pool's partition starts with this (pool deletion checks it). */
export const REGISTRY_PREFIX = 'REG#';
export const REGISTRY_POOL_PREFIX = 'POOL#';
export const REGISTRY_BACKEND_PREFIX = 'REG#BACKEND#';
export const USER_MAPPING_PREFIX = 'REG#USER#';
export const GROUP_MAPPING_PREFIX = 'REG#GROUP#';
export const PROXY_USER_PREFIX = 'REG#PROXYUSER#';
export const API_TOKEN_PREFIX = 'TOKEN#';

export const registryKeys = {
  /** A registered pool: one partition lists them all. */
  pool: (pool: string) => ({ pk: REGISTRY_POOLS_PK, sk: `${REGISTRY_POOL_PREFIX}${part(pool)}` }),

  /** A backend registered in a pool, by its id. */
  backend: (pool: string, id: string) => ({ pk: poolPk(pool), sk: `${REGISTRY_BACKEND_PREFIX}${part(id)}` }),

  /** A user's backends in a pool (mod_proxy's per-user `%U` files and `sql:` lookups). */
  userMapping: (pool: string, user: string) => ({
    pk: poolPk(pool),
    sk: `${USER_MAPPING_PREFIX}${part(user)}`,
  }),

  /** A group's backends in a pool. */
  groupMapping: (pool: string, group: string) => ({
    pk: poolPk(pool),
    sk: `${GROUP_MAPPING_PREFIX}${part(group)}`,
  }),

  /** A proxy user of a pool (proxy authentication). */
  proxyUser: (pool: string, name: string) => ({ pk: poolPk(pool), sk: `${PROXY_USER_PREFIX}${part(name)}` }),

  /** An API token, by its id (derived from the token's SHA-256, see shared/registry/token-secret.ts). */
  apiToken: (id: string) => ({ pk: REGISTRY_TOKENS_PK, sk: `${API_TOKEN_PREFIX}${part(id)}` }),
} as const;

/**
 * The shared frontend TLS caches (functions/tls-cache, shared/tls-cache). Sessions are spread over
 * 16 partitions by the first hex digit of their ID (IDs are random), so one busy cache is not one
 * hot partition; OCSP responses (a few per certificate) share one partition; statistics are one
 * item per cache; ticket keys one item per rotation period. Backend sessions (at most 1000, one per
 * backend the proxy connects to) share one partition, read by key and listed by Query.
 */
export const TLS_SESSION_SHARDS = 16;
export const TLS_SESSION_PREFIX = 'ID#';
export const OCSP_RESPONSE_PREFIX = 'FP#';
export const TICKET_KEY_PREFIX = 'EPOCH#';
export const BACKEND_SESSION_PREFIX = 'BACKEND#';

export const tlsCacheKeys = {
  /** The partition of one session shard (0-15). */
  sessionShardPk: (shard: number) => `TLSCACHE#SESSION#${shard.toString(16)}`,
  /** One cached TLS session, by its ID in lower-case hex. */
  session: (idHex: string) => ({
    pk: `TLSCACHE#SESSION#${idHex.charAt(1)}`,
    sk: `${TLS_SESSION_PREFIX}${idHex}`,
  }),
  ocspPk: 'TLSCACHE#OCSP',
  /** One cached OCSP response, by the server certificate's SHA-1 fingerprint (hex). */
  ocsp: (fingerprintHex: string) => ({ pk: 'TLSCACHE#OCSP', sk: `${OCSP_RESPONSE_PREFIX}${fingerprintHex}` }),
  backendSessionPk: 'TLSCACHE#BACKENDSESSION',
  /** The cached TLS session of one backend under one trust context: `<context digest>#ftp://host:port`. */
  backendSession: (backend: string) => ({
    pk: 'TLSCACHE#BACKENDSESSION',
    sk: `${BACKEND_SESSION_PREFIX}${backend}`,
  }),
  /** A cache's statistics and its live entry count. */
  stats: (kind: 'sessions' | 'ocsp' | 'backend-sessions') => ({
    pk: 'TLSCACHE#STATS',
    sk: kind.toUpperCase(),
  }),
  ticketKeysPk: 'TLSCACHE#TICKETKEYS',
  /** The session ticket key of one rotation period (zero-padded so keys sort by period). */
  ticketKey: (epoch: number) => ({
    pk: 'TLSCACHE#TICKETKEYS',
    sk: `${TICKET_KEY_PREFIX}${String(epoch).padStart(12, '0')}`,
  }),
} as const;
