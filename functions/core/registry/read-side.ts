import { cachedRead, poolPk, REGISTRY_BACKEND_PREFIX, registryKeys, type Table } from '../store/index.js';
import { getMapping } from './backend-mappings.js';
import { enabledBackends } from './backends.js';
import { getProxyUserRecord } from './proxy-users.js';

/**
 * The registry as edge workers (through resolve-backend and the coming proxy authentication) read
 * it. Internal only: these return backend URLs with their credentials and password hashes, which
 * the API never does. Each is one strongly consistent request, so a change made through the API is
 * seen by the next session; listPoolBackends and the user and group lookups, which every login
 * asks, are reused for up to a second by a control plane that enabled the read cache
 * (store/read-cache.ts: its own writes are seen at once, other processes' after at most that second):
 *
 * - listPoolBackends: one Query (`POOL#<pool>`, `begins_with(sk, "REG#BACKEND#")`, filter
 *   `enabled = true`), more pages only beyond 1 MB of backends; read units ≈ size of all the pool's
 *   registered backends / 4 KB (disabled ones are read, then filtered);
 * - lookupUserBackends, lookupGroupBackends, getProxyUser: one GetItem each (1 read unit below 4 KB).
 *
 * None of them checks that the pool is registered (that would be a second read): contents only
 * exist in registered pools (see deletePool).
 */
export interface RegisteredBackend {
  id: string;
  /** With credentials, if registered with them. Never log it; log `backend` or redactUrl(url). */
  url: string;
  /** The credential-free key (`ftp://host:port`) policies and leases use. */
  backend: string;
  weight?: number;
  labels?: Record<string, string>;
}

export interface RegisteredProxyUser {
  pool: string;
  name: string;
  /** `scrypt$N$r$p$salt$hash`: check with verifyPassword (password-hash.ts). */
  passwordHash: string;
  primaryGroup: string;
  groups: string[];
  enabled: boolean;
}

/** The pool's enabled backends, in id order (creation order for server-chosen ids). */
export async function listPoolBackends(table: Table, pool: string): Promise<RegisteredBackend[]> {
  // Every login reads this: reused briefly (store/read-cache.ts), dropped by this client's writes.
  const records = await cachedRead(
    table,
    { pk: poolPk(pool), prefix: REGISTRY_BACKEND_PREFIX, variant: 'enabled' },
    () => enabledBackends(table, pool, Date.now()),
  );
  return records.map((record) => ({
    id: record.id,
    url: record.url,
    backend: record.backend,
    ...(record.weight !== undefined ? { weight: record.weight } : {}),
    ...(record.labels !== undefined ? { labels: record.labels } : {}),
  }));
}

/** The user's own backend URLs in the pool (in their order), or undefined when none are registered. */
export async function lookupUserBackends(
  table: Table,
  pool: string,
  user: string,
): Promise<readonly string[] | undefined> {
  const key = registryKeys.userMapping(pool, user);
  // Both resolve-backend calls of a PerUser login read it: reused like listPoolBackends.
  return cachedRead(
    table,
    { pk: key.pk, prefix: key.sk, variant: 'mapping' },
    async () => (await getMapping(table, 'user', pool, user, Date.now()))?.backends,
  );
}

/** The group's backend URLs in the pool, or undefined when none are registered. */
export async function lookupGroupBackends(
  table: Table,
  pool: string,
  group: string,
): Promise<readonly string[] | undefined> {
  const key = registryKeys.groupMapping(pool, group);
  return cachedRead(
    table,
    { pk: key.pk, prefix: key.sk, variant: 'mapping' },
    async () => (await getMapping(table, 'group', pool, group, Date.now()))?.backends,
  );
}

/** A proxy user with its password hash, or undefined. Disabled users are returned (with enabled: false). */
export async function getProxyUser(
  table: Table,
  pool: string,
  name: string,
): Promise<RegisteredProxyUser | undefined> {
  const record = await getProxyUserRecord(table, pool, name, Date.now());
  if (!record) return undefined;
  return {
    pool: record.pool,
    name: record.name,
    passwordHash: record.passwordHash,
    primaryGroup: record.primaryGroup,
    groups: record.groups,
    enabled: record.enabled,
  };
}
