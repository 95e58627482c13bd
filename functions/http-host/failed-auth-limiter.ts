import { isIPv6 } from 'node:net';
import { LRUCache } from 'lru-cache';

export interface FailedAuthLimiterOptions {
  /** Failures a source may have in a burst before it is refused. */
  burst?: number;
  /** How many failures per minute a source earns back. */
  perMinute?: number;
  /** Sources remembered at most; past it the least recently failing one is forgotten. */
  maxSources?: number;
  now?: () => number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * A token bucket of failed bearer attempts per source address: each 401 takes a token, tokens come
 * back at `perMinute`; a source without a token gets 429 (with Retry-After) on every authenticated
 * route until one comes back, without its credentials being checked, so guessing the token cannot
 * go faster than `perMinute` even from an address that also holds a good token. Successful
 * requests take nothing. The map is bounded (an attacker with many addresses evicts old entries,
 * which only gives those addresses a fresh burst). IPv6 sources count per /64, which one host
 * usually owns whole.
 */
export class FailedAuthLimiter {
  private readonly burst: number;
  private readonly perMs: number;
  private readonly maxSources: number;
  private readonly now: () => number;
  private readonly buckets: LRUCache<string, Bucket>;

  constructor(options: FailedAuthLimiterOptions = {}) {
    this.burst = options.burst ?? 10;
    this.perMs = (options.perMinute ?? 10) / 60_000;
    this.maxSources = Math.max(1, options.maxSources ?? 10_000);
    this.buckets = new LRUCache({ max: this.maxSources });
    this.now = options.now ?? Date.now;
  }

  /** Milliseconds until `address` may try again, or 0 when it may now. */
  retryAfterMs(address: string | undefined): number {
    const bucket = this.current(sourceKey(address));
    if (bucket === undefined || bucket.tokens >= 1) return 0;
    return Math.ceil((1 - bucket.tokens) / this.perMs);
  }

  /** One failed attempt from `address`. */
  recordFailure(address: string | undefined): void {
    const key = sourceKey(address);
    const bucket = this.current(key) ?? { tokens: this.burst, at: this.now() };
    bucket.tokens = Math.max(0, bucket.tokens - 1);
    // Only a failure counts as use: the least recently failing source is evicted first.
    this.buckets.set(key, bucket);
  }

  /** Sources remembered now (tests). */
  get size(): number {
    return this.buckets.size;
  }

  private current(key: string): Bucket | undefined {
    // peek: a check is not a failure, so it leaves the eviction order alone.
    const bucket = this.buckets.peek(key);
    if (!bucket) return undefined;
    const now = this.now();
    bucket.tokens = Math.min(this.burst, bucket.tokens + (now - bucket.at) * this.perMs);
    bucket.at = now;
    if (bucket.tokens >= this.burst) {
      this.buckets.delete(key);
      return undefined;
    }
    return bucket;
  }
}

/** The address an IPv4 client is known by, or the /64 of an IPv6 one. */
export function sourceKey(address: string | undefined): string {
  if (address === undefined) return 'unknown';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped?.[1]) return mapped[1];
  if (!isIPv6(address)) return address;
  return `${expandIPv6(address).slice(0, 4).join(':')}::/64`;
}

function expandIPv6(address: string): string[] {
  const [head = '', tail = ''] = address.split('%')[0]?.split('::') ?? [];
  const left = head === '' ? [] : head.split(':');
  const right = address.includes('::') && tail !== '' ? tail.split(':') : [];
  const fill = address.includes('::') ? Array(Math.max(0, 8 - left.length - right.length)).fill('0') : [];
  return [...left, ...fill, ...right].map((part) => part.toLowerCase().replace(/^0+(?=.)/, ''));
}
