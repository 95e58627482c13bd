import { createHash, verify as verifySignature, X509Certificate } from 'node:crypto';
import type { CertificateFields } from './certificate-fields.js';
import {
  children,
  contextTag,
  DerError,
  type DerNode,
  decode,
  enumerated,
  expectTag,
  explicit,
  nullValue,
  octetString,
  oid,
  readBitStringBytes,
  readOid,
  readSmallInteger,
  readTime,
  sequence,
  TAG,
  unsignedInteger,
  unwrapExplicit,
} from './der.js';

/** OCSP (RFC 6960) requests and responses, as much as stapling needs. */

const OID_SHA1 = '1.3.14.3.2.26';
const OID_SHA256 = '2.16.840.1.101.3.4.2.1';
const OID_PKIX_OCSP_BASIC = '1.3.6.1.5.5.7.48.1.1';
const OID_PKIX_OCSP_NONCE = '1.3.6.1.5.5.7.48.1.2';
const OID_KP_OCSP_SIGNING = '1.3.6.1.5.5.7.3.9';

const HASH_OF_OID: Record<string, string> = { [OID_SHA1]: 'sha1', [OID_SHA256]: 'sha256' };

/** Signature algorithms a responder may use, by OID: the digest crypto.verify takes (null: none). */
const SIGNATURE_DIGESTS: Record<string, string | null> = {
  '1.2.840.113549.1.1.5': 'sha1',
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.2.840.10045.4.1': 'sha1',
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
  '1.3.101.112': null,
  '1.3.101.113': null,
};

export const RESPONSE_STATUSES = [
  'successful',
  'malformedRequest',
  'internalError',
  'tryLater',
  'unused',
  'sigRequired',
  'unauthorized',
] as const;
export type OcspResponseStatus = (typeof RESPONSE_STATUSES)[number];

export type CertStatus = 'good' | 'revoked' | 'unknown';

