import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Table } from './table.js';

/**
 * A short-lived cache of the partition reads every login repeats (a pool's registered backends and
 * its health records), for the control plane that answers resolve-backend. Without it each login
 * costs two strongly consistent Queries, through the AWS SDK and, on one machine, dynalite: most of
 * the control plane's CPU per login (bench/README.md, "Login path").
 *
 * Staleness is bounded two ways:
 * - writes made through the same client (the registry API, session events, active checks, the
 *   sweeper of the process that owns the cache) drop the cached reads of the partition and sort-key
 *   prefix they touch, before they are sent and again once they are answered, so a read that raced
 *   them is not kept either: this process sees its own writes at once;
 * - anything else (another process on the same store, a write through another client) is seen after
 *   at most `ttlMs`.
 *
 * Only the reads that ask for it (`cachedRead`) are cached, and only on a client the cache was
 * enabled on (`enableReadCache`); everything else reads the store as before.
 */
export interface ReadCacheOptions {
  /** How long a read is reused (ms). */
  ttlMs: number;
  /** Monotonic milliseconds; defaults to performance.now. */
  clock?: () => number;
}

/** Default reuse time of a cached read: what another process's change may take to be seen. */
export const DEFAULT_READ_CACHE_TTL_MS = 1000;

/** Cached reads at most (pools × kinds of read): a bound on what a caller naming pools can grow. */
const MAX_ENTRIES = 10_000;

interface Entry {
  pk: string;
  prefix: string;
  expiresAt: number;
  value: Promise<unknown>;
}

class ReadCache {
  readonly #entries = new Map<string, Entry>();
  readonly #ttlMs: number;
  readonly #clock: () => number;

  constructor(options: ReadCacheOptions) {
    this.#ttlMs = options.ttlMs;
    this.#clock = options.clock ?? (() => performance.now());
  }

  read<T>(pk: string, prefix: string, variant: string, load: () => Promise<T>): Promise<T> {
    const id = `${pk}\u0000${prefix}\u0000${variant}`;
    const now = this.#clock();
    const found = this.#entries.get(id);
    if (found && found.expiresAt > now) return found.value as Promise<T>;
    if (found) this.#entries.delete(id);
    const value = load();
    const entry: Entry = { pk, prefix, expiresAt: now + this.#ttlMs, value };
    if (this.#entries.size >= MAX_ENTRIES) this.#dropExpiredOrOldest(now);
    this.#entries.set(id, entry);
    // A failed read is not reused: the next caller asks the store again.
    value.catch(() => {
      if (this.#entries.get(id) === entry) this.#entries.delete(id);
    });
    return value;
  }

  /** Drops the reads a write to (pk, sk) may change; `undefined` (a write it cannot place): all. */
  invalidate(keys: readonly { pk: string; sk: string }[] | undefined): void {
    if (keys === undefined) {
      this.#entries.clear();
      return;
    }
    for (const [id, entry] of this.#entries) {
      if (keys.some((key) => key.pk === entry.pk && key.sk.startsWith(entry.prefix))) {
        this.#entries.delete(id);
      }
    }
  }

  #dropExpiredOrOldest(now: number): void {
    for (const [id, entry] of this.#entries) if (entry.expiresAt <= now) this.#entries.delete(id);
    // Maps iterate in insertion order: the first is the oldest.
    const oldest = this.#entries.keys().next();
    if (this.#entries.size >= MAX_ENTRIES && !oldest.done) this.#entries.delete(oldest.value);
  }
}

const caches = new WeakMap<DynamoDBClient, ReadCache>();

/**
 * Turns the read cache on for every table on this client, and adds the SDK middleware through which
 * the client's own writes invalidate it. Once per client; a second call changes nothing.
 */
export function enableReadCache(client: DynamoDBClient, options: ReadCacheOptions): void {
  if (caches.has(client)) return;
  const cache = new ReadCache(options);
  caches.set(client, cache);
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const keys = writtenKeys(context.commandName, args.input);
      if (keys === null) return next(args);
      cache.invalidate(keys);
      try {
        return await next(args);
      } finally {
        cache.invalidate(keys);
      }
    },
    { step: 'initialize', name: 'ftpxReadCacheInvalidation' },
  );
}

/**
 * `load()` (a read of partition `pk`, sort keys starting with `prefix`; `variant` tells apart
 * different reads of the same items), reused for the cache's TTL when the client has a cache.
 * The value is shared between callers: it is typed read-only so that none can change it.
 */
export function cachedRead<T>(
  table: Table,
  read: { pk: string; prefix: string; variant: string },
  load: () => Promise<T>,
): Promise<Readonly<T>> {
  const cache = caches.get(table.client);
  if (!cache) return load();
  return cache.read(read.pk, read.prefix, `${table.name}\u0000${read.variant}`, load);
}

type Key = { pk: string; sk: string };
type Attributes = Record<string, { S?: string } | undefined> | undefined;

const READ_COMMANDS = new Set([
  'GetItemCommand',
  'BatchGetItemCommand',
  'QueryCommand',
  'ScanCommand',
  'DescribeTableCommand',
  'ListTablesCommand',
  'TransactGetItemsCommand',
  'DescribeTimeToLiveCommand',
]);

/**
 * The keys a command writes: null for a read, undefined for a write whose keys it cannot tell
 * (everything is dropped then).
 */
function writtenKeys(commandName: string | undefined, input: unknown): Key[] | undefined | null {
  if (commandName !== undefined && READ_COMMANDS.has(commandName)) return null;
  const request = input as Record<string, unknown> | undefined;
  const one = (attributes: Attributes): Key[] | undefined => {
    const pk = attributes?.pk?.S;
    const sk = attributes?.sk?.S;
    return pk !== undefined && sk !== undefined ? [{ pk, sk }] : undefined;
  };
  switch (commandName) {
    case 'PutItemCommand':
      return one(request?.Item as Attributes);
    case 'UpdateItemCommand':
    case 'DeleteItemCommand':
      return one(request?.Key as Attributes);
    case 'BatchWriteItemCommand': {
      const keys: Key[] = [];
      const tables = (request?.RequestItems ?? {}) as Record<
        string,
        { PutRequest?: { Item?: Attributes }; DeleteRequest?: { Key?: Attributes } }[]
      >;
      for (const writes of Object.values(tables)) {
        for (const write of writes) {
          const found = one(write.PutRequest?.Item ?? write.DeleteRequest?.Key);
          if (!found) return undefined;
          keys.push(...found);
        }
      }
      return keys;
    }
    case 'TransactWriteItemsCommand': {
      const keys: Key[] = [];
      const items = (request?.TransactItems ?? []) as {
        Put?: { Item?: Attributes };
        Update?: { Key?: Attributes };
        Delete?: { Key?: Attributes };
        ConditionCheck?: { Key?: Attributes };
      }[];
      for (const item of items) {
        if (item.ConditionCheck) continue;
        const found = one(item.Put?.Item ?? item.Update?.Key ?? item.Delete?.Key);
        if (!found) return undefined;
        keys.push(...found);
      }
      return keys;
    }
    default:
      // Table changes (create, delete, TTL) and anything unknown: drop everything.
      return undefined;
  }
}
