import { isIP } from 'node:net';

/** Where a forward-proxy client asked to go: the text after the last `@` of a USER argument. */
export interface Destination {
  /** A host name or an IP address (IPv6 without brackets). */
  host: string;
  port: number;
  /** `host:port` as ProxyForwardTo sees it; an IPv6 address is written in brackets: `[::1]:21`. */
  hostPort: string;
}

export type DestinationResult = { ok: true; destination: Destination } | { ok: false; error: string };

/** RFC 959's default port, used when the client names none. */
export const DEFAULT_FTP_PORT = 21;
/** mod_proxy treats this destination port as implicit FTPS (TLS from the first byte). */
export const IMPLICIT_FTPS_PORT = 990;

const HOST_NAME = /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*\.?$/;

export function formatHostPort(host: string, port: number): string {
  return `${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
}

/**
 * Parses `host`, `host:port`, `[IPv6]` or `[IPv6]:port` (as mod_proxy's lib/proxy/forward.c does): the port is the text after
 * the last `:`, all digits, 0-65535, default 21. Unlike mod_proxy, an unbracketed IPv6 address is
 * understood when splitting at the last `:` would not leave a valid host: `::1` is the host `::1`
 * on port 21 (mod_proxy would read host `:` and port 1), while `::1:2121` (what lftp sends for
 * `ftp://[::1]:2121` through ftp:proxy) is `::1` on port 2121.
 */
export function parseDestination(text: string): DestinationResult {
  const fail = (error: string): DestinationResult => ({ ok: false, error });
  if (text === '') return fail('no destination host after "@"');
  let host: string;
  let portText: string | undefined;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) return fail(`"${text}": unclosed "[" around an IPv6 address`);
    host = text.slice(1, close);
    if (isIP(host) !== 6) return fail(`"${host}" is not an IPv6 address`);
    const after = text.slice(close + 1);
    if (after !== '' && !after.startsWith(':')) return fail(`"${text}": unexpected text after "]"`);
    portText = after === '' ? undefined : after.slice(1);
  } else {
    const colon = text.lastIndexOf(':');
    host = colon >= 0 ? text.slice(0, colon) : text;
    portText = colon >= 0 ? text.slice(colon + 1) : undefined;
    if (colon >= 0 && !isValidHost(host) && isIP(text) === 6) {
      host = text;
      portText = undefined;
    }
  }
  if (host === '') return fail(`"${text}": no host before the port`);
  if (!isValidHost(host)) return fail(`"${host}" is not a valid host name or address`);
  let port = DEFAULT_FTP_PORT;
  if (portText !== undefined) {
    if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) {
      return fail(`"${portText}" is not a port number (0-65535)`);
    }
    port = Number(portText);
  }
  if (port === 0) return fail('port 0 cannot be connected to');
  return { ok: true, destination: { host, port, hostPort: formatHostPort(host, port) } };
}

function isValidHost(host: string): boolean {
  return isIP(host) !== 0 || (host.length <= 253 && HOST_NAME.test(host));
}

/** A USER argument split at its last `@`: user names may themselves contain `@` (mod_proxy's lib/proxy/forward.c). */
export interface UserAtHost {
  user: string;
  /** The text after the last `@`; undefined when there is no `@`. */
  destination: string | undefined;
}

export function splitUserAtHost(arg: string): UserAtHost {
  const at = arg.lastIndexOf('@');
  if (at < 0) return { user: arg, destination: undefined };
  return { user: arg.slice(0, at), destination: arg.slice(at + 1) };
}
