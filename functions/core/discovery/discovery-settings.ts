import type { DnsServer } from './dns-client.js';

/**
 * How discovery resolves and how long it trusts an answer. Record TTLs decide, clamped to
 * [minTtlSeconds, maxTtlSeconds]; a name with no usable record is asked again after
 * negativeTtlSeconds. An answer is refreshed once `refreshFraction` of its TTL has passed (by the
 * scheduled run, or by the next resolution that finds it due), so edge workers rarely wait for DNS.
 */
export interface DiscoverySettings {
  /** Empty: the system's resolvers. */
  servers: DnsServer[];
  timeoutMs: number;
  minTtlSeconds: number;
  maxTtlSeconds: number;
  negativeTtlSeconds: number;
  refreshFraction: number;
  /** How long after its last on-demand use a name keeps being refreshed by the scheduled run. */
  keepRefreshingMs: number;
  /** How long a stale answer may still be used when DNS does not answer at all. */
  staleForMs: number;
}

export const DEFAULT_DISCOVERY_SETTINGS: DiscoverySettings = {
  servers: [],
  timeoutMs: 2000,
  minTtlSeconds: 1,
  maxTtlSeconds: 3600,
  negativeTtlSeconds: 10,
  refreshFraction: 0.75,
  keepRefreshingMs: 24 * 3600 * 1000,
  staleForMs: 24 * 3600 * 1000,
};

/** The TTL an answer is trusted for: the smallest record TTL, clamped. */
export function effectiveTtlSeconds(recordTtls: readonly number[], settings: DiscoverySettings): number {
  if (recordTtls.length === 0) return settings.negativeTtlSeconds;
  const smallest = Math.min(...recordTtls);
  return Math.min(settings.maxTtlSeconds, Math.max(settings.minTtlSeconds, smallest));
}

/** When an answer resolved at `resolvedAtMs` stops being valid, and when it should be refreshed. */
export function answerTimes(
  resolvedAtMs: number,
  ttlSeconds: number,
  settings: DiscoverySettings,
): { validUntil: number; refreshAt: number } {
  return {
    validUntil: resolvedAtMs + ttlSeconds * 1000,
    refreshAt: resolvedAtMs + Math.floor(ttlSeconds * 1000 * settings.refreshFraction),
  };
}
