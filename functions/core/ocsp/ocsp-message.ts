import { createHash, verify as verifySignature, X509Certificate } from 'node:crypto';
import {
  type SingleResponse as Asn1SingleResponse,
  BasicOCSPResponse,
  CertID,
  id_pkix_ocsp_basic,
  id_pkix_ocsp_nonce,
  OCSPRequest,
  OCSPResponse,
  OCSPResponseStatus,
  Request,
  type ResponseBytes,
  TBSRequest,
} from '@peculiar/asn1-ocsp';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, Extension } from '@peculiar/asn1-x509';
import type { CertificateFields } from './certificate-fields.js';

/**
 * OCSP (RFC 6960) requests and responses, as much as stapling needs, encoded and decoded by the
 * @peculiar ASN.1 schemas (asn1-ocsp, asn1-x509); the checks a client makes (verifyOcspResponse)
 * stay here, with node:crypto verifying the signature over the response's own tbsResponseData bytes.
 */

const OID_SHA1 = '1.3.14.3.2.26';
const OID_SHA256 = '2.16.840.1.101.3.4.2.1';
const OID_KP_OCSP_SIGNING = '1.3.6.1.5.5.7.3.9';
/** DER NULL: the parameters of a SHA-1 AlgorithmIdentifier, as OpenSSL and mod_tls send them. */
const DER_NULL = new Uint8Array([0x05, 0x00]).buffer;

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
  const reqCert = new CertID({
    hashAlgorithm: new AlgorithmIdentifier({ algorithm: OID_SHA1, parameters: DER_NULL }),
    issuerNameHash: new OctetString(id.issuerNameHash),
    issuerKeyHash: new OctetString(id.issuerKeyHash),
    serialNumber: toArrayBuffer(asUnsignedInteger(id.serial)),
  });
  const tbsRequest = new TBSRequest({ requestList: [new Request({ reqCert })] });
  if (nonce) {
    // RFC 8954: the nonce is an OCTET STRING inside extnValue.
    tbsRequest.requestExtensions = [
      new Extension({
        extnID: id_pkix_ocsp_nonce,
        extnValue: new OctetString(AsnConvert.serialize(new OctetString(nonce))),
      }),
    ];
  }
  return Buffer.from(AsnConvert.serialize(new OCSPRequest({ tbsRequest })));
}

/** The fake `tryLater` response mod_tls staples when it has nothing better: responseStatus only. */
export function fakeTryLaterResponse(): Buffer {
  return Buffer.from(AsnConvert.serialize(new OCSPResponse({ responseStatus: OCSPResponseStatus.tryLater })));
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

/** Reads an OCSPResponse; anything that does not parse as one is an OcspError. */
export function parseOcspResponse(der: Buffer): OcspResponse {
  try {
    const top = AsnConvert.parse(der, OCSPResponse);
    const responseStatus = RESPONSE_STATUSES[top.responseStatus as number] as OcspResponseStatus | undefined;
    if (responseStatus === undefined || responseStatus === 'unused') {
      throw new OcspError(`malformed OCSP response: unknown responseStatus ${top.responseStatus}`);
    }
    if (responseStatus !== 'successful') return { responseStatus };
    const bytes: ResponseBytes | undefined = top.responseBytes;
    if (!bytes) throw new OcspError('malformed OCSP response: a successful response without responseBytes');
    if (bytes.responseType !== id_pkix_ocsp_basic) {
      throw new OcspError(`malformed OCSP response: unsupported response type ${bytes.responseType}`);
    }
    const basic = AsnConvert.parse(bytes.response, BasicOCSPResponse);
    const data = basic.tbsResponseData;
    if (!basic.tbsResponseDataRaw) throw new OcspError('malformed OCSP response: no tbsResponseData bytes');
    const responder = data.responderID;
    const responderId = responder.byKey
      ? { keyHash: Buffer.from(responder.byKey.buffer) }
      : responder.byName
        ? { name: Buffer.from(AsnConvert.serialize(responder.byName)) }
        : undefined;
    if (!responderId) throw new OcspError('malformed OCSP response: responderID is neither byName nor byKey');
    let nonce: Buffer | undefined;
    for (const extension of data.responseExtensions ?? []) {
      if (extension.extnID !== id_pkix_ocsp_nonce) continue;
      const value = Buffer.from(extension.extnValue.buffer);
      // RFC 8954: the nonce is an OCTET STRING inside extnValue; some responders send it bare.
      nonce = value[0] === 0x04 ? Buffer.from(AsnConvert.parse(value, OctetString).buffer) : value;
    }
    return {
      responseStatus,
      basic: {
        tbsResponseData: Buffer.from(basic.tbsResponseDataRaw),
        signatureAlgorithm: basic.signatureAlgorithm.algorithm,
        signature: Buffer.from(basic.signature),
        responderId,
        producedAt: timeOf(data.producedAt, 'producedAt'),
        responses: data.responses.map(singleResponse),
        ...(nonce ? { nonce } : {}),
        certs: (basic.certs ?? []).map((certificate) => Buffer.from(AsnConvert.serialize(certificate))),
      },
    };
  } catch (err) {
    if (err instanceof OcspError) throw err;
    throw new OcspError(`malformed OCSP response: ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
    });
  }
}

function singleResponse(single: Asn1SingleResponse): SingleResponse {
  const id = single.certID;
  const hashOid = id.hashAlgorithm.algorithm;
  const certId = {
    hash: HASH_OF_OID[hashOid] ?? hashOid,
    issuerNameHash: Buffer.from(id.issuerNameHash.buffer),
    issuerKeyHash: Buffer.from(id.issuerKeyHash.buffer),
    serial: stripLeadingZeros(Buffer.from(id.serialNumber)),
  };
  const status = single.certStatus;
  let certStatus: CertStatus;
  let revokedAt: number | undefined;
  if (status.revoked) {
    certStatus = 'revoked';
    revokedAt = timeOf(status.revoked.revocationTime, 'revocationTime');
  } else if (status.unknown !== undefined) certStatus = 'unknown';
  else if (status.good !== undefined) certStatus = 'good';
  else throw new OcspError('malformed OCSP response: certStatus is none of good, revoked, unknown');
  const nextUpdate = single.nextUpdate ? timeOf(single.nextUpdate, 'nextUpdate') : undefined;
  return {
    certId,
    certStatus,
    ...(revokedAt !== undefined ? { revokedAt } : {}),
    thisUpdate: timeOf(single.thisUpdate, 'thisUpdate'),
    ...(nextUpdate !== undefined ? { nextUpdate } : {}),
  };
}

function timeOf(date: Date | undefined, what: string): number {
  const ms = date?.getTime();
  if (ms === undefined || Number.isNaN(ms))
    throw new OcspError(`malformed OCSP response: ${what} is not a time`);
  return ms;
}

/** A serial's magnitude as an INTEGER's content: a leading zero when its top bit is set. */
function asUnsignedInteger(magnitude: Buffer): Buffer {
  const trimmed = stripLeadingZeros(magnitude);
  return (trimmed[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed;
}

function toArrayBuffer(bytes: Buffer): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
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
