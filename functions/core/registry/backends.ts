import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import {
  type Backend,
  type BackendPatch,
  type BackendReplace,
  backendKeyOf,
  type ListQuery,
  type Page,
} from '../../contract/registry.js';
import { parseBackendUrl, redactUrl, urlPasswordRefusal } from '../backend-url.js';
import type { Table } from '../store/index.js';
import {
  createItem,
  deleteItem,
  type ItemKind,
  parseStored,
  poolPk,
  queryAll,
  queryPage,
  REGISTRY_BACKEND_PREFIX,
  RegistryError,
  readItem,
  registryKeys,
  type SaveOutcome,
  saveItem,
} from '../store/index.js';
import { getPool, merge, poolGuard, requirePool } from './pools.js';
import { versionedView } from './time.js';

/**
 * Backends registered in a pool: `POOL#<pool>` / `REG#BACKEND#<id>`. The stored `url` keeps any
 * credentials (edge workers need them to log in); `backend` is its credential-free key, the name
 * policies and leases know the backend by. The API only ever shows `redactUrl(url)`.
 */
const storedBackend = z.object({
  pool: z.string(),
  id: z.string(),
  url: z.string(),
  backend: z.string(),
  weight: z.number().optional(),
  enabled: z.boolean(),
  labels: z.record(z.string(), z.string()).optional(),
  createdAt: z.number(),
  updatedAt: z.number(),
  version: z.number(),
});

export type BackendRecord = z.output<typeof storedBackend>;

const parseBackend = parseStored(storedBackend, 'backend');
export const backendKind: ItemKind<BackendRecord> = {
  entity: 'backend',
  content: ['pool', 'id', 'url', 'backend', 'weight', 'enabled', 'labels'],
  parse: (raw) => parseBackend(raw),
};

const what = (pool: string, id: string) => `backend "${id}" of pool "${pool}"`;

/** The API's view: credentials redacted. */
export function backendView(record: BackendRecord): Backend {
  return {
    pool: record.pool,
    id: record.id,
    url: redactUrl(record.url),
    backend: record.backend,
    ...(record.weight !== undefined ? { weight: record.weight } : {}),
    enabled: record.enabled,
    ...(record.labels !== undefined ? { labels: record.labels } : {}),
    ...versionedView(record),
  };
}

/**
 * A server-chosen id: the creation time (base 36, 9 digits) then 10 random base-32 digits, so ids
 * sort by creation time and a pool's backends list in the order they were added.
 */
export function generateBackendId(nowMs: number): string {
  const alphabet = '0123456789abcdefghijklmnopqrstuv';
  const random = [...randomBytes(10)].map((byte) => alphabet[byte & 31]).join('');
  return `${Math.max(0, Math.floor(nowMs)).toString(36).padStart(9, '0')}${random}`;
}

/**
 * Backend URLs with a password are registered only in a pool marked `proxyAuth` (its edge workers
 * check clients' passwords themselves): elsewhere every client would log in with the URL's password
 * (see urlPasswordRefusal). `urls` are the request's URLs by their path in the body (`url`,
 * `backends.0`, `add.1`); the error names those paths, never a URL. A missing pool is left to the
 * write's own pool guard (404).
 */
export async function requireProxyAuthForPasswords(
  table: Table,
  pool: string,
  urls: readonly { path: string; url: string }[],
  nowMs: number,
): Promise<void> {
  const withPassword = urls.filter(({ url }) => {
    const parsed = parseBackendUrl(url);
    return parsed.ok && urlPasswordRefusal(parsed.url, false) !== undefined;
  });
  if (withPassword.length === 0) return;
  const record = await getPool(table, pool, nowMs);
  if (!record || record.proxyAuth === true) return;
  throw new RegistryError(
    'url_credentials_need_proxy_auth',
    `pool "${pool}" does not authenticate clients (proxyAuth): a backend URL may not carry a password, or every client would be logged in with it. Leave the password out (the client's own is then sent), or set proxyAuth on the pool once its edge workers have proxyAuth: true (ProxyOptions UseReverseProxyAuth).`,
    withPassword.map(({ path }) => ({
      path,
      message: 'a password in a backend URL needs a pool with proxyAuth',
    })),
  );
}

