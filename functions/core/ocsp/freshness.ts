/**
 * When a cached OCSP response goes stale (refetch, while still stapling it) and when it expires
 * (never stapled again), as mod_tls computes it for TLSStaplingCache (http://www.proftpd.org/docs/contrib/mod_tls.html#TLSStaplingCache):
 * - a successful response with nextUpdate: stale at half of its validity window, expired at nextUpdate;
 * - a successful response without nextUpdate: stale one hour after it was fetched;
 * - anything else (a responder's tryLater, the fake tryLater): stale five minutes after it was fetched.
 * Responses without nextUpdate, and unsuccessful ones, expire an hour after they went stale, so a
 * worker that cannot reach the responder does not staple them for ever.
 */
export const NO_NEXT_UPDATE_STALE_MS = 3_600_000;
export const UNSUCCESSFUL_STALE_MS = 300_000;
export const EXPIRE_AFTER_STALE_MS = 3_600_000;

export function freshnessOf(
  response: { successful: boolean; thisUpdate?: number; nextUpdate?: number },
  fetchedAt: number,
): { staleAt: number; expiresAt: number } {
  if (!response.successful) {
    const staleAt = fetchedAt + UNSUCCESSFUL_STALE_MS;
    return { staleAt, expiresAt: staleAt + EXPIRE_AFTER_STALE_MS };
  }
  if (response.nextUpdate !== undefined && response.thisUpdate !== undefined) {
    return {
      staleAt: response.thisUpdate + Math.floor((response.nextUpdate - response.thisUpdate) / 2),
      expiresAt: response.nextUpdate,
    };
  }
  const staleAt = fetchedAt + NO_NEXT_UPDATE_STALE_MS;
  return { staleAt, expiresAt: staleAt + EXPIRE_AFTER_STALE_MS };
}
