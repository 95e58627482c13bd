/** The public surface of functions/core/store/: import from here, not from its files (docs/layers.md). */

export { type Item, n, readNumber, readString, s } from './attributes.js';
export { countBanEvent, deleteBan, listBans, putBan } from './bans.js';
export { backoff } from './conditional.js';
export { recordConnectFailure } from './connect-failures.js';
export { acquireSlot, extendSlot, releaseSlot, type SlotRef, tallySlots } from './connection-slots.js';
export {
  type CachedDiscovery,
  listCachedDiscoveries,
  readCachedDiscovery,
  writeCachedDiscovery,
} from './discovery-cache.js';
export { createDynamoDbClient } from './dynamodb-client.js';
export { EXPIRES_AT, epochSeconds, expiresAtFor, isLive } from './expiry.js';
export type { BackendHealth, CheckResult } from './health-records.js';
export {
  poolsWithHealth,
  readPoolHealth,
  recordCheckResult,
  recordConnectSuccess,
  recordPassiveFailure,
} from './health-store.js';
export {
  API_TOKEN_PREFIX,
  backendId,
  GROUP_MAPPING_PREFIX,
  PROXY_USER_PREFIX,
  part,
  poolPk,
  REGISTRY_BACKEND_PREFIX,
  REGISTRY_POOL_PREFIX,
  REGISTRY_POOLS_PK,
  REGISTRY_PREFIX,
  REGISTRY_TOKENS_PK,
  registryKeys,
  USER_MAPPING_PREFIX,
} from './keys.js';
export { acquireLease, activeConnections, extendLease, releaseLease } from './leases.js';
export { advanceCursor, reserveCursorBlocks } from './policy-cursor.js';
export { queryLive } from './query-live.js';
export { cachedRead, DEFAULT_READ_CACHE_TTL_MS, enableReadCache } from './read-cache.js';
export { decodeCursor, encodeCursor } from './registry/page-cursor.js';
export { deleteMarkedPool, markPoolDeleting, unmarkPoolDeleting } from './registry/pool-deletion.js';
export {
  deletePublicationItem,
  readPublicationItem,
  writePublicationItem,
} from './registry/publication-item.js';
export { notFound, RegistryError, type RegistryErrorKind } from './registry/registry-error.js';
export { recordTokenUse } from './registry/token-use.js';
export {
  anyItem,
  type CreateGuard,
  createItem,
  deleteItem,
  type ItemKind,
  parseStored,
  queryAll,
  queryPage,
  readItem,
  readItems,
  type SaveOutcome,
  saveItem,
  versionMismatch,
} from './registry/versioned-items.js';
export { readResponseTimes, recordConnectSample } from './response-times.js';
export { readShuffleRound, startNextRound, takeFromRound } from './shuffle-round.js';
export { readSshHostKey, writeSshHostKey } from './ssh-host-keys.js';
export { createStickyMapping, readStickyMapping, replaceStickyMapping } from './sticky-map.js';
export { StoreError } from './store-error.js';
export { sweepExpired } from './sweep-expired.js';
export { ensureTable, type Table } from './table.js';
export {
  clearEntries,
  deleteEntry,
  type EntryLimits,
  getEntry,
  type ListedEntry,
  listEntries,
  putEntry,
} from './tls-cache/cache-entries.js';
export { bumpStats, deleteStats, readStats } from './tls-cache/cache-stats.js';
export { createTicketKey, readTicketKey, type StoredTicketKey } from './tls-cache/ticket-key-items.js';
export { isUnixSocketEndpoint, unixSocketEndpoint } from './unix-socket-endpoint.js';
