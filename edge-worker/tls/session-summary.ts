import { children, contextTag, decode, readSmallInteger, TAG } from '../../functions/core/der.js';

const PROTOCOLS: Record<number, string> = {
  768: 'SSLv3',
  769: 'TLSv1',
  770: 'TLSv1.1',
  771: 'TLSv1.2',
  772: 'TLSv1.3',
};

/**
 * The protocol and start time of a serialised OpenSSL session (SSL_SESSION_ASN1: version,
 * ssl_version, cipher, session id, master key, ..., [1] time), for `cache info -v`. Best effort:
 * anything unreadable gives an empty summary, never an error.
 */
export function sessionSummary(der: Buffer): { protocol?: string; startedAt?: number } {
  try {
    const fields = children(decode(der));
    const version = fields[1]?.tag === TAG.INTEGER ? readSmallInteger(fields[1]) : undefined;
    const time = fields.find((field) => field.tag === contextTag(1, true));
    const seconds = time ? readSmallInteger(children(time)[0] as never) : undefined;
    return {
      ...(version !== undefined ? { protocol: PROTOCOLS[version] ?? 'unknown' } : {}),
      ...(seconds !== undefined && seconds > 0 ? { startedAt: seconds * 1000 } : {}),
    };
  } catch {
    return {};
  }
}
