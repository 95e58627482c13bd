import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { CONNECT_POLICIES } from '../../contract/connect-policies.js';
import type { Page, Pool, PoolCreate, PoolPatch, PoolReplace } from '../../contract/registry.js';
import type { Table } from '../store/index.js';
import {
  anyItem,
  type CreateGuard,
  createItem,
  decodeCursor,
  deleteMarkedPool,
  encodeCursor,
  type ItemKind,
  markPoolDeleting,
  notFound,
  parseStored,
  poolPk,
  queryPage,
  REGISTRY_POOL_PREFIX,
  REGISTRY_POOLS_PK,
  REGISTRY_PREFIX,
  RegistryError,
  readItem,
  readItems,
  registryKeys,
  type SaveOutcome,
  saveItem,
  unmarkPoolDeleting,
  versionMismatch,
} from '../store/index.js';
import { versionedView } from './time.js';

/**
 * Registered pools: `REGISTRY#POOLS` / `POOL#<pool>`, one partition listing every pool. A pool's
 * contents (backends, mappings, proxy users) live in the pool's own partition under `REG#`; a pool
 * must exist for contents to be created in it, and is deleted only when it has none (see
 * deletePool for how that holds under concurrent writers without transactions).
 */
const storedPool = z.object({
  name: z.string(),
  connectPolicy: z.enum(CONNECT_POLICIES).optional(),
  description: z.string().optional(),
  /** The pool's edge workers authenticate clients themselves: backend URLs may carry passwords. */
  proxyAuth: z.boolean().optional(),
  /** Set while a deletion is under way: the deleter's id (see deletePool). */
  deleting: z.string().optional(),
  createdAt: z.number(),
  updatedAt: z.number(),
  version: z.number(),
});

export type PoolRecord = z.output<typeof storedPool>;

const parsePool = parseStored(storedPool, 'pool');
export const poolKind: ItemKind<PoolRecord> = {
  entity: 'pool',
  content: ['name', 'connectPolicy', 'description', 'proxyAuth'],
  parse: (raw) => parsePool(raw),
};

const what = (name: string) => `pool "${name}"`;

export function poolView(record: PoolRecord): Pool {
  return {
    name: record.name,
    ...(record.connectPolicy ? { connectPolicy: record.connectPolicy } : {}),
    ...(record.description !== undefined ? { description: record.description } : {}),
    ...(record.proxyAuth !== undefined ? { proxyAuth: record.proxyAuth } : {}),
    ...versionedView(record),
  };
}

export async function getPool(table: Table, name: string, nowMs: number): Promise<PoolRecord | undefined> {
  return readItem(table, poolKind, registryKeys.pool(name), nowMs);
}

export async function createPool(table: Table, input: PoolCreate, nowMs: number): Promise<PoolRecord> {
  return createItem(table, poolKind, registryKeys.pool(input.name), content(input.name, input), {
    what: what(input.name),
    nowMs,
  });
}

/** PUT: create or replace. `mayCreate` false (a write-scoped token) turns creation into forbidden. */
export async function putPool(
  table: Table,
  name: string,
  input: PoolReplace,
  options: { ifMatch?: number; mayCreate: boolean; nowMs: number },
): Promise<{ record: PoolRecord; outcome: SaveOutcome }> {
  return saveItem(table, poolKind, registryKeys.pool(name), {
    what: what(name),
    ...(options.ifMatch !== undefined ? { ifMatch: options.ifMatch } : {}),
    whenMissing: options.mayCreate ? 'create' : { forbidden: 'creating a pool needs an admin token' },
    build: () => content(name, input),
    nowMs: options.nowMs,
  });
}

export async function patchPool(
  table: Table,
  name: string,
  patch: PoolPatch,
  options: { ifMatch?: number; nowMs: number },
): Promise<{ record: PoolRecord; outcome: SaveOutcome }> {
  return saveItem(table, poolKind, registryKeys.pool(name), {
    what: what(name),
    ...(options.ifMatch !== undefined ? { ifMatch: options.ifMatch } : {}),
    whenMissing: 'not_found',
    build: (current) => ({
      name,
      connectPolicy: merge(current?.connectPolicy, patch.connectPolicy),
      description: merge(current?.description, patch.description),
      proxyAuth: merge(current?.proxyAuth, patch.proxyAuth),
    }),
    nowMs: options.nowMs,
  });
}

/**
 * One page of pools in name order. `only` (a token restricted to some pools) reads just those
 * pools by key instead of filtering the whole list: a tenant never pages through others' pools.
 */
