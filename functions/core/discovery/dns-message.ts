import { isIPv4, isIPv6 } from 'node:net';
import * as dnsPacket from 'dns-packet';

/**
 * DNS queries and answers (RFC 1035, RFC 2782, RFC 3596) for discovery, through dns-packet: a query
 * for one name and type, and the answer records of a response with their TTLs. Node's dns.Resolver
 * gives SRV and TXT records without their TTLs, and honouring TTLs is the point of discovery. What
 * stays here is the shape discovery reads and the rule that anything dns-packet cannot read, or reads
 * into something that is not a record of its type, is a DnsMessageError.
 */
export const RecordType = { A: 1, CNAME: 5, TXT: 16, AAAA: 28, SRV: 33 } as const;
export type RecordTypeName = keyof typeof RecordType;

export const Rcode = { NOERROR: 0, SERVFAIL: 2, NXDOMAIN: 3 } as const;

export type AnswerData =
  | { type: 'A' | 'AAAA'; address: string }
  | { type: 'CNAME'; target: string }
  | { type: 'TXT'; text: string }
  | { type: 'SRV'; priority: number; weight: number; port: number; target: string };

export type Answer = AnswerData & { name: string; ttl: number };

export interface DnsResponse {
  id: number;
  rcode: number;
  truncated: boolean;
  answers: Answer[];
}

export class DnsMessageError extends Error {
  override readonly name = 'DnsMessageError';
}

/** A query with recursion desired, for `name` (absolute or not) and `type`. */
export function encodeQuery(id: number, name: string, type: RecordTypeName): Buffer {
  const labels = name
    .replace(/\.$/, '')
    .split('.')
    .filter((label) => label !== '');
  // dns-packet writes a label's length in one byte without checking it: a longer label would corrupt the query.
  for (const label of labels) {
    if (Buffer.byteLength(label) > 63)
      throw new DnsMessageError(`label "${label}" of ${name} is longer than 63 bytes`);
  }
  const query = dnsPacket.encode({
    type: 'query',
    id,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type, name: labels.join('.'), class: 'IN' }],
  });
  if (query.length > 512) throw new DnsMessageError(`name ${name} is too long`);
  return query;
}

/** The answer section of a response; records of other types are skipped. Throws DnsMessageError. */
export function decodeResponse(message: Buffer): DnsResponse {
  if (message.length < 12) throw new DnsMessageError('response shorter than a DNS header');
  let packet: dnsPacket.DecodedPacket;
  try {
    packet = dnsPacket.decode(message);
  } catch (err) {
    throw new DnsMessageError(`malformed DNS response: ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
    });
  }
  const flags = packet.flags ?? 0;
  if (packet.type !== 'response') throw new DnsMessageError('not a response');
  const answers: Answer[] = [];
  for (const record of packet.answers ?? []) {
    const data = answerData(record);
    if (data)
      answers.push({
        ...data,
        name: record.name,
        ttl: Math.min('ttl' in record ? (record.ttl ?? 0) : 0, 0x7fffffff),
      });
  }
  return { id: packet.id ?? 0, rcode: flags & 0x0f, truncated: (flags & 0x0200) !== 0, answers };
}

function answerData(record: dnsPacket.Answer): AnswerData | undefined {
  switch (record.type) {
    case 'A':
      if (!isIPv4(record.data)) throw new DnsMessageError('A record that is not an IPv4 address');
      return { type: 'A', address: record.data };
    case 'AAAA':
      if (!isIPv6(record.data)) throw new DnsMessageError('AAAA record that is not an IPv6 address');
      return { type: 'AAAA', address: record.data };
    case 'CNAME':
      return { type: 'CNAME', target: record.data };
    case 'TXT': {
      // One record may hold several character-strings: they are one text (RFC 7208 does the same).
      const parts = Array.isArray(record.data) ? record.data : [record.data];
      return { type: 'TXT', text: parts.map((part) => part.toString()).join('') };
    }
    case 'SRV': {
      const { priority, weight, port, target } = record.data;
      return { type: 'SRV', priority: priority ?? 0, weight: weight ?? 0, port, target };
    }
    default:
      return undefined;
  }
}
