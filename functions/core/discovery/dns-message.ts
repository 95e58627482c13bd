/**
 * The few parts of the DNS wire format (RFC 1035, RFC 2782, RFC 3596) discovery needs: a query for
 * one name and type, and the answer records of a response with their TTLs. Node's dns.Resolver
 * gives SRV and TXT records without their TTLs, and honouring TTLs is the point of discovery.
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
  const parts: Buffer[] = [];
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(0x0100, 2); // RD
  header.writeUInt16BE(1, 4);
  parts.push(header);
  for (const label of labels) {
    const bytes = Buffer.from(label, 'ascii');
    if (bytes.length > 63) throw new DnsMessageError(`label "${label}" of ${name} is longer than 63 bytes`);
    parts.push(Buffer.from([bytes.length]), bytes);
  }
  const tail = Buffer.alloc(5);
  tail.writeUInt16BE(RecordType[type], 1);
  tail.writeUInt16BE(1, 3); // IN
  parts.push(tail);
  const query = Buffer.concat(parts);
  if (query.length > 512) throw new DnsMessageError(`name ${name} is too long`);
  return query;
}

const TYPE_NAMES = new Map<number, RecordTypeName>(
  Object.entries(RecordType).map(([name, code]) => [code, name as RecordTypeName]),
);

/** The answer section of a response; records of other types are skipped. Throws DnsMessageError. */
export function decodeResponse(message: Buffer): DnsResponse {
  if (message.length < 12) throw new DnsMessageError('response shorter than a DNS header');
  const id = message.readUInt16BE(0);
  const flags = message.readUInt16BE(2);
  if ((flags & 0x8000) === 0) throw new DnsMessageError('not a response');
  const questions = message.readUInt16BE(4);
  const answerCount = message.readUInt16BE(6);
  let offset = 12;
  for (let i = 0; i < questions; i++) {
    offset = readName(message, offset).next + 4;
  }
  const answers: Answer[] = [];
  for (let i = 0; i < answerCount; i++) {
    const name = readName(message, offset);
    offset = name.next;
    need(message, offset, 10);
    const type = message.readUInt16BE(offset);
    const ttl = message.readUInt32BE(offset + 4);
    const length = message.readUInt16BE(offset + 8);
    const start = offset + 10;
    need(message, start, length);
    offset = start + length;
    const data = decodeData(message, TYPE_NAMES.get(type), start, length);
    if (data) answers.push({ ...data, name: name.name, ttl: Math.min(ttl, 0x7fffffff) });
  }
  return { id, rcode: flags & 0x0f, truncated: (flags & 0x0200) !== 0, answers };
}

function decodeData(
  message: Buffer,
  type: RecordTypeName | undefined,
  start: number,
  length: number,
): AnswerData | undefined {
  switch (type) {
    case 'A':
      if (length !== 4) throw new DnsMessageError('A record of wrong length');
      return { type, address: [...message.subarray(start, start + 4)].join('.') };
    case 'AAAA': {
      if (length !== 16) throw new DnsMessageError('AAAA record of wrong length');
      const groups: string[] = [];
      for (let i = 0; i < 16; i += 2) groups.push(message.readUInt16BE(start + i).toString(16));
      return { type, address: compressIpv6(groups) };
    }
    case 'CNAME':
      return { type, target: readName(message, start).name };
    case 'TXT': {
      // One record may hold several character-strings: they are one text (RFC 7208 does the same).
      let text = '';
      let at = start;
      while (at < start + length) {
        const size = message[at] ?? 0;
        need(message, at + 1, size);
        text += message.subarray(at + 1, at + 1 + size).toString('utf8');
        at += 1 + size;
      }
      return { type, text };
    }
    case 'SRV':
      if (length < 7) throw new DnsMessageError('SRV record too short');
      return {
        type,
        priority: message.readUInt16BE(start),
        weight: message.readUInt16BE(start + 2),
        port: message.readUInt16BE(start + 4),
        // RFC 2782 forbids compressing the target; servers that do it anyway are read all the same.
        target: readName(message, start + 6).name,
      };
    default:
      return undefined;
  }
}

function compressIpv6(groups: string[]): string {
  let best = { start: -1, length: 0 };
  for (let i = 0; i < groups.length; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < groups.length && groups[j] === '0') j++;
    if (j - i > best.length && j - i > 1) best = { start: i, length: j - i };
    i = j;
  }
  if (best.start < 0) return groups.join(':');
  const head = groups.slice(0, best.start).join(':');
  const tail = groups.slice(best.start + best.length).join(':');
  return `${head}::${tail}`;
}

function need(message: Buffer, offset: number, length: number): void {
  if (offset + length > message.length) throw new DnsMessageError('response truncated mid-record');
}

/** A possibly compressed name at `offset`; "." for the root. */
function readName(message: Buffer, offset: number): { name: string; next: number } {
  const labels: string[] = [];
  let at = offset;
  let next: number | undefined;
  for (let jumps = 0; ; ) {
    need(message, at, 1);
    const length = message[at] as number;
    if (length === 0) {
      next ??= at + 1;
      break;
    }
    if ((length & 0xc0) === 0xc0) {
      need(message, at, 2);
      if (++jumps > 64) throw new DnsMessageError('name compression loop');
      next ??= at + 2;
      at = message.readUInt16BE(at) & 0x3fff;
      continue;
    }
    need(message, at + 1, length);
    labels.push(message.subarray(at + 1, at + 1 + length).toString('ascii'));
    at += 1 + length;
  }
  return { name: labels.length === 0 ? '.' : labels.join('.'), next };
}
