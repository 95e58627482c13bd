import { LRUCache } from 'lru-cache';

/**
 * The edge-local layer in front of the shared TLS caches: lru-cache bounded by entry count and by a
 * total byte budget, each entry with its own absolute expiry. Reads refresh recency; entries past
 * their expiry read as absent and are dropped. Kept as a small facade so that its callers say what
 * they mean (expiry as a time, size in bytes) and tests can move the clock.
 */
export class LruCache<V extends NonNullable<unknown>> {
  private readonly cache: LRUCache<string, V> | undefined;

  constructor(
    limits: { maxEntries: number; maxBytes: number },
    private readonly now: () => number = Date.now,
  ) {
    this.cache =
      limits.maxEntries < 1 || limits.maxBytes < 1
        ? undefined
        : new LRUCache<string, V>({
            max: limits.maxEntries,
            maxSize: limits.maxBytes,
            // Expiry is checked against the injected clock at every read, not a cached one. lru-cache
            // reads a start time of 0 as "no TTL": the offset keeps a clock that starts at 0 (tests)
            // from disabling expiry, and leaves every difference as it was.
            ttlResolution: 0,
            perf: { now: () => this.now() + 1 },
          });
  }

  get size(): number {
    return this.cache?.size ?? 0;
  }

  get bytes(): number {
    return this.cache?.calculatedSize ?? 0;
  }

  get(key: string): V | undefined {
    return this.cache?.get(key);
  }

  set(key: string, value: V, expiresMs: number, bytes: number): void {
    if (!this.cache) return;
    this.cache.delete(key);
    // lru-cache drops an entry once its age exceeds its TTL; ours expire when their time is reached.
    const ttl = expiresMs - this.now() - 1;
    // lru-cache refuses (throws on) an entry larger than the whole budget; such entries are not kept.
    if (ttl < 1 || bytes > (this.cache.maxSize ?? 0)) return;
    // lru-cache sizes are positive integers.
    this.cache.set(key, value, { ttl, size: Math.max(1, Math.ceil(bytes)) });
  }

  delete(key: string): boolean {
    return this.cache?.delete(key) ?? false;
  }

  clear(): void {
    this.cache?.clear();
  }
}
