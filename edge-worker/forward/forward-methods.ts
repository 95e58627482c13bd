/**
 * ProxyForwardMethod (http://www.proftpd.org/docs/contrib/mod_proxy.html#ProxyForwardMethod): how a forward-proxy client names its destination and
 * whether it first logs in to the proxy.
 * - `user@host`: no proxy login; `USER user@host[:port]` connects, `USER user` goes to the destination.
 * - `proxyuser,user@host`: `USER proxyuser` / `PASS` log in to the proxy, then `USER user@host[:port]`
 *   connects as above.
 * - `proxyuser@host,user`: `USER proxyuser@host[:port]` / `PASS` log in to the proxy and fix the
 *   destination; the next `USER user` connects and is relayed unchanged.
 * - `user@sni`: the destination is the TLS SNI name of the client's FTPS control connection.
 */
export const FORWARD_METHODS = [
  'user@host',
  'proxyuser,user@host',
  'proxyuser@host,user',
  'user@sni',
] as const;
export type ForwardMethod = (typeof FORWARD_METHODS)[number];

/** mod_proxy's code default (its documentation names none). */
export const DEFAULT_FORWARD_METHOD: ForwardMethod = 'proxyuser,user@host';

/** Whether the method logs in to the proxy before the destination. */
export function needsProxyAuth(method: ForwardMethod): boolean {
  return method === 'proxyuser,user@host' || method === 'proxyuser@host,user';
}

/** Matches a ProxyForwardMethod argument case-insensitively, as mod_proxy does. */
export function findForwardMethod(text: string): ForwardMethod | undefined {
  return FORWARD_METHODS.find((method) => method === text.toLowerCase());
}
