import type { OcspSource } from '../../contract/tls-cache.js';
import type { CachedOcspResponse } from '../ocsp/index.js';
import type { EntryLimits } from '../store/index.js';
import { type Item, n, readNumber, readString, s } from '../store/index.js';

/** One cached OCSP response's attributes (its expiry is the entry's own, see store/tls-cache/cache-entries.ts). */
export type OcspEntryValue = Omit<CachedOcspResponse, 'expiresAt'>;

/**
 * The source (how to ask the responder again) and the budget the worker used, kept beside the
 * response so the scheduled refresh can replace it without a worker. Certificates are stored as
 * binary, bounded by the contract (MAX_OCSP_SOURCE_CERT_BYTES each); they are public data.
 */
const SOURCE = {
  certificate: 'srcCertificate',
  issuer: 'srcIssuer',
  responder: 'srcResponder',
  nonce: 'srcNonce',
  timeoutMs: 'srcTimeoutMs',
  maxEntries: 'maxEntries',
  maxEntryBytes: 'maxEntryBytes',
} as const;

/** The attributes the refresh reads when it lists the cache (never the responses themselves). */
export const OCSP_REFRESH_ATTRIBUTES = ['staleAt', 'responseStatus', 'fake', ...Object.values(SOURCE)];

export function ocspEntryAttributes(value: OcspEntryValue, source?: OcspSource, limits?: EntryLimits): Item {
  const attributes: Item = {
    response: { B: value.response },
    responseStatus: s(value.responseStatus),
    fake: { BOOL: value.fake },
    fetchedAt: n(value.fetchedAt),
    staleAt: n(value.staleAt),
  };
  if (value.certStatus) attributes.certStatus = s(value.certStatus);
  if (source) {
    attributes[SOURCE.certificate] = { B: Buffer.from(source.certificate, 'base64') };
    attributes[SOURCE.issuer] = { B: Buffer.from(source.issuer, 'base64') };
    attributes[SOURCE.responder] = s(source.responder);
    attributes[SOURCE.nonce] = { BOOL: source.nonce };
    attributes[SOURCE.timeoutMs] = n(source.timeoutMs);
  }
  if (limits) {
    attributes[SOURCE.maxEntries] = n(limits.maxEntries);
    attributes[SOURCE.maxEntryBytes] = n(limits.maxEntryBytes);
  }
  return attributes;
}

/** The source and budget stored with an entry, or undefined when it has none (or a partial one). */
export function readOcspSource(item: Item): { source: OcspSource; limits: EntryLimits } | undefined {
  const certificate = binary(item, SOURCE.certificate);
  const issuer = binary(item, SOURCE.issuer);
  const responder = readString(item, SOURCE.responder);
  const nonce = item[SOURCE.nonce];
  const timeoutMs = readNumber(item, SOURCE.timeoutMs);
  const maxEntries = readNumber(item, SOURCE.maxEntries);
  const maxEntryBytes = readNumber(item, SOURCE.maxEntryBytes);
  if (
    !certificate ||
    !issuer ||
    !responder ||
    !nonce ||
    !('BOOL' in nonce) ||
    timeoutMs === undefined ||
    maxEntries === undefined ||
    maxEntryBytes === undefined
  ) {
    return undefined;
  }
  return {
    source: {
      certificate: certificate.toString('base64'),
      issuer: issuer.toString('base64'),
      responder,
      nonce: nonce.BOOL === true,
      timeoutMs,
    },
    limits: { maxEntries, maxEntryBytes },
  };
}

function binary(item: Item, name: string): Buffer | undefined {
  const value = item[name];
  return value && 'B' in value && value.B ? Buffer.from(value.B) : undefined;
}
