import { z } from 'zod';
import {
  type ListQuery,
  type Page,
  TOKEN_SCOPES,
  type Token,
  type TokenCreate,
  type TokenPatch,
  type TokenPools,
  type TokenScope,
} from '../../contract/registry.js';
import type { Table } from '../store/index.js';
import {
  API_TOKEN_PREFIX,
  createItem,
  deleteItem,
  EXPIRES_AT,
  epochSeconds,
  type ItemKind,
  isLive,
  parseStored,
  queryPage,
  REGISTRY_TOKENS_PK,
  RegistryError,
  readItem,
  recordTokenUse,
  registryKeys,
  type SaveOutcome,
  saveItem,
} from '../store/index.js';
import { merge } from './pools.js';
import { isoTime, versionedView } from './time.js';
import {
  generateTokenSecret,
  hashTokenSecret,
  looksLikeTokenSecret,
  tokenHashesEqual,
  tokenIdOfHash,
} from './token-secret.js';

/**
 * API tokens: `REGISTRY#TOKENS` / `TOKEN#<id>`, the id being derived from the hash of the secret
 * (token-secret.ts), so the item of a presented secret is one GetItem away. Only `tokenHash` is
 * stored; the secret is returned once, by the creation. `expiresAt` is the table's TTL attribute
 * (epoch seconds): an expired token reads as absent everywhere and DynamoDB's TTL (or the embedded
 * sweep) eventually deletes it. `lastUsedAt` is written at most once a minute, outside `version`.
 */
const storedToken = z.object({
  id: z.string(),
  name: z.string(),
  scope: z.enum(TOKEN_SCOPES),
  pools: z.union([z.literal('*'), z.array(z.string())]),
  tokenHash: z.string(),
  expiresAt: z.number().optional(),
  lastUsedAt: z.number().optional(),
  createdAt: z.number(),
  updatedAt: z.number(),
  version: z.number(),
});

export type TokenRecord = z.output<typeof storedToken>;

const parseToken = parseStored(storedToken, 'API token');
export const tokenKind: ItemKind<TokenRecord> = {
  entity: 'api-token',
  content: ['id', 'name', 'scope', 'pools', 'tokenHash', EXPIRES_AT],
  parse: (raw, nowMs) => {
    const record = parseToken(raw);
    return isLive(record.expiresAt, nowMs) ? record : undefined;
  },
};

/** How stale `lastUsedAt` may get: one write per token and minute at most. */
export const LAST_USED_RESOLUTION_MS = 60_000;

const what = (id: string) => `API token "${id}"`;

/** The API's view: no hash (the secret is never stored). */
export function tokenView(record: TokenRecord): Token {
  return {
    id: record.id,
    name: record.name,
    scope: record.scope,
    pools: record.pools,
    ...(record.expiresAt !== undefined ? { expiresAt: isoTime(record.expiresAt * 1000) } : {}),
    ...(record.lastUsedAt !== undefined ? { lastUsedAt: isoTime(record.lastUsedAt) } : {}),
    ...versionedView(record),
  };
}

export async function createToken(
  table: Table,
  input: TokenCreate,
  nowMs: number,
): Promise<{ record: TokenRecord; secret: string }> {
  const expiresAt = expirySeconds(input.expiresAt, nowMs);
  for (let attempt = 1; ; attempt++) {
    const secret = generateTokenSecret();
    const tokenHash = hashTokenSecret(secret);
    const id = tokenIdOfHash(tokenHash);
    try {
      const record = await createItem(
        table,
        tokenKind,
        registryKeys.apiToken(id),
        content(id, tokenHash, { ...input, expiresAt }),
        { what: what(id), nowMs },
      );
      return { record, secret };
    } catch (err) {
      // 128 bits of hash in common: cannot happen, but would only cost another secret.
      if (!(err instanceof RegistryError && err.kind === 'already_exists') || attempt >= 3) throw err;
    }
  }
}

export async function getToken(table: Table, id: string, nowMs: number): Promise<TokenRecord | undefined> {
  return readItem(table, tokenKind, registryKeys.apiToken(id), nowMs);
}

/** One page of live tokens, in id order. */
export async function listTokens(
  table: Table,
  page: ListQuery & { limit: number },
  nowMs: number,
): Promise<Page<TokenRecord>> {
  return queryPage(table, tokenKind, {
    pk: REGISTRY_TOKENS_PK,
    prefix: API_TOKEN_PREFIX,
    limit: page.limit,
    cursor: page.cursor,
    filter: {
      expression: 'attribute_not_exists(#exp) OR #exp > :now',
      names: { '#exp': EXPIRES_AT },
      values: { ':now': epochSeconds(nowMs) },
    },
    nowMs,
  });
}

