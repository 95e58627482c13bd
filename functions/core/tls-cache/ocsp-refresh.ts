import { X509Certificate } from 'node:crypto';
import { certificateFields, obtainOcspResponse } from '../ocsp/index.js';
import type { Table } from '../store/index.js';
import {
  bumpStats,
  type ListedEntry,
  listEntries,
  putEntry,
  readNumber,
  readString,
} from '../store/index.js';
import { OCSP_REFRESH_ATTRIBUTES, ocspEntryAttributes, readOcspSource } from './ocsp-entry.js';

export interface OcspRefreshOptions {
  /** Responses that go stale within this many seconds are refreshed now. */
  aheadS: number;
  /** Upper bound on one responder's time. */
  maxTimeoutMs: number;
  /** Responders asked at the same time. */
  concurrency: number;
}

export interface OcspRefreshResult {
  checked: number;
  refreshed: number;
  failed: number;
  unrefreshable: number;
  /** Why each failed refresh failed (at most MAX_REPORTED_FAILURES), for the caller's log. */
  failures: { fingerprint: string; reason: string }[];
}

const MAX_REPORTED_FAILURES = 50;

type Outcome = 'refreshed' | 'failed' | 'unrefreshable';

/**
 * The scheduled OCSP refresh: every live cached response that is stale, or goes stale within
 * `aheadS`, is fetched again from its responder with what its `ocsp-put` stored (certificate,
 * issuer, responder URL, nonce and timeout), verified like the worker verifies it, and replaces the
 * cached one. Workers then staple a fresh response without fetching at a handshake.
 *
 * A failure (no answer in time, an answer that does not verify) keeps the cached response, which
 * workers go on stapling until it expires, and counts as an OCSP cache error. A responder's
 * unsuccessful answer (tryLater...) replaces only an unsuccessful or fake entry, never a good one.
 * Expired entries are left alone (nobody refreshed them in time; `getEntry` and the TTL remove
 * them), as are certificates past their notAfter.
 *
 * The OCSP entries share one partition, so finding them is one Query (no table Scan).
 */
export async function refreshOcspResponses(
  table: Table,
  options: OcspRefreshOptions,
  now: () => number,
): Promise<OcspRefreshResult> {
  const startMs = now();
  const live = (await listEntries(table, 'ocsp', OCSP_REFRESH_ATTRIBUTES)).filter(
    (entry) => entry.expiresMs > startMs,
  );
  const due = live.filter(
    (entry) => (readNumber(entry.item, 'staleAt') ?? 0) <= startMs + options.aheadS * 1000,
  );
  const result: OcspRefreshResult = {
    checked: live.length,
    refreshed: 0,
    failed: 0,
    unrefreshable: 0,
    failures: [],
  };
  const fail = (fingerprint: string, reason: string): Outcome => {
    if (result.failures.length < MAX_REPORTED_FAILURES) result.failures.push({ fingerprint, reason });
    return 'failed';
  };

  const refreshOne = async (entry: ListedEntry): Promise<Outcome> => {
    const stored = readOcspSource(entry.item);
    if (!stored) return 'unrefreshable';
    const { source, limits } = stored;
    let certificate: X509Certificate;
    let issuer: X509Certificate;
    try {
      certificate = new X509Certificate(Buffer.from(source.certificate, 'base64'));
      issuer = new X509Certificate(Buffer.from(source.issuer, 'base64'));
    } catch {
      return 'unrefreshable';
    }
    if (Date.parse(certificate.validTo) <= now()) return 'unrefreshable';
    let obtained: Awaited<ReturnType<typeof obtainOcspResponse>>;
    try {
      obtained = await obtainOcspResponse(
        {
          fields: certificateFields(certificate),
          issuer,
          issuerFields: certificateFields(issuer),
          url: source.responder,
        },
        { nonce: source.nonce, timeoutMs: Math.min(source.timeoutMs, options.maxTimeoutMs), now },
      );
    } catch (err) {
      return fail(entry.id, err instanceof Error ? err.message : String(err));
    }
    const cachedIsGood =
      readString(entry.item, 'responseStatus') === 'successful' &&
      !(entry.item.fake && 'BOOL' in entry.item.fake && entry.item.fake.BOOL === true);
    if (obtained.responseStatus !== 'successful' && cachedIsGood) {
      return fail(entry.id, `responder answered ${obtained.responseStatus}; the cached response is kept`);
    }
    try {
      const put = await putEntry(
        table,
        'ocsp',
        entry.id,
        {
          attributes: ocspEntryAttributes({ ...obtained, fake: false }, source, limits),
          bytes: obtained.response.length,
          expiresMs: obtained.expiresAt,
        },
        limits,
        now(),
      );
      return put === 'stored' ? 'refreshed' : fail(entry.id, `the fresh response was not stored: ${put}`);
    } catch (err) {
      return fail(entry.id, err instanceof Error ? err.message : String(err));
    }
  };

  let next = 0;
  const workers = Array.from({ length: Math.min(options.concurrency, due.length) }, async () => {
    while (next < due.length) {
      const entry = due[next++] as ListedEntry;
      result[await refreshOne(entry)] += 1;
    }
  });
  await Promise.all(workers);
  if (result.failed > 0) await bumpStats(table, 'ocsp', { errors: result.failed }, now());
  return result;
}
