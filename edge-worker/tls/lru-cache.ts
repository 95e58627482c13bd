/**
 * A small least-recently-used map with a per-entry expiry and a total byte budget: the edge-local
 * layer in front of the shared TLS caches. Reads refresh recency; entries past their expiry read
 * as absent and are dropped.
 */
export class LruCache<V> {
  private readonly map = new Map<string, { value: V; expiresMs: number; bytes: number }>();
  private totalBytes = 0;

  constructor(
    private readonly limits: { maxEntries: number; maxBytes: number },
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.map.size;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  get(key: string): V | undefined {
    const entry = this.map.get(key);
    if (!entry) return undefined;
    if (entry.expiresMs <= this.now()) {
      this.delete(key);
      return undefined;
    }
    this.map.delete(key);
    this.map.set(key, entry);
    return entry.value;
  }

  set(key: string, value: V, expiresMs: number, bytes: number): void {
    this.delete(key);
    if (bytes > this.limits.maxBytes || this.limits.maxEntries < 1 || expiresMs <= this.now()) return;
    this.map.set(key, { value, expiresMs, bytes });
    this.totalBytes += bytes;
    while (this.map.size > this.limits.maxEntries || this.totalBytes > this.limits.maxBytes) {
      const oldest = this.map.keys().next().value as string;
      this.delete(oldest);
    }
  }

  delete(key: string): boolean {
    const entry = this.map.get(key);
    if (!entry) return false;
    this.map.delete(key);
    this.totalBytes -= entry.bytes;
    return true;
  }

  clear(): void {
    this.map.clear();
    this.totalBytes = 0;
  }
}