/** PUT replaces a token's name, scope, pools and expiry; it cannot create one (the id comes from a secret). */
export async function putToken(
  table: Table,
  id: string,
  input: TokenCreate,
  options: { ifMatch?: number; nowMs: number },
): Promise<{ record: TokenRecord; outcome: SaveOutcome }> {
  const expiresAt = expirySeconds(input.expiresAt, options.nowMs);
  return saveItem(table, tokenKind, registryKeys.apiToken(id), {
    what: what(id),
    ...(options.ifMatch !== undefined ? { ifMatch: options.ifMatch } : {}),
    whenMissing: 'not_found',
    build: (current) => {
      if (!current) throw new Error('PUT of a token builds from an existing token');
      return content(id, current.tokenHash, { ...input, expiresAt });
    },
    nowMs: options.nowMs,
  });
}

export async function patchToken(
  table: Table,
  id: string,
  patch: TokenPatch,
  options: { ifMatch?: number; nowMs: number },
): Promise<{ record: TokenRecord; outcome: SaveOutcome }> {
  const expiresAt =
    patch.expiresAt === undefined || patch.expiresAt === null
      ? patch.expiresAt
      : expirySeconds(patch.expiresAt, options.nowMs);
  return saveItem(table, tokenKind, registryKeys.apiToken(id), {
    what: what(id),
    ...(options.ifMatch !== undefined ? { ifMatch: options.ifMatch } : {}),
    whenMissing: 'not_found',
    build: (current) => {
      if (!current) throw new Error('PATCH builds from an existing token');
      const scope = patch.scope ?? current.scope;
      const pools = patch.pools ?? current.pools;
      if (scope === 'admin' && pools !== '*') {
        throw new RegistryError('invalid', 'an admin token covers every pool', [
          { path: 'pools', message: 'an admin token covers every pool: use "*"' },
        ]);
      }
      return content(id, current.tokenHash, {
        name: patch.name ?? current.name,
        scope,
        pools,
        expiresAt: merge(current.expiresAt, expiresAt),
      });
    },
    nowMs: options.nowMs,
  });
}

export async function deleteToken(table: Table, id: string, options: { ifMatch?: number }): Promise<void> {
  await deleteItem(table, registryKeys.apiToken(id), { what: what(id), ...options });
}

/**
 * The live token a presented secret belongs to: hash it, GetItem the id of the hash, compare the
 * full stored hash in constant time. Undefined for anything else (no detail for the caller).
 */
export async function findTokenBySecret(
  table: Table,
  secret: string,
  nowMs: number,
): Promise<TokenRecord | undefined> {
  if (!looksLikeTokenSecret(secret)) return undefined;
  const tokenHash = hashTokenSecret(secret);
  const record = await getToken(table, tokenIdOfHash(tokenHash), nowMs);
  return record && tokenHashesEqual(record.tokenHash, tokenHash) ? record : undefined;
}

/** Records a use of the token, unless one was recorded less than a minute ago (conditional write). */
export async function touchToken(table: Table, record: TokenRecord, nowMs: number): Promise<void> {
  if (record.lastUsedAt !== undefined && record.lastUsedAt > nowMs - LAST_USED_RESOLUTION_MS) return;
  await recordTokenUse(table, record.id, nowMs, nowMs - LAST_USED_RESOLUTION_MS);
}

/** A requested expiry as the TTL attribute (epoch seconds, rounded up); it must lie in the future. */
function expirySeconds(expiresAt: string | undefined, nowMs: number): number | undefined {
  if (expiresAt === undefined) return undefined;
  const seconds = Math.ceil(Date.parse(expiresAt) / 1000);
  if (!(seconds > epochSeconds(nowMs))) {
    throw new RegistryError('invalid', 'expiresAt must lie in the future', [
      { path: 'expiresAt', message: 'must lie in the future' },
    ]);
  }
  return seconds;
}

function content(
  id: string,
  tokenHash: string,
  input: { name: string; scope: TokenScope; pools: TokenPools; expiresAt: number | undefined },
) {
  return {
    id,
    name: input.name,
    scope: input.scope,
    pools: input.pools === '*' ? '*' : [...input.pools],
    tokenHash,
    [EXPIRES_AT]: input.expiresAt,
  };
}
