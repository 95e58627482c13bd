import { alpnTlv, authorityTlv, encodeV1, encodeV2, type SslTlvInfo, sslTlv, uniqueIdTlv } from './encode.js';
import type { ProxyAddress } from './types.js';

/** ProxyOptions UseProxyProtocolV1 / UseProxyProtocolV2 / UseProxyProtocolV2TLVs. */
export type OutboundProxyProtocol = 'off' | 'v1' | 'v2' | 'v2-tlvs';

export interface OutboundHeaderSource {
  /** The real client: the frontend peer, or what a trusted inbound PROXY header said. */
  client: ProxyAddress;
  /** Where the client reached the proxy. */
  frontend: ProxyAddress;
  protocol: 'ftp' | 'ftps' | 'sftp';
  sessionId: string;
  /** The client's TLS session, when it has one: sent as the SSL TLV with V2TLVs (mod_proxy's TLS_* notes). */
  ssl?: SslTlvInfo;
  /**
   * The host name the client asked for: its FTP HOST argument, else its TLS SNI name. Sent as the
   * Authority TLV with V2TLVs, only when there is one (as mod_proxy does).
   */
  authority?: string;
}

/**
 * The header to send a backend right after connecting, before its banner (http://www.proftpd.org/docs/contrib/mod_proxy.html#ProxyOptions, UseProxyProtocolV1), so the
 * backend logs and authorises the real client rather than the proxy. Returns undefined when off.
 * V1 falls back to UNKNOWN when the client side is IPv6 but the backend is IPv4, as mod_proxy does.
 */
export function outboundProxyHeader(
  version: OutboundProxyProtocol,
  source: OutboundHeaderSource,
  backendAddress: string,
): Buffer | undefined {
  const endpoints = { source: source.client, destination: source.frontend };
  switch (version) {
    case 'off':
      return undefined;
    case 'v1':
      return encodeV1({
        ...endpoints,
        backendIsIPv4: !backendAddress.includes(':') || backendAddress.startsWith('::ffff:'),
      });
    case 'v2':
      return encodeV2(endpoints);
    case 'v2-tlvs':
      return encodeV2({
        ...endpoints,
        tlvs: [
          alpnTlv(source.protocol),
          ...(source.authority ? [authorityTlv(source.authority)] : []),
          uniqueIdTlv(source.sessionId),
          ...(source.ssl ? [sslTlv(source.ssl)] : []),
        ],
      });
  }
}