export async function createBackend(
  table: Table,
  pool: string,
  input: BackendReplace,
  nowMs: number,
): Promise<BackendRecord> {
  await requireProxyAuthForPasswords(table, pool, [{ path: 'url', url: input.url }], nowMs);
  for (let attempt = 1; ; attempt++) {
    const id = generateBackendId(nowMs);
    try {
      return await createItem(table, backendKind, registryKeys.backend(pool, id), content(pool, id, input), {
        what: what(pool, id),
        nowMs,
        guard: poolGuard(table, pool, nowMs),
      });
    } catch (err) {
      // Two random 50-bit suffixes in the same millisecond: take another id.
      if (!(err instanceof RegistryError && err.kind === 'already_exists') || attempt >= 3) throw err;
    }
  }
}

export async function getBackend(
  table: Table,
  pool: string,
  id: string,
  nowMs: number,
): Promise<BackendRecord | undefined> {
  return readItem(table, backendKind, registryKeys.backend(pool, id), nowMs);
}

export async function listBackends(
  table: Table,
  pool: string,
  page: ListQuery & { limit: number },
  nowMs: number,
): Promise<Page<BackendRecord>> {
  await requirePool(table, pool, nowMs);
  return queryPage(table, backendKind, {
    pk: poolPk(pool),
    prefix: REGISTRY_BACKEND_PREFIX,
    limit: page.limit,
    cursor: page.cursor,
    nowMs,
  });
}

/** Every enabled backend of a pool, credentials included (edge workers only): one Query, all pages. */
export async function enabledBackends(table: Table, pool: string, nowMs: number): Promise<BackendRecord[]> {
  return queryAll(table, backendKind, {
    pk: poolPk(pool),
    prefix: REGISTRY_BACKEND_PREFIX,
    filter: { expression: '#enabled = :true', names: { '#enabled': 'enabled' }, values: { ':true': true } },
    nowMs,
  });
}

export async function putBackend(
  table: Table,
  pool: string,
  id: string,
  input: BackendReplace,
  options: { ifMatch?: number; nowMs: number },
): Promise<{ record: BackendRecord; outcome: SaveOutcome }> {
  await requireProxyAuthForPasswords(table, pool, [{ path: 'url', url: input.url }], options.nowMs);
  return saveItem(table, backendKind, registryKeys.backend(pool, id), {
    what: what(pool, id),
    ...(options.ifMatch !== undefined ? { ifMatch: options.ifMatch } : {}),
    whenMissing: 'create',
    guard: poolGuard(table, pool, options.nowMs),
    build: () => content(pool, id, input),
    nowMs: options.nowMs,
  });
}

export async function patchBackend(
  table: Table,
  pool: string,
  id: string,
  patch: BackendPatch,
  options: { ifMatch?: number; nowMs: number },
): Promise<{ record: BackendRecord; outcome: SaveOutcome }> {
  if (patch.url !== undefined) {
    await requireProxyAuthForPasswords(table, pool, [{ path: 'url', url: patch.url }], options.nowMs);
  }
  return saveItem(table, backendKind, registryKeys.backend(pool, id), {
    what: what(pool, id),
    ...(options.ifMatch !== undefined ? { ifMatch: options.ifMatch } : {}),
    whenMissing: 'not_found',
    build: (current) => {
      if (!current) throw new Error('PATCH builds from an existing backend');
      const weight = merge(current.weight, patch.weight);
      const labels = merge(current.labels, patch.labels);
      return content(pool, id, {
        url: patch.url ?? current.url,
        enabled: patch.enabled ?? current.enabled,
        ...(weight !== undefined ? { weight } : {}),
        ...(labels !== undefined ? { labels } : {}),
      });
    },
    nowMs: options.nowMs,
  });
}

export async function deleteBackend(
  table: Table,
  pool: string,
  id: string,
  options: { ifMatch?: number },
): Promise<void> {
  await deleteItem(table, registryKeys.backend(pool, id), { what: what(pool, id), ...options });
}

function content(pool: string, id: string, input: BackendReplace) {
  return {
    pool,
    id,
    url: input.url,
    backend: backendKeyOf(input.url),
    weight: input.weight,
    enabled: input.enabled,
    labels: input.labels,
  };
}
