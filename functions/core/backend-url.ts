import { isIP } from 'node:net';

export type BackendProtocol = 'ftp' | 'ftps' | 'sftp';

/** A backend as written in ProxyReverseServers: `ftp://[user[:pass]@]host[:port]` and its variants. */
export interface BackendUrl {
  protocol: BackendProtocol;
  /** `+srv` / `+txt`: the host names a DNS record to resolve rather than the server itself. */
  discovery?: 'srv' | 'txt';
  host: string;
  port: number;
  user?: string;
  /** Present (possibly empty) when the URL has `user:pass@` or `user:@`. Never log it. */
  password?: string;
  /** `ftps://host:990`: TLS from the first byte instead of AUTH TLS. */
  implicitTls: boolean;
}

export type ParseResult = { ok: true; url: BackendUrl } | { ok: false; error: string };

const SCHEME = /^(ftp|ftps|sftp)(?:\+(srv|txt))?:\/\/(.*)$/i;

export function parseBackendUrl(text: string): ParseResult {
  const fail = (error: string): ParseResult => ({
    ok: false,
    error: `${error} in backend URL "${redactUrl(text)}"`,
  });
  const match = SCHEME.exec(text.trim());
  if (!match) return fail('expected ftp://, ftps:// or sftp:// (optionally +srv or +txt)');
  const protocol = (match[1] ?? '').toLowerCase() as BackendProtocol;
  const discovery = match[2]?.toLowerCase() as 'srv' | 'txt' | undefined;
  const rest = match[3] ?? '';
  // mod_proxy refuses percent-encoding anywhere after "//"; so do we, rather than guess at decoding.
  if (rest.includes('%')) return fail('percent-encoding is not supported');
  const authority = rest.split(/[/?#]/, 1)[0] ?? '';
  const at = authority.lastIndexOf('@');
  const userinfo = at >= 0 ? authority.slice(0, at) : undefined;
  const hostport = at >= 0 ? authority.slice(at + 1) : authority;

  let host: string;
  let portText: string | undefined;
  if (hostport.startsWith('[')) {
    const close = hostport.indexOf(']');
    if (close < 0) return fail('unclosed "[" around an IPv6 address');
    host = hostport.slice(1, close);
    if (isIP(host) !== 6) return fail(`"${host}" is not an IPv6 address`);
    const after = hostport.slice(close + 1);
    if (after !== '' && !after.startsWith(':')) return fail('unexpected text after "]"');
    portText = after === '' ? undefined : after.slice(1);
  } else {
    const colon = hostport.lastIndexOf(':');
    if (hostport.indexOf(':') !== colon) return fail('IPv6 addresses must be written in brackets');
    host = colon >= 0 ? hostport.slice(0, colon) : hostport;
    portText = colon >= 0 ? hostport.slice(colon + 1) : undefined;
  }
  if (host === '') return fail('missing host');
  if (!/^[A-Za-z0-9._:-]+$/.test(host)) return fail(`"${host}" is not a valid host name`);

  const defaultPort = protocol === 'sftp' ? 22 : 21;
  let port = defaultPort;
  if (portText !== undefined) {
    if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
      return fail(`"${portText}" is not a port number`);
    }
    port = Number(portText);
  }

  const url: BackendUrl = {
    protocol,
    host,
    port,
    implicitTls: protocol === 'ftps' && port === 990 && !discovery,
  };
  if (discovery) url.discovery = discovery;
  if (userinfo !== undefined) {
    const colon = userinfo.indexOf(':');
    url.user = colon >= 0 ? userinfo.slice(0, colon) : userinfo;
    if (colon >= 0) url.password = userinfo.slice(colon + 1);
    if (url.user === '') return fail('empty user name');
  }
  return { ok: true, url };
}

/** The URL as it may appear in logs and errors: any password replaced by "***". */
export function redactUrl(text: string): string {
  return text.replace(/^([a-z+]+:\/\/[^/@:]*:)[^/]*@/i, '$1***@');
}

/** A stable, credential-free name for a backend: used as its identity in the store and in logs. */
export function backendKey(url: BackendUrl): string {
  const host = isIP(url.host) === 6 ? `[${url.host}]` : url.host;
  const scheme = url.discovery ? `${url.protocol}+${url.discovery}` : url.protocol;
  return `${scheme}://${host}:${url.port}`;
}

/**
 * Why a pool may not use this URL, or undefined. A password in a backend URL replaces whatever the
 * client sent (`USER svc` / `PASS secret`), so in a pool that does not check clients itself every
 * client, with any password, would be logged in as that user. mod_proxy pairs URL credentials with
 * `ProxyOptions UseReverseProxyAuth` (ProxyReverseServers:
 * http://www.proftpd.org/docs/contrib/mod_proxy.html#ProxyReverseServers); ftpx requires it. A user
 * without a password (`ftp://svc@host`, `ftp://svc:@host`) keeps the client's password and is allowed.
 * The text names no part of the URL.
 */
export function urlPasswordRefusal(url: BackendUrl, proxyAuth: boolean): string | undefined {
  if (proxyAuth || url.password === undefined || url.password === '') return undefined;
  return 'a password in a backend URL needs proxy authentication (proxyAuth: true, ProxyOptions UseReverseProxyAuth): without it every client would be logged in with that password, whatever it typed';
}
