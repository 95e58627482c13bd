import { randomBytes, type X509Certificate } from 'node:crypto';
import type { CertificateFields } from './certificate-fields.js';
import { fetchOcspResponse } from './fetch-ocsp.js';
import { freshnessOf } from './freshness.js';
import {
  buildOcspRequest,
  type CertStatus,
  certIdOf,
  parseOcspResponse,
  verifyOcspResponse,
} from './ocsp-message.js';

/** Whom to ask about which certificate. */
export interface OcspSubject {
  fields: CertificateFields;
  issuer: X509Certificate;
  issuerFields: CertificateFields;
  /** The responder: TLSStaplingResponder, or the certificate's AIA OCSP URL. */
  url: string;
}

/** A response as obtained from a responder, with mod_tls's freshness (see freshness.ts). */
export interface ObtainedOcspResponse {
  response: Buffer;
  responseStatus: string;
  certStatus?: CertStatus;
  fetchedAt: number;
  staleAt: number;
  expiresAt: number;
}

/** A response as cached: obtained from a responder, or mod_tls's fake tryLater (`fake`) when none answered. */
export interface CachedOcspResponse extends ObtainedOcspResponse {
  fake: boolean;
}

/**
 * Asks the responder about one certificate (RFC 6960 over HTTP POST, within `timeoutMs`, with a
 * fresh nonce when `nonce` is set) and returns its answer. A successful answer is verified before
 * it is returned (it covers this certificate, is signed by the issuer or its delegated responder,
 * echoes the nonce, is current); an unsuccessful one (tryLater...) is returned as is, for the
 * caller to cache briefly. Throws OcspFetchError (no usable answer), OcspError or DerError (an
 * answer that cannot be trusted). The edge worker's stapler and the scheduled refresh both use this.
 */
export async function obtainOcspResponse(
  subject: OcspSubject,
  options: { nonce: boolean; timeoutMs: number; now: () => number },
): Promise<ObtainedOcspResponse> {
  const nonce = options.nonce ? randomBytes(16) : undefined;
  const request = buildOcspRequest(certIdOf(subject.fields, subject.issuerFields), nonce);
  const body = await fetchOcspResponse(subject.url, request, options.timeoutMs);
  const fetchedAt = options.now();
  const parsed = parseOcspResponse(body);
  if (parsed.responseStatus !== 'successful') {
    return {
      response: body,
      responseStatus: parsed.responseStatus,
      fetchedAt,
      ...freshnessOf({ successful: false }, fetchedAt),
    };
  }
  const status = verifyOcspResponse(parsed, {
    certificate: subject.fields,
    issuer: subject.issuer,
    issuerFields: subject.issuerFields,
    ...(nonce ? { nonce } : {}),
    nowMs: fetchedAt,
  });
  return {
    response: body,
    responseStatus: 'successful',
    certStatus: status.certStatus,
    fetchedAt,
    ...freshnessOf(
      {
        successful: true,
        thisUpdate: status.thisUpdate,
        ...(status.nextUpdate !== undefined ? { nextUpdate: status.nextUpdate } : {}),
      },
      fetchedAt,
    ),
  };
}
