import { createHash, X509Certificate } from 'node:crypto';
import {
  MAX_OCSP_SOURCE_CERT_BYTES,
  MAX_OCSP_SOURCE_TIMEOUT_MS,
} from '../../../functions/contract/tls-cache.js';
import {
  type CachedOcspResponse,
  type CertificateFields,
  certificateFields,
  fakeTryLaterResponse,
  freshnessOf,
  obtainOcspResponse,
} from '../../../functions/core/ocsp/index.js';
import type { ControlPlaneClient } from '../../control-plane/control-plane-client.js';
import type { Logger } from '../../log/logger.js';
import { withTimeout } from '../../net/with-timeout.js';
import type { LocalCacheCounters } from '../local-counters.js';
import type { FrontendTlsCacheSettings } from '../tls-cache-settings.js';

/** One OCSP response as cached (locally, and in the store through the tls-cache function). */
export type StapleEntry = CachedOcspResponse;

/** After a failed fetch, the responder is not asked again for this long (per certificate). */
export const FETCH_BACKOFF_MS = 30_000;

interface Resolved {
  /** The server certificate's DER. */
  certificate: Buffer;
  fields: CertificateFields;
  issuer: X509Certificate;
  issuerFields: CertificateFields;
  url: string | undefined;
}

/**
 * OCSP stapling with mod_tls's TLSStaplingCache semantics, shared through the store: on every
 * handshake that asks for it, the response comes from the local copy or the store; a stale one
 * is stapled while a fresh one is fetched in the background; with none at all, the responder is
 * asked (waiting up to the stapling timeout), and if that fails a fake tryLater is stapled unless
 * NoFakeTryLater is set (a must-staple certificate gets it regardless). Every response obtained
 * (the fake one too, as mod_tls does) is cached; responses are verified before they are cached.
 */
export class OcspStapler {
  private readonly local = new Map<string, StapleEntry>();
  private readonly inflight = new Map<string, Promise<StapleEntry | undefined>>();
  private readonly retryAfter = new Map<string, number>();
  private readonly resolved = new Map<string, Resolved | null>();

  constructor(
    private readonly deps: {
      controlPlane: ControlPlaneClient;
      settings: FrontendTlsCacheSettings['stapling'];
      /** How long a handshake waits for the store before stapling without it. */
      lookupTimeoutMs: number;
      log: Logger;
      counters: LocalCacheCounters;
      now: () => number;
      /** Issuer certificates to use when a handshake's context has none (the chain and issuer given). */
      issuers: X509Certificate[];
    },
  ) {}

  /** The response to staple for this certificate, or null for none. Never throws. */
  async staple(certificate: Buffer, issuer: Buffer | null): Promise<Buffer | null> {
    try {
      const fingerprint = fingerprintOf(certificate);
      const now = this.deps.now();
      let entry = this.localEntry(fingerprint, now);
      if (entry) this.deps.counters.ocspHits += 1;
      else entry = await this.fromStore(fingerprint);
      if (entry && now < entry.staleAt) return entry.response;
      if (entry) {
        void this.refresh(fingerprint, certificate, issuer);
        return entry.response;
      }
      const fresh = await this.refresh(fingerprint, certificate, issuer);
      if (fresh) return fresh.response;
      const mustStaple =
        this.resolve(fingerprint, certificate, issuer)?.fields.mustStaple ??
        certificateFields(certificate).mustStaple;
      if (!this.deps.settings.fakeTryLater && !mustStaple) return null;
      const fake = fakeTryLaterResponse();
      this.keep(fingerprint, {
        response: fake,
        responseStatus: 'tryLater',
        fake: true,
        fetchedAt: now,
        ...freshnessOf({ successful: false }, now),
      });
      return fake;
    } catch (err) {
      this.deps.log.warn('OCSP stapling failed', { error: err instanceof Error ? err.message : String(err) });
      return null;
    }
  }

  /** Makes sure a fresh response is cached (at startup), without stapling or faking anything. */
  async prefetch(certificate: Buffer, issuer: Buffer | null): Promise<void> {
    const fingerprint = fingerprintOf(certificate);
    const entry = this.localEntry(fingerprint, this.deps.now()) ?? (await this.fromStore(fingerprint));
    if (!entry || entry.fake || this.deps.now() >= entry.staleAt)
      await this.refresh(fingerprint, certificate, issuer);
  }

  private localEntry(fingerprint: string, now: number): StapleEntry | undefined {
    const entry = this.local.get(fingerprint);
    if (entry && entry.expiresAt <= now) {
      this.local.delete(fingerprint);
      return undefined;
    }
    return entry;
  }

  private async fromStore(fingerprint: string): Promise<StapleEntry | undefined> {
    try {
      const answer = await withTimeout(
        this.deps.controlPlane.tlsCache({ op: 'ocsp-get', fingerprint }),
        this.deps.lookupTimeoutMs,
        () => {
          throw new Error(`no answer within ${this.deps.lookupTimeoutMs} ms`);
        },
      );
      if (answer.op !== 'ocsp-get' || answer.result !== 'hit' || answer.response === undefined)
        return undefined;
      const entry: StapleEntry = {
        response: Buffer.from(answer.response, 'base64'),
        responseStatus: answer.responseStatus ?? 'successful',
        certStatus: answer.certStatus,
        fake: answer.fake ?? false,
        fetchedAt: answer.fetchedAt ?? 0,
        staleAt: answer.staleAt ?? 0,
        expiresAt: answer.expiresAt ?? 0,
      };
      // The store judged expiry by its own clock; this worker's decides what it staples.
      if (entry.expiresAt <= this.deps.now()) return undefined;
      this.local.set(fingerprint, entry);
      return entry;
    } catch (err) {
      this.deps.counters.ocspErrors += 1;
      this.deps.log.warn('cannot read the shared OCSP cache', {
        error: err instanceof Error ? err.message : String(err),
      });
      return undefined;
    }
  }

