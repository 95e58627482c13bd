import {
  formatIPv4,
  formatIPv6,
  parseCidr,
  parseIPv4,
  parseIPv6,
} from '../../../../functions/core/net/index.js';

/**
 * A network as ProFTPD reads it in `From` and `Allow from`: `1.2.3.4/8` has host bits set, which
 * ProFTPD masks away silently (its netacl compares only the prefix). ftpx masks them too, but says so
 * (the YAML's networks, read by parseCidr, refuse host bits as a likely typo).
 */
export type ImportedNetwork =
  | { ok: true; network: string; masked?: { from: string } }
  | { ok: false; error: string };

export function importNetwork(text: string): ImportedNetwork {
  const parsed = parseCidr(text);
  if (parsed.ok) return { ok: true, network: text.trim() };
  const match = /^([^/]+)\/(\d{1,3})$/.exec(text.trim());
  const v4 = match ? parseIPv4(match[1] as string) : undefined;
  const v6 = match && !v4 ? parseIPv6(match[1] as string) : undefined;
  const length = Number(match?.[2]);
  const bytes = v4 ?? v6;
  if (!bytes || length > bytes.length * 8) return { ok: false, error: parsed.error };
  const masked = Uint8Array.from(bytes, (byte, index) => {
    const keep = Math.max(0, Math.min(8, length - index * 8));
    return byte & ((0xff << (8 - keep)) & 0xff);
  });
  const network = `${v4 ? formatIPv4(masked) : formatIPv6(masked)}/${length}`;
  return parseCidr(network).ok
    ? { ok: true, network, masked: { from: text.trim() } }
    : { ok: false, error: parsed.error };
}
