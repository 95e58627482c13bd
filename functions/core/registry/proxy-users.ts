import { z } from 'zod';
import type {
  ListQuery,
  Page,
  ProxyUser,
  ProxyUserCreate,
  ProxyUserPatch,
  ProxyUserReplace,
} from '../../contract/registry.js';
import type { Table } from '../store/index.js';
import {
  createItem,
  deleteItem,
  type ItemKind,
  PROXY_USER_PREFIX,
  parseStored,
  poolPk,
  queryPage,
  readItem,
  registryKeys,
  type SaveOutcome,
  saveItem,
} from '../store/index.js';
import { hashPassword, verifyPassword } from './password-hash.js';
import { poolGuard, requirePool } from './pools.js';
import { versionedView } from './time.js';

/**
 * Proxy users (for proxy authentication): `POOL#<pool>` / `REG#PROXYUSER#<name>`. The API takes a
 * plaintext `password` and stores only `passwordHash` (password-hash.ts); no reply carries either.
 * Giving the password the stored hash already matches keeps the hash, so a repeated PUT changes
 * nothing.
 */
const storedProxyUser = z.object({
  pool: z.string(),
  name: z.string(),
  passwordHash: z.string(),
  primaryGroup: z.string(),
  groups: z.array(z.string()),
  enabled: z.boolean(),
  createdAt: z.number(),
  updatedAt: z.number(),
  version: z.number(),
});

export type ProxyUserRecord = z.output<typeof storedProxyUser>;

const parseProxyUser = parseStored(storedProxyUser, 'proxy user');
export const proxyUserKind: ItemKind<ProxyUserRecord> = {
  entity: 'proxy-user',
  content: ['pool', 'name', 'passwordHash', 'primaryGroup', 'groups', 'enabled'],
  parse: (raw) => parseProxyUser(raw),
};

const what = (pool: string, name: string) => `proxy user "${name}" of pool "${pool}"`;

/** The API's view: no password hash. */
export function proxyUserView(record: ProxyUserRecord): ProxyUser {
  return {
    pool: record.pool,
    name: record.name,
    primaryGroup: record.primaryGroup,
    groups: record.groups,
    enabled: record.enabled,
    ...versionedView(record),
  };
}

export async function getProxyUserRecord(
  table: Table,
  pool: string,
  name: string,
  nowMs: number,
): Promise<ProxyUserRecord | undefined> {
  return readItem(table, proxyUserKind, registryKeys.proxyUser(pool, name), nowMs);
}

export async function listProxyUsers(
  table: Table,
  pool: string,
  page: ListQuery & { limit: number },
  nowMs: number,
): Promise<Page<ProxyUserRecord>> {
  await requirePool(table, pool, nowMs);
  return queryPage(table, proxyUserKind, {
    pk: poolPk(pool),
    prefix: PROXY_USER_PREFIX,
    limit: page.limit,
    cursor: page.cursor,
    nowMs,
  });
}

export async function createProxyUser(
  table: Table,
  pool: string,
  input: ProxyUserCreate,
  nowMs: number,
): Promise<ProxyUserRecord> {
  const passwordHash = await hashPassword(input.password);
  return createItem(
    table,
    proxyUserKind,
    registryKeys.proxyUser(pool, input.name),
    content(pool, input.name, passwordHash, input),
    { what: what(pool, input.name), nowMs, guard: poolGuard(table, pool, nowMs) },
  );
}

export async function putProxyUser(
  table: Table,
  pool: string,
  name: string,
  input: ProxyUserReplace,
  options: { ifMatch?: number; nowMs: number },
): Promise<{ record: ProxyUserRecord; outcome: SaveOutcome }> {
  return saveItem(table, proxyUserKind, registryKeys.proxyUser(pool, name), {
    what: what(pool, name),
    ...(options.ifMatch !== undefined ? { ifMatch: options.ifMatch } : {}),
    whenMissing: 'create',
    guard: poolGuard(table, pool, options.nowMs),
    build: async (current) => content(pool, name, await passwordHashFor(input.password, current), input),
    nowMs: options.nowMs,
  });
}

export async function patchProxyUser(
  table: Table,
  pool: string,
  name: string,
  patch: ProxyUserPatch,
  options: { ifMatch?: number; nowMs: number },
): Promise<{ record: ProxyUserRecord; outcome: SaveOutcome }> {
  return saveItem(table, proxyUserKind, registryKeys.proxyUser(pool, name), {
    what: what(pool, name),
    ...(options.ifMatch !== undefined ? { ifMatch: options.ifMatch } : {}),
    whenMissing: 'not_found',
    build: async (current) => {
      if (!current) throw new Error('PATCH builds from an existing proxy user');
      const passwordHash =
        patch.password === undefined ? current.passwordHash : await passwordHashFor(patch.password, current);
      return content(pool, name, passwordHash, {
        primaryGroup: patch.primaryGroup ?? current.primaryGroup,
        groups: patch.groups ?? current.groups,
        enabled: patch.enabled ?? current.enabled,
      });
    },
    nowMs: options.nowMs,
  });
}

export async function deleteProxyUser(
  table: Table,
  pool: string,
  name: string,
  options: { ifMatch?: number },
): Promise<void> {
  await deleteItem(table, registryKeys.proxyUser(pool, name), { what: what(pool, name), ...options });
}

/** The stored hash when it already matches `password` (nothing changes), else a fresh one. */
async function passwordHashFor(password: string, current: ProxyUserRecord | undefined): Promise<string> {
  if (current && (await verifyPassword(password, current.passwordHash))) return current.passwordHash;
  return hashPassword(password);
}

function content(
  pool: string,
  name: string,
  passwordHash: string,
  input: { primaryGroup: string; groups: string[]; enabled: boolean },
) {
  return {
    pool,
    name,
    passwordHash,
    primaryGroup: input.primaryGroup,
    groups: [...input.groups],
    enabled: input.enabled,
  };
}