  /** One fetch per certificate at a time, and none for FETCH_BACKOFF_MS after a failure. */
  private refresh(
    fingerprint: string,
    certificate: Buffer,
    issuer: Buffer | null,
  ): Promise<StapleEntry | undefined> {
    const running = this.inflight.get(fingerprint);
    if (running) return running;
    if ((this.retryAfter.get(fingerprint) ?? 0) > this.deps.now()) return Promise.resolve(undefined);
    const attempt = this.fetch(fingerprint, certificate, issuer).finally(() =>
      this.inflight.delete(fingerprint),
    );
    this.inflight.set(fingerprint, attempt);
    return attempt;
  }

  private async fetch(
    fingerprint: string,
    certificate: Buffer,
    issuer: Buffer | null,
  ): Promise<StapleEntry | undefined> {
    const { settings, log } = this.deps;
    const resolved = this.resolve(fingerprint, certificate, issuer);
    if (!resolved?.url) {
      this.retryAfter.set(fingerprint, this.deps.now() + FETCH_BACKOFF_MS);
      log.warn('OCSP stapling: no responder for the certificate', {
        reason: resolved ? 'no AIA OCSP URL and no TLSStaplingResponder' : 'issuer certificate unknown',
      });
      return undefined;
    }
    try {
      const obtained = await obtainOcspResponse(
        {
          fields: resolved.fields,
          issuer: resolved.issuer,
          issuerFields: resolved.issuerFields,
          url: resolved.url,
        },
        { nonce: settings.nonce, timeoutMs: settings.timeoutMs, now: this.deps.now },
      );
      const entry: StapleEntry = { ...obtained, fake: false };
      this.retryAfter.delete(fingerprint);
      log.info('OCSP response fetched', {
        responder: new URL(resolved.url).origin,
        responseStatus: entry.responseStatus,
        ...(entry.certStatus ? { certStatus: entry.certStatus } : {}),
        staleAt: new Date(entry.staleAt).toISOString(),
      });
      this.keep(fingerprint, entry);
      return entry;
    } catch (err) {
      this.retryAfter.set(fingerprint, this.deps.now() + FETCH_BACKOFF_MS);
      log.warn('OCSP response not fetched', { error: err instanceof Error ? err.message : String(err) });
      return undefined;
    }
  }

  /** Keeps an entry locally and writes it to the store in the background. */
  private keep(fingerprint: string, entry: StapleEntry): void {
    this.local.set(fingerprint, entry);
    const { settings } = this.deps;
    // What the scheduled refresh needs to ask the responder again (functions/core/tls-cache/ocsp-refresh.ts).
    const resolved = this.resolved.get(fingerprint);
    // Within the contract's bounds, or not at all: an oversized source must not cost the response.
    const source =
      resolved?.url &&
      resolved.url.length <= 2048 &&
      resolved.certificate.length <= MAX_OCSP_SOURCE_CERT_BYTES &&
      resolved.issuer.raw.length <= MAX_OCSP_SOURCE_CERT_BYTES
        ? {
            certificate: resolved.certificate.toString('base64'),
            issuer: resolved.issuer.raw.toString('base64'),
            responder: resolved.url,
            nonce: settings.nonce,
            timeoutMs: Math.min(settings.timeoutMs, MAX_OCSP_SOURCE_TIMEOUT_MS),
          }
        : undefined;
    this.deps.controlPlane
      .tlsCache({
        op: 'ocsp-put',
        fingerprint,
        response: entry.response.toString('base64'),
        responseStatus: entry.responseStatus,
        ...(entry.certStatus ? { certStatus: entry.certStatus } : {}),
        fake: entry.fake,
        fetchedAt: entry.fetchedAt,
        staleAt: entry.staleAt,
        expiresAt: entry.expiresAt,
        maxEntries: settings.maxEntries,
        maxEntryBytes: settings.maxEntryBytes,
        ...(source ? { source } : {}),
      })
      .catch((err: unknown) => {
        this.deps.counters.ocspErrors += 1;
        this.deps.log.warn('cannot write the shared OCSP cache', {
          error: err instanceof Error ? err.message : String(err),
        });
      });
  }

  private resolve(fingerprint: string, certificate: Buffer, issuer: Buffer | null): Resolved | undefined {
    const known = this.resolved.get(fingerprint);
    if (known !== undefined) return known ?? undefined;
    const cert = new X509Certificate(certificate);
    const issuerCert = issuer
      ? new X509Certificate(issuer)
      : this.deps.issuers.find((candidate) => cert.checkIssued(candidate));
    if (!issuerCert) {
      this.resolved.set(fingerprint, null);
      return undefined;
    }
    const fields = certificateFields(cert);
    const result: Resolved = {
      certificate: cert.raw,
      fields,
      issuer: issuerCert,
      issuerFields: certificateFields(issuerCert),
      url: this.deps.settings.responder ?? fields.ocspUrls[0],
    };
    this.resolved.set(fingerprint, result);
    return result;
  }

  close(): void {
    this.local.clear();
  }
}

/** The cache key: the SHA-1 fingerprint of the server certificate, lower-case hex (mod_tls's key). */
export function fingerprintOf(certificate: Buffer): string {
  return createHash('sha1').update(certificate).digest('hex');
}
