import { describe, expect, it } from 'vitest';
import { parseProxyHeader } from '../../../../edge-worker/proxy-protocol/decode.js';
import { outboundProxyHeader } from '../../../../edge-worker/proxy-protocol/outbound.js';
import { TLV } from '../../../../edge-worker/proxy-protocol/types.js';

const source = {
  client: { address: '127.0.0.2', port: 40000 },
  frontend: { address: '127.0.0.1', port: 2121 },
  protocol: 'ftp' as const,
  sessionId: 'abc',
};

function tlvsOf(header: Buffer | undefined): Array<[number, string]> {
  const parsed = parseProxyHeader(header ?? Buffer.alloc(0));
  if (parsed.kind !== 'header') throw new Error(`not a header: ${parsed.kind}`);
  return parsed.header.tlvs.map((tlv) => [tlv.type, tlv.value.toString('utf8')]);
}

describe('outboundProxyHeader with V2TLVs (UseProxyProtocolV2TLVs)', () => {
  it('sends the Authority TLV with the host name the client asked for (HOST, else TLS SNI)', () => {
    expect(
      tlvsOf(outboundProxyHeader('v2-tlvs', { ...source, authority: 'files.example.com' }, '127.0.0.1')),
    ).toEqual([
      [TLV.ALPN, 'ftp'],
      [TLV.AUTHORITY, 'files.example.com'],
      [TLV.UNIQUE_ID, 'abc'],
    ]);
  });

  it('leaves the Authority TLV out when the client named no host, as mod_proxy does', () => {
    expect(tlvsOf(outboundProxyHeader('v2-tlvs', source, '127.0.0.1')).map(([type]) => type)).toEqual([
      TLV.ALPN,
      TLV.UNIQUE_ID,
    ]);
    expect(tlvsOf(outboundProxyHeader('v2', { ...source, authority: 'x' }, '127.0.0.1'))).toEqual([]);
  });
});