export class OcspError extends Error {
  override readonly name = 'OcspError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The CertID of a certificate (SHA-1, as mod_tls and most responders use). */
export interface CertId {
  issuerNameHash: Buffer;
  issuerKeyHash: Buffer;
  serial: Buffer;
}

export function certIdOf(certificate: CertificateFields, issuer: CertificateFields, hash = 'sha1'): CertId {
  return {
    issuerNameHash: createHash(hash).update(certificate.issuerName).digest(),
    issuerKeyHash: createHash(hash).update(issuer.publicKeyBits).digest(),
    serial: certificate.serial,
  };
}

/** An OCSPRequest for one certificate, with a nonce extension when `nonce` is given. */
export function buildOcspRequest(id: CertId, nonce?: Buffer): Buffer {
  const certId = sequence(
    sequence(oid(OID_SHA1), nullValue()),
    octetString(id.issuerNameHash),
    octetString(id.issuerKeyHash),
    unsignedInteger(id.serial),
  );
  const request = sequence(certId);
  const requestList = sequence(request);
  const extensions = nonce
    ? [explicit(2, sequence(sequence(oid(OID_PKIX_OCSP_NONCE), octetString(octetString(nonce)))))]
    : [];
  return sequence(sequence(requestList, ...extensions));
}

/** The fake `tryLater` response mod_tls staples when it has nothing better: responseStatus only. */
export function fakeTryLaterResponse(): Buffer {
  return sequence(enumerated(RESPONSE_STATUSES.indexOf('tryLater')));
}

interface SingleResponse {
  certId: CertId & { hash: string };
  certStatus: CertStatus;
  revokedAt?: number;
  thisUpdate: number;
  nextUpdate?: number;
}

/** A response read from its DER (not yet verified). */
export interface OcspResponse {
  responseStatus: OcspResponseStatus;
  /** Only for `successful` responses. */
  basic?: {
    tbsResponseData: Buffer;
    signatureAlgorithm: string;
    signature: Buffer;
    responderId: { name?: Buffer; keyHash?: Buffer };
    producedAt: number;
    responses: SingleResponse[];
    nonce?: Buffer;
    certs: Buffer[];
  };
}

export function parseOcspResponse(der: Buffer): OcspResponse {
  try {
    const top = children(expectTag(decode(der), TAG.SEQUENCE, 'OCSPResponse'));
    const statusCode = readSmallInteger(expectTag(top[0], TAG.ENUMERATED, 'responseStatus'));
    const responseStatus = RESPONSE_STATUSES[statusCode];
    if (responseStatus === undefined || responseStatus === 'unused') {
      throw new DerError(`unknown responseStatus ${statusCode}`);
    }
    if (responseStatus !== 'successful') return { responseStatus };
    const bytes = children(
      expectTag(
        unwrapExplicit(expectTag(top[1], contextTag(0, true), 'responseBytes')),
        TAG.SEQUENCE,
        'ResponseBytes',
      ),
    );
    const type = readOid(bytes[0] as DerNode);
    if (type !== OID_PKIX_OCSP_BASIC) throw new DerError(`unsupported response type ${type}`);
    const basicParts = children(
      expectTag(
        decode(expectTag(bytes[1], TAG.OCTET_STRING, 'response').content),
        TAG.SEQUENCE,
        'BasicOCSPResponse',
      ),
    );
    const tbs = expectTag(basicParts[0], TAG.SEQUENCE, 'tbsResponseData');
    const signatureAlgorithm = readOid(
      children(expectTag(basicParts[1], TAG.SEQUENCE, 'signatureAlgorithm'))[0] as DerNode,
    );
    const signature = readBitStringBytes(expectTag(basicParts[2], TAG.BIT_STRING, 'signature'));
    const certsWrapper = basicParts[3];
    const certs =
      certsWrapper?.tag === contextTag(0, true)
        ? children(expectTag(unwrapExplicit(certsWrapper), TAG.SEQUENCE, 'certs')).map((node) =>
            Buffer.from(node.raw),
          )
        : [];
    const data = children(tbs);
    let i = 0;
    if (data[0]?.tag === contextTag(0, true)) i += 1;
    const responder = data[i] as DerNode;
    const responderId =
      responder.tag === contextTag(1, true)
        ? { name: Buffer.from(unwrapExplicit(responder).raw) }
        : responder.tag === contextTag(2, true)
          ? { keyHash: Buffer.from(expectTag(unwrapExplicit(responder), TAG.OCTET_STRING, 'byKey').content) }
          : (() => {
              throw new DerError('responderID: expected [1] or [2]');
            })();
    const producedAt = readTime(expectTag(data[i + 1], TAG.GENERALIZED_TIME, 'producedAt'));
    const responses = children(expectTag(data[i + 2], TAG.SEQUENCE, 'responses')).map(singleResponse);
    let nonce: Buffer | undefined;
    const extensions = data[i + 3];
    if (extensions?.tag === contextTag(1, true)) {
      for (const extension of children(unwrapExplicit(extensions))) {
        const parts = children(extension);
        if (readOid(parts[0] as DerNode) === OID_PKIX_OCSP_NONCE) {
          const value = expectTag(parts[parts.length - 1], TAG.OCTET_STRING, 'nonce').content;
          // RFC 8954: the nonce is an OCTET STRING inside extnValue; some responders send it bare.
          nonce = value[0] === TAG.OCTET_STRING ? Buffer.from(decode(value).content) : Buffer.from(value);
        }
      }
    }
    return {
      responseStatus,
      basic: {
        tbsResponseData: Buffer.from(tbs.raw),
        signatureAlgorithm,
        signature: Buffer.from(signature),
        responderId,
        producedAt,
        responses,
        ...(nonce ? { nonce } : {}),
        certs,
      },
    };
  } catch (err) {
    if (err instanceof OcspError) throw err;
    throw new OcspError(`malformed OCSP response: ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
    });
  }
}

function singleResponse(node: DerNode): SingleResponse {
  const parts = children(expectTag(node, TAG.SEQUENCE, 'SingleResponse'));
  const idParts = children(expectTag(parts[0], TAG.SEQUENCE, 'certID'));
  const hashOid = readOid(children(expectTag(idParts[0], TAG.SEQUENCE, 'hashAlgorithm'))[0] as DerNode);
  const certId = {
    hash: HASH_OF_OID[hashOid] ?? hashOid,
    issuerNameHash: Buffer.from(expectTag(idParts[1], TAG.OCTET_STRING, 'issuerNameHash').content),
    issuerKeyHash: Buffer.from(expectTag(idParts[2], TAG.OCTET_STRING, 'issuerKeyHash').content),
    serial: stripLeadingZeros(expectTag(idParts[3], TAG.INTEGER, 'serialNumber').content),
  };
  const status = parts[1] as DerNode;
  let certStatus: CertStatus;
  let revokedAt: number | undefined;
  if (status.tag === contextTag(0, false)) certStatus = 'good';
  else if (status.tag === contextTag(1, true)) {
    certStatus = 'revoked';
    revokedAt = readTime(children(status)[0] as DerNode);
  } else if (status.tag === contextTag(2, false)) certStatus = 'unknown';
  else throw new DerError(`certStatus: unexpected tag 0x${status.tag.toString(16)}`);
  const thisUpdate = readTime(expectTag(parts[2], TAG.GENERALIZED_TIME, 'thisUpdate'));
  const next = parts[3];
  const nextUpdate =
    next?.tag === contextTag(0, true)
      ? readTime(expectTag(unwrapExplicit(next), TAG.GENERALIZED_TIME, 'nextUpdate'))
      : undefined;
  return {
    certId,
    certStatus,
    ...(revokedAt !== undefined ? { revokedAt } : {}),
    thisUpdate,
    ...(nextUpdate !== undefined ? { nextUpdate } : {}),
  };
}

function stripLeadingZeros(bytes: Buffer): Buffer {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start += 1;
  return Buffer.from(bytes.subarray(start));
}

/** What a verified response says about one certificate. */
export interface OcspStatus {
  certStatus: CertStatus;
  thisUpdate: number;
  nextUpdate?: number;
  revokedAt?: number;
  producedAt: number;
}

/**
 * Checks a successful response the way a client will (RFC 6960 4.2.2.2 and 3.2): it answers for
 * this certificate, is signed by the issuer or by a responder certificate the issuer issued for
 * OCSP signing (valid now), carries our nonce when the responder echoed one, and is current
 * (thisUpdate not in the future beyond `skewMs`, nextUpdate not passed).
 */
export function verifyOcspResponse(
  response: OcspResponse,
  expected: {
    certificate: CertificateFields;
    issuer: X509Certificate;
    issuerFields: CertificateFields;
    nonce?: Buffer;
    nowMs: number;
    skewMs?: number;
  },
): OcspStatus {
  const basic = response.basic;
  if (response.responseStatus !== 'successful' || !basic) {
    throw new OcspError(`responder answered ${response.responseStatus}`);
  }
  const single = basic.responses.find((candidate) => {
    const hash = candidate.certId.hash;
    if (hash !== 'sha1' && hash !== 'sha256') return false;
    const id = certIdOf(expected.certificate, expected.issuerFields, hash);
    return (
      candidate.certId.issuerNameHash.equals(id.issuerNameHash) &&
      candidate.certId.issuerKeyHash.equals(id.issuerKeyHash) &&
      candidate.certId.serial.equals(stripLeadingZeros(id.serial))
    );
  });
  if (!single) throw new OcspError('the response does not cover this certificate');
  if (expected.nonce && basic.nonce && !basic.nonce.equals(expected.nonce)) {
    throw new OcspError('the response nonce does not match the request');
  }
  const digest = SIGNATURE_DIGESTS[basic.signatureAlgorithm];
  if (digest === undefined)
    throw new OcspError(`unsupported signature algorithm ${basic.signatureAlgorithm}`);
  const signedBy = (key: X509Certificate['publicKey']) =>
    verifySignature(digest, basic.tbsResponseData, key, basic.signature);
  let trusted = false;
  try {
    trusted = signedBy(expected.issuer.publicKey);
  } catch {
    trusted = false;
  }
  if (!trusted) {
    for (const der of basic.certs) {
      const responder = new X509Certificate(der);
      const validNow =
        Date.parse(responder.validFrom) <= expected.nowMs && expected.nowMs <= Date.parse(responder.validTo);
      if (
        validNow &&
        responder.checkIssued(expected.issuer) &&
        responder.verify(expected.issuer.publicKey) &&
        (responder.keyUsage ?? []).includes(OID_KP_OCSP_SIGNING)
      ) {
        try {
          trusted = signedBy(responder.publicKey);
        } catch {
          trusted = false;
        }
        if (trusted) break;
      }
    }
  }
  if (!trusted) throw new OcspError('the response is not signed by the issuer or an authorised responder');
  const skew = expected.skewMs ?? 5 * 60_000;
  if (single.thisUpdate > expected.nowMs + skew)
    throw new OcspError('the response is not yet valid (thisUpdate)');
  if (single.nextUpdate !== undefined && single.nextUpdate < expected.nowMs - skew) {
    throw new OcspError('the response has expired (nextUpdate)');
  }
  return {
    certStatus: single.certStatus,
    thisUpdate: single.thisUpdate,
    ...(single.nextUpdate !== undefined ? { nextUpdate: single.nextUpdate } : {}),
    ...(single.revokedAt !== undefined ? { revokedAt: single.revokedAt } : {}),
    producedAt: basic.producedAt,
  };
}