export async function listPools(
  table: Table,
  request: { limit: number; cursor?: string | undefined; only?: readonly string[]; nowMs: number },
): Promise<Page<PoolRecord>> {
  if (request.only === undefined) {
    return queryPage(table, poolKind, {
      pk: REGISTRY_POOLS_PK,
      prefix: REGISTRY_POOL_PREFIX,
      limit: request.limit,
      cursor: request.cursor,
      nowMs: request.nowMs,
    });
  }
  const after = request.cursor
    ? decodeCursor(request.cursor, { pk: REGISTRY_POOLS_PK, prefix: REGISTRY_POOL_PREFIX }).sk
    : undefined;
  const keys = [...new Set(request.only)]
    .map((name) => registryKeys.pool(name))
    .sort((a, b) => Buffer.compare(Buffer.from(a.sk), Buffer.from(b.sk)))
    .filter((key) => after === undefined || Buffer.compare(Buffer.from(key.sk), Buffer.from(after)) > 0);
  const found = await readItems(table, poolKind, keys, request.nowMs);
  const items = found.slice(0, request.limit);
  const last = items[items.length - 1];
  return found.length > items.length && last
    ? { items, nextCursor: encodeCursor(registryKeys.pool(last.name)) }
    : { items };
}

/**
 * Deletes a pool that has no registered contents; `pool_not_empty` otherwise. Without transactions
 * "no contents" cannot be checked and acted on in one request, so deletion is in three steps and
 * creation of contents checks the pool before and after writing (poolGuard):
 *
 * 1. mark the pool `deleting = <random id>` (condition: it exists, and If-Match's version);
 * 2. Query the pool's partition for any `REG#` item (Limit 1, strongly consistent): if one exists,
 *    take the mark away again (condition: still ours) and answer pool_not_empty;
 * 3. delete the pool on condition that the mark is still ours.
 *
 * A creation writes its item, then reads the pool again: if the mark is there, it deletes its item
 * and fails with pool_being_deleted. Either the creation's write came before step 2 (the deleter
 * sees it and refuses) or its second read came after step 1 (it backs out): no content outlives
 * its pool. A deletion that crashed between 1 and 3 leaves the mark; repeating the DELETE finishes
 * it (step 1 takes over the mark), and until then creations in that pool are refused.
 */
export async function deletePool(
  table: Table,
  name: string,
  options: { ifMatch?: number; nowMs: number },
): Promise<void> {
  const mark = randomUUID();
  if (!(await markPoolDeleting(table, name, mark, options.ifMatch))) {
    const current = await getPool(table, name, options.nowMs);
    if (!current) throw notFound(what(name));
    throw versionMismatch(what(name), current.version);
  }
  if (await anyItem(table, poolPk(name), REGISTRY_PREFIX)) {
    await unmarkPoolDeleting(table, name, mark);
    throw new RegistryError(
      'pool_not_empty',
      `${what(name)} still has backends, mappings or proxy users; delete them first`,
    );
  }
  if (!(await deleteMarkedPool(table, name, mark))) {
    throw new RegistryError('conflict', `${what(name)} changed while it was being deleted; try again`);
  }
}

/** Creation of contents in a pool: it must exist and not be being deleted, before and after the write. */
export function poolGuard(table: Table, name: string, nowMs: number): CreateGuard {
  const check = async () => {
    const pool = await getPool(table, name, nowMs);
    if (!pool) throw notFound(what(name));
    if (pool.deleting !== undefined) {
      throw new RegistryError(
        'pool_being_deleted',
        `${what(name)} is being deleted (if a deletion was interrupted, repeat the DELETE)`,
      );
    }
  };
  return { before: check, after: check };
}

/** Listing a pool's contents: not_found when the pool is not registered. */
export async function requirePool(table: Table, name: string, nowMs: number): Promise<PoolRecord> {
  const pool = await getPool(table, name, nowMs);
  if (!pool) throw notFound(what(name));
  return pool;
}

function content(name: string, input: PoolReplace) {
  return {
    name,
    connectPolicy: input.connectPolicy,
    description: input.description,
    proxyAuth: input.proxyAuth,
  };
}

/** PATCH semantics for one optional field: absent keeps, null removes, a value replaces. */
export function merge<T>(current: T | undefined, patch: T | null | undefined): T | undefined {
  if (patch === undefined) return current;
  return patch === null ? undefined : patch;
}
