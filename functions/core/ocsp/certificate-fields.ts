import { X509Certificate } from 'node:crypto';
import {
  children,
  contextTag,
  DerError,
  type DerNode,
  decode,
  expectTag,
  readBitStringBytes,
  readOid,
  readSmallInteger,
  TAG,
  unwrapExplicit,
} from './der.js';

/** Authority Information Access (RFC 5280 4.2.2.1) and its OCSP access method. */
const OID_AIA = '1.3.6.1.5.5.7.1.1';
const OID_AD_OCSP = '1.3.6.1.5.5.7.48.1';
/** The TLS Feature extension (RFC 7633, "must staple"). */
const OID_TLS_FEATURE = '1.3.6.1.5.5.7.1.24';
/** TLS extension numbers a TLS Feature lists that mean "a stapled OCSP response is required". */
const STATUS_REQUEST = 5;
const STATUS_REQUEST_V2 = 17;

/** What OCSP stapling needs from a certificate, read from its DER. */
export interface CertificateFields {
  /** The serial number's magnitude (CertID.serialNumber). */
  serial: Buffer;
  /** The issuer Name, as encoded (its SHA-1 is CertID.issuerNameHash). */
  issuerName: Buffer;
  /** The subject Name, as encoded. */
  subjectName: Buffer;
  /** The subjectPublicKey BIT STRING's bytes (its SHA-1 is CertID.issuerKeyHash when this is the issuer). */
  publicKeyBits: Buffer;
  /** OCSP responder URLs from the AIA extension, in order. */
  ocspUrls: string[];
  /** The TLS Feature extension lists status_request or status_request_v2 ("must staple"). */
  mustStaple: boolean;
}

/** Reads the fields stapling needs from a certificate (DER, PEM, or an X509Certificate). */
export function certificateFields(certificate: Buffer | string | X509Certificate): CertificateFields {
  const der =
    certificate instanceof X509Certificate
      ? certificate.raw
      : typeof certificate === 'string'
        ? new X509Certificate(certificate).raw
        : certificate;
  const cert = expectTag(decode(der), TAG.SEQUENCE, 'Certificate');
  const tbs = expectTag(children(cert)[0], TAG.SEQUENCE, 'TBSCertificate');
  const fields = children(tbs);
  let i = 0;
  if (fields[0]?.tag === contextTag(0, true)) i += 1; // version
  const serial = expectTag(fields[i], TAG.INTEGER, 'serialNumber').content;
  const issuerName = expectTag(fields[i + 2], TAG.SEQUENCE, 'issuer').raw;
  const subjectName = expectTag(fields[i + 4], TAG.SEQUENCE, 'subject').raw;
  const spki = children(expectTag(fields[i + 5], TAG.SEQUENCE, 'subjectPublicKeyInfo'));
  const publicKeyBits = readBitStringBytes(expectTag(spki[1], TAG.BIT_STRING, 'subjectPublicKey'));
  const result: CertificateFields = {
    serial,
    issuerName,
    subjectName,
    publicKeyBits,
    ocspUrls: [],
    mustStaple: false,
  };
  const extensionsWrapper = fields.slice(i + 6).find((node) => node.tag === contextTag(3, true));
  if (!extensionsWrapper) return result;
  for (const extension of children(
    expectTag(unwrapExplicit(extensionsWrapper), TAG.SEQUENCE, 'extensions'),
  )) {
    const parts = children(extension);
    const id = readOid(parts[0] as DerNode);
    const value = expectTag(parts[parts.length - 1], TAG.OCTET_STRING, 'extnValue').content;
    if (id === OID_AIA) result.ocspUrls = ocspUrlsOf(value);
    if (id === OID_TLS_FEATURE) {
      const features = children(expectTag(decode(value), TAG.SEQUENCE, 'TLS Feature')).map(readSmallInteger);
      result.mustStaple = features.includes(STATUS_REQUEST) || features.includes(STATUS_REQUEST_V2);
    }
  }
  return result;
}

function ocspUrlsOf(value: Buffer): string[] {
  const urls: string[] = [];
  for (const description of children(expectTag(decode(value), TAG.SEQUENCE, 'AuthorityInfoAccess'))) {
    const [method, location] = children(description);
    if (!method || !location) throw new DerError('AccessDescription needs a method and a location');
    // uniformResourceIdentifier [6] IMPLICIT IA5String
    if (readOid(method) === OID_AD_OCSP && location.tag === contextTag(6, false)) {
      urls.push(location.content.toString('latin1'));
    }
  }
  return urls;
}
