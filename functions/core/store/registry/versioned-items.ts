import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { convertToAttr, marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { z } from 'zod';
import { backoff, isConditionFailure } from '../conditional.js';
import {
  BatchGetItemCommand,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '../dynamodb-sdk.js';
import { StoreError } from '../store-error.js';
import type { Table } from '../table.js';
import { cursorFromLastKey, decodeCursor } from './page-cursor.js';
import { notFound, RegistryError } from './registry-error.js';

/**
 * Versioned items: the one way every registry entity is read and written. Each item carries its
 * content attributes plus `createdAt` and `updatedAt` (epoch ms), `version` (1 on creation, +1 with
 * every change) and `entity` (its kind). Writes are single conditional requests:
 *
 * - create: `PutItem` on condition `attribute_not_exists(pk)`;
 * - replace: `UpdateItem` setting the content (REMOVE for absent optional attributes), `version + 1`
 *   and `updatedAt`, on condition `version = <the version the caller read or named in If-Match>`;
 *   attributes outside the content (a pool's deletion mark, a token's `lastUsedAt`) are untouched;
 * - delete: `DeleteItem` on condition `attribute_exists(pk)` (and `version = <If-Match>`).
 *
 * A replace that would not change the content writes nothing. Without If-Match, a replace that
 * loses a race re-reads and tries again (optimistic concurrency, never a blind overwrite).
 */
export interface ItemKey {
  pk: string;
  sk: string;
}

export interface Versioned {
  createdAt: number;
  updatedAt: number;
  version: number;
}

export type RawItem = Record<string, unknown>;

export interface ItemKind<R extends Versioned> {
  /** Stored in `entity`. */
  entity: string;
  /** The attributes a write sets (identity included): everything else is the store's. */
  content: readonly string[];
  /** The typed record, or undefined when the item counts as absent (an expired token). */
  parse(raw: RawItem, nowMs: number): R | undefined;
}

/** An ItemKind's parse from a zod schema of the stored item; a malformed item is a StoreError. */
export function parseStored<S extends z.ZodType>(schema: S, entity: string) {
  return (raw: RawItem): z.output<S> => {
    const parsed = schema.safeParse(raw);
    if (!parsed.success) {
      throw new StoreError(`malformed ${entity} item ${String(raw.pk)} ${String(raw.sk)}`);
    }
    return parsed.data;
  };
}

/** Checks run around a creation; `after` failing removes what was just created. */
export interface CreateGuard {
  before(): Promise<void>;
  after(): Promise<void>;
}

export type SaveOutcome = 'created' | 'replaced' | 'unchanged';

export interface SaveOptions<R extends Versioned> {
  /** The item in messages, e.g. `backend "b1" of pool "p"`. */
  what: string;
  /** If-Match: replace only this version; a missing item is then not_found. */
  ifMatch?: number;
  /** What a missing item means: create it, not_found (PATCH), or forbidden with this message. */
  whenMissing: 'create' | 'not_found' | { forbidden: string };
  /** The new content from the current record (undefined when creating). */
  build(current: R | undefined): Promise<RawItem> | RawItem;
  guard?: CreateGuard;
  nowMs: number;
}

/** Attempts of an optimistic replace without If-Match before answering 409 conflict. */
const MAX_SAVE_ATTEMPTS = 8;
/** Query rounds a filtered page may take to fill up before it is returned short. */
const MAX_PAGE_ROUNDS = 8;

export async function readItem<R extends Versioned>(
  table: Table,
  kind: ItemKind<R>,
  key: ItemKey,
  nowMs: number,
): Promise<R | undefined> {
  const { Item: item } = await store(`read ${kind.entity} ${key.pk} ${key.sk}`, () =>
    table.client.send(
      new GetItemCommand({ TableName: table.name, Key: marshall(key), ConsistentRead: true }),
    ),
  );
  return item ? kind.parse(unmarshall(item), nowMs) : undefined;
}

/** Several items by key (BatchGetItem, strongly consistent), in the order of `keys`, absent ones left out. */
export async function readItems<R extends Versioned>(
  table: Table,
  kind: ItemKind<R>,
  keys: readonly ItemKey[],
  nowMs: number,
): Promise<R[]> {
  const found = new Map<string, R>();
  for (let start = 0; start < keys.length; start += 100) {
    let pending: Record<string, AttributeValue>[] = keys
      .slice(start, start + 100)
      .map((key) => marshall(key));
    for (let attempt = 1; pending.length > 0; attempt++) {
      if (attempt > 10) throw new StoreError(`cannot read ${kind.entity} items: throttled`);
      const result = await store(`read ${kind.entity} items`, () =>
        table.client.send(
          new BatchGetItemCommand({
            RequestItems: { [table.name]: { Keys: pending, ConsistentRead: true } },
          }),
        ),
      );
      for (const item of result.Responses?.[table.name] ?? []) {
        const raw = unmarshall(item);
        const record = kind.parse(raw, nowMs);
        if (record) found.set(`${String(raw.pk)}\n${String(raw.sk)}`, record);
      }
      pending = result.UnprocessedKeys?.[table.name]?.Keys ?? [];
      if (pending.length > 0) await backoff(attempt);
    }
  }
  return keys.flatMap((key) => {
    const record = found.get(`${key.pk}\n${key.sk}`);
    return record ? [record] : [];
  });
}

/** Creates the item; `already_exists` when it is there. */
export async function createItem<R extends Versioned>(
  table: Table,
  kind: ItemKind<R>,
  key: ItemKey,
  content: RawItem,
  options: { what: string; nowMs: number; guard?: CreateGuard },
): Promise<R> {
  await options.guard?.before();
  const raw: RawItem = {
    ...content,
    ...key,
    entity: kind.entity,
    createdAt: options.nowMs,
    updatedAt: options.nowMs,
    version: 1,
  };
  try {
    await table.client.send(
      new PutItemCommand({
        TableName: table.name,
        Item: marshall(raw, { removeUndefinedValues: true }),
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  } catch (err) {
    if (isConditionFailure(err)) throw new RegistryError('already_exists', `${options.what} already exists`);
    throw new StoreError(`cannot create ${kind.entity} ${key.pk} ${key.sk}`, { cause: err });
  }
  if (options.guard) {
    try {
      await options.guard.after();
    } catch (err) {
      await removeIfVersion(table, key, 1);
      throw err;
    }
  }
  const record = kind.parse(raw, options.nowMs);
  if (!record) throw new StoreError(`${kind.entity} ${key.pk} ${key.sk} is absent right after its creation`);
  return record;
}

/**
 * Create-or-replace (PUT) and partial update (PATCH): read the item, build the new content from
 * it, write it on condition that the version is still the one read (or the one in If-Match).
 */
export async function saveItem<R extends Versioned>(
  table: Table,
  kind: ItemKind<R>,
  key: ItemKey,
  options: SaveOptions<R>,
): Promise<{ record: R; outcome: SaveOutcome }> {
  for (let attempt = 1; attempt <= MAX_SAVE_ATTEMPTS; attempt++) {
    const current = await readItem(table, kind, key, options.nowMs);
    if (!current) {
      if (options.ifMatch !== undefined || options.whenMissing === 'not_found') throw notFound(options.what);
      if (options.whenMissing !== 'create')
        throw new RegistryError('forbidden', options.whenMissing.forbidden);
      const content = await options.build(undefined);
      try {
        const record = await createItem(table, kind, key, content, options);
        return { record, outcome: 'created' };
      } catch (err) {
        // Created by someone else since the read: read it again and replace it.
        if (err instanceof RegistryError && err.kind === 'already_exists') continue;
        throw err;
      }
    }
    if (options.ifMatch !== undefined && current.version !== options.ifMatch) {
      throw versionMismatch(options.what, current.version);
    }
    const content = await options.build(current);
    if (sameContent(kind, current as unknown as RawItem, content))
      return { record: current, outcome: 'unchanged' };
    const replaced = await replaceItem(table, kind, key, content, current.version, options.nowMs);
    if (replaced) return { record: replaced, outcome: 'replaced' };
    if (options.ifMatch !== undefined) {
      const now = await readItem(table, kind, key, options.nowMs);
      if (!now) throw notFound(options.what);
      throw versionMismatch(options.what, now.version);
    }
    await backoff(attempt);
  }
  throw new RegistryError('conflict', `${options.what} kept changing under concurrent writers; try again`);
}

/** Deletes the item (only version `ifMatch` when given); not_found when it is not there. */
export async function deleteItem(
  table: Table,
  key: ItemKey,
  options: { what: string; ifMatch?: number },
): Promise<void> {
  try {
    await table.client.send(
      new DeleteItemCommand({
        TableName: table.name,
        Key: marshall(key),
        ConditionExpression:
          options.ifMatch === undefined
            ? 'attribute_exists(pk)'
            : 'attribute_exists(pk) AND #version = :version',
        ...(options.ifMatch === undefined
          ? {}
          : {
              ExpressionAttributeNames: { '#version': 'version' },
              ExpressionAttributeValues: { ':version': { N: String(options.ifMatch) } },
            }),
      }),
    );
  } catch (err) {
    if (!isConditionFailure(err)) throw new StoreError(`cannot delete ${key.pk} ${key.sk}`, { cause: err });
    if (options.ifMatch === undefined) throw notFound(options.what);
    const { Item: item } = await store(`read ${key.pk} ${key.sk}`, () =>
      table.client.send(
        new GetItemCommand({ TableName: table.name, Key: marshall(key), ConsistentRead: true }),
      ),
    );
    if (!item) throw notFound(options.what);
    throw versionMismatch(options.what, Number(item.version?.N));
  }
}

export interface ListFilter {
  expression: string;
  names?: Record<string, string>;
  values?: RawItem;
}

export interface PageRequest {
  pk: string;
  /** Items whose sort key starts with this. */
  prefix: string;
  limit: number;
  cursor?: string | undefined;
  filter?: ListFilter;
  nowMs: number;
}

/**
 * One page of a partition's items under a sort-key prefix, in sort-key order (Query with `Limit`,
 * strongly consistent). With a filter, the page is topped up from the following items (at most
 * MAX_PAGE_ROUNDS queries) so it is rarely short; `nextCursor` is absent once the list is done.
 */
export async function queryPage<R extends Versioned>(
  table: Table,
  kind: ItemKind<R>,
  request: PageRequest,
): Promise<{ items: R[]; nextCursor?: string }> {
  let startKey: Record<string, AttributeValue> | undefined = request.cursor
    ? marshall(decodeCursor(request.cursor, request))
    : undefined;
  const items: R[] = [];
  for (let round = 1; ; round++) {
    const page = await query(table, kind, request, request.limit - items.length, startKey);
    for (const raw of page.items) {
      const record = kind.parse(raw, request.nowMs);
      if (record) items.push(record);
    }
    startKey = page.lastKey;
    if (!startKey || items.length >= request.limit || round >= MAX_PAGE_ROUNDS) break;
  }
  const nextCursor = cursorFromLastKey(startKey);
  return nextCursor ? { items, nextCursor } : { items };
}

/** Every item of a partition under a sort-key prefix, all pages, strongly consistent. */
export async function queryAll<R extends Versioned>(
  table: Table,
  kind: ItemKind<R>,
  request: { pk: string; prefix: string; filter?: ListFilter; nowMs: number },
): Promise<R[]> {
  const items: R[] = [];
  let startKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await query(table, kind, request, undefined, startKey);
    for (const raw of page.items) {
      const record = kind.parse(raw, request.nowMs);
      if (record) items.push(record);
    }
    startKey = page.lastKey;
  } while (startKey);
  return items;
}

/** Whether any item of the partition has a sort key starting with `prefix` (Query, Limit 1). */
export async function anyItem(table: Table, pk: string, prefix: string): Promise<boolean> {
  const result = await store(`query ${pk} ${prefix}`, () =>
    table.client.send(
      new QueryCommand({
        TableName: table.name,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': { S: pk }, ':prefix': { S: prefix } },
        ProjectionExpression: 'pk',
        Limit: 1,
        ConsistentRead: true,
      }),
    ),
  );
  return (result.Items?.length ?? 0) > 0;
}

export function versionMismatch(what: string, stored: number): RegistryError {
  return new RegistryError(
    'version_mismatch',
    `${what} is at version ${stored}, not the version in If-Match; read it again`,
  );
}

async function query<R extends Versioned>(
  table: Table,
  kind: ItemKind<R>,
  request: { pk: string; prefix: string; filter?: ListFilter },
  limit: number | undefined,
  startKey: Record<string, AttributeValue> | undefined,
): Promise<{ items: RawItem[]; lastKey?: Record<string, AttributeValue> }> {
  const filter = request.filter;
  const result = await store(`list ${kind.entity} items of ${request.pk}`, () =>
    table.client.send(
      new QueryCommand({
        TableName: table.name,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: {
          ':pk': { S: request.pk },
          ':prefix': { S: request.prefix },
          ...(filter?.values ? marshall(filter.values, { removeUndefinedValues: true }) : {}),
        },
        ...(filter
          ? {
              FilterExpression: filter.expression,
              ...(filter.names ? { ExpressionAttributeNames: filter.names } : {}),
            }
          : {}),
        ConsistentRead: true,
        ...(limit !== undefined ? { Limit: limit } : {}),
        ...(startKey ? { ExclusiveStartKey: startKey } : {}),
      }),
    ),
  );
  return {
    items: (result.Items ?? []).map((item) => unmarshall(item)),
    ...(result.LastEvaluatedKey ? { lastKey: result.LastEvaluatedKey } : {}),
  };
}

async function replaceItem<R extends Versioned>(
  table: Table,
  kind: ItemKind<R>,
  key: ItemKey,
  content: RawItem,
  expected: number,
  nowMs: number,
): Promise<R | undefined> {
  const names: Record<string, string> = { '#version': 'version', '#updatedAt': 'updatedAt' };
  const values: Record<string, AttributeValue> = {
    ':expected': { N: String(expected) },
    ':next': { N: String(expected + 1) },
    ':now': { N: String(nowMs) },
  };
  const sets = ['#version = :next', '#updatedAt = :now'];
  const removes: string[] = [];
  kind.content.forEach((attribute, i) => {
    names[`#c${i}`] = attribute;
    const value = content[attribute];
    if (value === undefined) {
      removes.push(`#c${i}`);
    } else {
      values[`:c${i}`] = convertToAttr(value, { removeUndefinedValues: true });
      sets.push(`#c${i} = :c${i}`);
    }
  });
  try {
    const result = await table.client.send(
      new UpdateItemCommand({
        TableName: table.name,
        Key: marshall(key),
        UpdateExpression: `SET ${sets.join(', ')}${removes.length > 0 ? ` REMOVE ${removes.join(', ')}` : ''}`,
        ConditionExpression: '#version = :expected',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ReturnValues: 'ALL_NEW',
      }),
    );
    const record = result.Attributes ? kind.parse(unmarshall(result.Attributes), nowMs) : undefined;
    if (!record) throw new StoreError(`${kind.entity} ${key.pk} ${key.sk} is absent right after its update`);
    return record;
  } catch (err) {
    if (isConditionFailure(err)) return undefined;
    if (err instanceof StoreError) throw err;
    throw new StoreError(`cannot update ${kind.entity} ${key.pk} ${key.sk}`, { cause: err });
  }
}

async function removeIfVersion(table: Table, key: ItemKey, version: number): Promise<void> {
  try {
    await table.client.send(
      new DeleteItemCommand({
        TableName: table.name,
        Key: marshall(key),
        ConditionExpression: '#version = :version',
        ExpressionAttributeNames: { '#version': 'version' },
        ExpressionAttributeValues: { ':version': { N: String(version) } },
      }),
    );
  } catch (err) {
    // Changed since: whoever changed it owns it now (a pool deletion will then see it and refuse).
    if (!isConditionFailure(err)) throw new StoreError(`cannot remove ${key.pk} ${key.sk}`, { cause: err });
  }
}

function sameContent<R extends Versioned>(kind: ItemKind<R>, current: RawItem, next: RawItem): boolean {
  return kind.content.every((attribute) => canonical(current[attribute]) === canonical(next[attribute]));
}

/** JSON with object keys sorted, so equal values compare equal whatever their key order. */
function canonical(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, inner]) => inner !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([name, inner]) => `${JSON.stringify(name)}:${canonical(inner)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

async function store<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw new StoreError(`cannot ${what}`, { cause: err });
  }
}
