/**
 * Strict IP address text <-> bytes helpers shared by the PROXY protocol encoder, decoder and CIDR matcher.
 *
 * - IPv4: exactly four decimal numbers 0-255, no leading zeros ("0" itself is fine), as the PROXY v1 spec
 *   demands (leading zeros could be read as octal).
 * - IPv6: groups of 1-4 hex digits (either case), at most one "::", an optional dotted IPv4 tail
 *   ("::ffff:1.2.3.4", as inet_ntop and mod_proxy write mapped addresses), exactly 128 bits. No zone id.
 */

/** Parses a strict dotted-quad IPv4 address; undefined if `text` is anything else. */
export function parseIPv4(text: string): Uint8Array | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const bytes = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const part = parts[i] as string;
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part)) return undefined;
    const value = Number(part);
    if (value > 255) return undefined;
    bytes[i] = value;
  }
  return bytes;
}

function parseGroups(text: string, allowIPv4Tail: boolean): number[] | undefined {
  if (text === '') return [];
  const pieces = text.split(':');
  const groups: number[] = [];
  for (let i = 0; i < pieces.length; i++) {
    const piece = pieces[i] as string;
    if (allowIPv4Tail && i === pieces.length - 1 && piece.includes('.')) {
      const v4 = parseIPv4(piece);
      if (!v4) return undefined;
      groups.push(((v4[0] as number) << 8) | (v4[1] as number), ((v4[2] as number) << 8) | (v4[3] as number));
    } else if (/^[0-9a-fA-F]{1,4}$/.test(piece)) {
      groups.push(Number.parseInt(piece, 16));
    } else {
      return undefined;
    }
  }
  return groups;
}

/** Parses an IPv6 address (see the module comment for what is accepted); undefined otherwise. */
export function parseIPv6(text: string): Uint8Array | undefined {
  if (text.length < 2 || text.length > 45) return undefined;
  const gap = text.indexOf('::');
  let groups: number[];
  if (gap === -1) {
    const all = parseGroups(text, true);
    if (all?.length !== 8) return undefined;
    groups = all;
  } else {
    if (text.indexOf('::', gap + 1) !== -1) return undefined;
    const head = parseGroups(text.slice(0, gap), false);
    const tail = parseGroups(text.slice(gap + 2), true);
    if (!head || !tail || head.length + tail.length > 7) return undefined;
    groups = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  }
  const bytes = new Uint8Array(16);
  groups.forEach((group, i) => {
    bytes[2 * i] = group >> 8;
    bytes[2 * i + 1] = group & 0xff;
  });
  return bytes;
}

export function formatIPv4(bytes: Uint8Array): string {
  return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
}

/** True for ::ffff:a.b.c.d (16 bytes). */
export function isIPv4Mapped(bytes: Uint8Array): boolean {
  if (bytes.length !== 16) return false;
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return false;
  return bytes[10] === 0xff && bytes[11] === 0xff;
}

/**
 * RFC 5952 text: lowercase, no leading zeros, the longest run (first on a tie) of two or more zero groups
 * written "::". An IPv4-mapped address is written "::ffff:a.b.c.d".
 */
export function formatIPv6(bytes: Uint8Array): string {
  if (isIPv4Mapped(bytes)) return `::ffff:${formatIPv4(bytes.subarray(12))}`;
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push(((bytes[2 * i] as number) << 8) | (bytes[2 * i + 1] as number));
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let end = i;
    while (end < 8 && groups[end] === 0) end++;
    if (end - i > bestLength) {
      bestStart = i;
      bestLength = end - i;
    }
    i = end;
  }
  const hex = (list: number[]) => list.map((g) => g.toString(16)).join(':');
  if (bestStart === -1) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLength))}`;
}

export type ParsedAddress = { family: 4; bytes: Uint8Array } | { family: 6; bytes: Uint8Array };

/**
 * Parses an address as Node reports it (`socket.remoteAddress`): IPv4, IPv6, an IPv6 zone id ("%eth0") is
 * dropped. An IPv4-mapped IPv6 address comes back as family 4 with 4 bytes.
 */
export function parseAddress(text: string): ParsedAddress | undefined {
  const v4 = parseIPv4(text);
  if (v4) return { family: 4, bytes: v4 };
  const zone = text.indexOf('%');
  const v6 = parseIPv6(zone === -1 ? text : text.slice(0, zone));
  if (!v6) return undefined;
  return isIPv4Mapped(v6) ? { family: 4, bytes: v6.slice(12) } : { family: 6, bytes: v6 };
}

/** 4-byte IPv4 -> 16-byte ::ffff:a.b.c.d. */
export function mapIPv4(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(16);
  out[10] = 0xff;
  out[11] = 0xff;
  out.set(bytes, 12);
  return out;
}

/**
 * The address text the decoder reports: IPv4 (including IPv4-mapped IPv6) as a dotted quad, any other
 * IPv6 in RFC 5952 form.
 */
export function normalizeAddressBytes(bytes: Uint8Array): string {
  if (bytes.length === 4) return formatIPv4(bytes);
  return isIPv4Mapped(bytes) ? formatIPv4(bytes.subarray(12)) : formatIPv6(bytes);
}
