import { z } from 'zod';
import {
  backendKeyOf,
  type GroupMapping,
  type ListQuery,
  type MappingPatch,
  type MappingReplace,
  type Page,
  type UserMapping,
} from '../../contract/registry.js';
import { redactUrl } from '../backend-url.js';
import type { Table } from '../store/index.js';
import {
  createItem,
  deleteItem,
  GROUP_MAPPING_PREFIX,
  type ItemKind,
  parseStored,
  poolPk,
  queryPage,
  RegistryError,
  readItem,
  registryKeys,
  type SaveOutcome,
  saveItem,
  USER_MAPPING_PREFIX,
} from '../store/index.js';
import { requireProxyAuthForPasswords } from './backends.js';
import { poolGuard, requirePool } from './pools.js';
import { versionedView } from './time.js';

/**
 * User and group mappings: a user's (or group's) own backend URLs in a pool, what mod_proxy reads
 * from its per-user `%U` files or `sql:` lookups. Two kinds of one entity, alike but for the sort
 * key: `POOL#<pool>` / `REG#USER#<user>` and `POOL#<pool>` / `REG#GROUP#<group>`. `backends` keeps
 * the URLs in order, credentials included (the API shows them redacted); no backend (host and
 * port) appears twice.
 */
export type MappingKind = 'user' | 'group';

const storedMapping = z.object({
  pool: z.string(),
  kind: z.enum(['user', 'group']),
  name: z.string(),
  backends: z.array(z.string()),
  createdAt: z.number(),
  updatedAt: z.number(),
  version: z.number(),
});

export type MappingRecord = z.output<typeof storedMapping>;

const parseMapping = parseStored(storedMapping, 'mapping');
export const mappingKind: ItemKind<MappingRecord> = {
  entity: 'mapping',
  content: ['pool', 'kind', 'name', 'backends'],
  parse: (raw) => parseMapping(raw),
};

const MAX_BACKENDS = 100;

function keyOf(kind: MappingKind, pool: string, name: string) {
  return kind === 'user' ? registryKeys.userMapping(pool, name) : registryKeys.groupMapping(pool, name);
}

const what = (kind: MappingKind, pool: string, name: string) => `${kind} mapping "${name}" of pool "${pool}"`;

export function userMappingView(record: MappingRecord): UserMapping {
  return {
    pool: record.pool,
    user: record.name,
    backends: record.backends.map(redactUrl),
    ...versionedView(record),
  };
}

export function groupMappingView(record: MappingRecord): GroupMapping {
  return {
    pool: record.pool,
    group: record.name,
    backends: record.backends.map(redactUrl),
    ...versionedView(record),
  };
}

export async function getMapping(
  table: Table,
  kind: MappingKind,
  pool: string,
  name: string,
  nowMs: number,
): Promise<MappingRecord | undefined> {
  return readItem(table, mappingKind, keyOf(kind, pool, name), nowMs);
}

export async function listMappings(
  table: Table,
  kind: MappingKind,
  pool: string,
  page: ListQuery & { limit: number },
  nowMs: number,
): Promise<Page<MappingRecord>> {
  await requirePool(table, pool, nowMs);
  return queryPage(table, mappingKind, {
    pk: poolPk(pool),
    prefix: kind === 'user' ? USER_MAPPING_PREFIX : GROUP_MAPPING_PREFIX,
    limit: page.limit,
    cursor: page.cursor,
    nowMs,
  });
}

export async function createMapping(
  table: Table,
  kind: MappingKind,
  pool: string,
  name: string,
  input: MappingReplace,
  nowMs: number,
): Promise<MappingRecord> {
  await requireProxyAuthForPasswords(table, pool, listed('backends', input.backends), nowMs);
  return createItem(table, mappingKind, keyOf(kind, pool, name), content(kind, pool, name, input.backends), {
    what: what(kind, pool, name),
    nowMs,
    guard: poolGuard(table, pool, nowMs),
  });
}

export async function putMapping(
  table: Table,
  kind: MappingKind,
  pool: string,
  name: string,
  input: MappingReplace,
  options: { ifMatch?: number; nowMs: number },
): Promise<{ record: MappingRecord; outcome: SaveOutcome }> {
  await requireProxyAuthForPasswords(table, pool, listed('backends', input.backends), options.nowMs);
  return saveItem(table, mappingKind, keyOf(kind, pool, name), {
    what: what(kind, pool, name),
    ...(options.ifMatch !== undefined ? { ifMatch: options.ifMatch } : {}),
    whenMissing: 'create',
    guard: poolGuard(table, pool, options.nowMs),
    build: () => content(kind, pool, name, input.backends),
    nowMs: options.nowMs,
  });
}

/**
 * PATCH: `remove` drops the entries with the same host and port (credentials need not be known),
 * then `add` replaces an entry with the same host and port in place or appends. The result must
 * keep at least one backend (delete the mapping instead) and at most MAX_BACKENDS.
 */
export async function patchMapping(
  table: Table,
  kind: MappingKind,
  pool: string,
  name: string,
  patch: MappingPatch,
  options: { ifMatch?: number; nowMs: number },
): Promise<{ record: MappingRecord; outcome: SaveOutcome }> {
  await requireProxyAuthForPasswords(table, pool, listed('add', patch.add ?? []), options.nowMs);
  return saveItem(table, mappingKind, keyOf(kind, pool, name), {
    what: what(kind, pool, name),
    ...(options.ifMatch !== undefined ? { ifMatch: options.ifMatch } : {}),
    whenMissing: 'not_found',
    build: (current) => content(kind, pool, name, applyPatch(current?.backends ?? [], patch)),
    nowMs: options.nowMs,
  });
}

export async function deleteMapping(
  table: Table,
  kind: MappingKind,
  pool: string,
  name: string,
  options: { ifMatch?: number },
): Promise<void> {
  await deleteItem(table, keyOf(kind, pool, name), { what: what(kind, pool, name), ...options });
}

/** The patched list of URLs (exported for unit tests). */
export function applyPatch(backends: readonly string[], patch: MappingPatch): string[] {
  const removed = new Set((patch.remove ?? []).map(backendKeyOf));
  const result = backends.filter((url) => !removed.has(backendKeyOf(url)));
  for (const url of patch.add ?? []) {
    const key = backendKeyOf(url);
    const at = result.findIndex((existing) => backendKeyOf(existing) === key);
    if (at >= 0) result[at] = url;
    else result.push(url);
  }
  if (result.length === 0) {
    throw new RegistryError('invalid', 'a mapping keeps at least one backend; delete it instead', [
      { path: 'remove', message: 'would leave no backend (delete the mapping instead)' },
    ]);
  }
  if (result.length > MAX_BACKENDS) {
    throw new RegistryError('invalid', `a mapping has at most ${MAX_BACKENDS} backends`, [
      { path: 'add', message: `would make more than ${MAX_BACKENDS} backends` },
    ]);
  }
  return result;
}

/** A request's URLs by their path in the body, as requireProxyAuthForPasswords names them. */
function listed(field: string, urls: readonly string[]): { path: string; url: string }[] {
  return urls.map((url, index) => ({ path: `${field}.${index}`, url }));
}

function content(kind: MappingKind, pool: string, name: string, backends: readonly string[]) {
  return { pool, kind, name, backends: [...backends] };
}
