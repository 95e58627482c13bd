import type { SecureVersion } from 'node:tls';

/** The names TLSProtocol / ProxyTLSProtocol accept (SSLv3 and SSLv23 are refused: no OpenSSL 3 build has SSLv3). */
export const TLS_PROTOCOL_NAMES = ['TLSv1', 'TLSv1.0', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const;

const ORDER: SecureVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];

function canonical(name: string): SecureVersion | undefined {
  const lower = name.toLowerCase();
  if (lower === 'tlsv1' || lower === 'tlsv1.0') return 'TLSv1';
  if (lower === 'tlsv1.1') return 'TLSv1.1';
  if (lower === 'tlsv1.2') return 'TLSv1.2';
  if (lower === 'tlsv1.3') return 'TLSv1.3';
  return undefined;
}

/** SSLv3 and its predecessors: names ProFTPD knows, which no OpenSSL 3 build can speak. */
const SSL_NAME = /^SSLv(2|3|23)$/i;

/**
 * Parses ProFTPD's TLSProtocol / ProxyTLSProtocol argument: a list (`TLSv1.2 TLSv1.3`) or
 * `ALL [+|-proto ...]`, where every item after ALL needs its sign. Returns the versions allowed,
 * oldest first. Node (OpenSSL) negotiates a contiguous range, so a gap (TLSv1 TLSv1.2) is refused.
 * SSLv3 is accepted where mod_tls/mod_proxy's examples write it (`ALL -SSLv3`, `SSLv3 TLSv1`) and
 * dropped with a note, since OpenSSL 3 has none; a list that would allow SSLv3 only, or `+SSLv3`, is
 * refused.
 */
export function parseTlsProtocols(
  text: string,
): { ok: true; versions: SecureVersion[]; notes?: string[] } | { ok: false; error: string } {
  const notes: string[] = [];
  const words = text
    .trim()
    .split(/[\s,]+/)
    .filter(Boolean);
  if (words.length === 0) return { ok: false, error: 'names no protocol' };
  const allowed = new Set<SecureVersion>();
  if (words[0]?.toUpperCase() === 'ALL') {
    for (const version of ORDER) allowed.add(version);
    for (const word of words.slice(1)) {
      const sign = word[0];
      if (sign !== '+' && sign !== '-') {
        return { ok: false, error: `"${word}": after ALL every protocol needs a + or - prefix` };
      }
      if (SSL_NAME.test(word.slice(1))) {
        if (sign === '+') {
          return {
            ok: false,
            error: `${word.slice(1)} is not supported (OpenSSL 3 has no SSLv3): use TLSv1 and newer`,
          };
        }
        continue; // never allowed here anyway
      }
      const version = canonical(word.slice(1));
      if (!version)
        return { ok: false, error: `"${word.slice(1)}" is not a TLS protocol (TLSv1 to TLSv1.3)` };
      if (sign === '+') allowed.add(version);
      else allowed.delete(version);
    }
  } else {
    for (const word of words) {
      if (SSL_NAME.test(word)) {
        notes.push(`${word} left out: OpenSSL 3 has no SSLv3`);
        continue;
      }
      const version = canonical(word);
      if (!version) return { ok: false, error: `"${word}" is not a TLS protocol (TLSv1 to TLSv1.3 or ALL)` };
      allowed.add(version);
    }
  }
  const versions = ORDER.filter((version) => allowed.has(version));
  if (versions.length === 0) {
    return {
      ok: false,
      error:
        notes.length > 0
          ? `${text.trim()} is not supported (OpenSSL 3 has no SSLv3): use TLSv1 and newer`
          : 'allows no protocol at all',
    };
  }
  const first = ORDER.indexOf(versions[0] as SecureVersion);
  if (versions.some((version, index) => ORDER.indexOf(version) !== first + index)) {
    return {
      ok: false,
      error: `${versions.join(' ')} has a gap: OpenSSL negotiates a contiguous range of versions`,
    };
  }
  return { ok: true, versions, ...(notes.length > 0 ? { notes } : {}) };
}

/** minVersion/maxVersion for node:tls from a parsed list. */
export function versionRange(versions: readonly SecureVersion[]): {
  minVersion: SecureVersion;
  maxVersion: SecureVersion;
} {
  return {
    minVersion: versions[0] ?? 'TLSv1.2',
    maxVersion: versions[versions.length - 1] ?? 'TLSv1.3',
  };
}
