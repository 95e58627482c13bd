import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestDnsServer, TestRecord } from './dns-server.js';

/** A record set as the test server holds it (names absolute, lower case, with the trailing dot). */
export interface StoredRecordSet {
  name: string;
  type: string;
  ttl: number;
  values: string[];
}

export interface TestRoute53 {
  /** The endpoint to give the SDK client (`endpoint`). */
  endpoint: string;
  /** Record sets of a zone, by id (without /hostedzone/). */
  records(zoneId: string): StoredRecordSet[];
  /** Every ChangeResourceRecordSets batch received, in order. */
  changes: { zoneId: string; actions: string[] }[];
  close(): Promise<void>;
}

const NS = 'https://route53.amazonaws.com/doc/2013-04-01/';

interface Zone {
  id: string;
  name: string;
  sets: Map<string, StoredRecordSet>;
}

/**
 * Test only: a Route 53 REST-XML server for the real `@aws-sdk/client-route-53` client, with the
 * four calls publication uses: CreateHostedZone, ChangeResourceRecordSets (CREATE, UPSERT, DELETE,
 * all-or-nothing per batch, as the API does), ListResourceRecordSets (names in reversed-label order,
 * paginated) and GetChange (PENDING on the first poll, INSYNC after). Every change is also served
 * over DNS by `dns`, so discovery finds what was published. No authentication is checked. Route 53
 * itself cannot run here; LocalStack replaces this server when AWS_ENDPOINT_URL points at one.
 */
export async function startRoute53Server(dns?: TestDnsServer): Promise<TestRoute53> {
  const zones = new Map<string, Zone>();
  const changePolls = new Map<string, number>();
  const changes: { zoneId: string; actions: string[] }[] = [];

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://route53');
    const body = await readBody(request);
    const path = url.pathname.replace(/\/+$/, '');
    if (request.method === 'POST' && path === '/2013-04-01/hostedzone') {
      const name = absolute(tag(body, 'Name') ?? '');
      const id = `Z${randomBytes(8).toString('hex').toUpperCase()}`;
      zones.set(id, { id, name, sets: new Map() });
      const change = newChange();
      return reply(response, 201, 'CreateHostedZoneResponse', [
        `<HostedZone><Id>/hostedzone/${id}</Id><Name>${xmlEscape(name)}</Name><CallerReference>${xmlEscape(tag(body, 'CallerReference') ?? '')}</CallerReference><Config><PrivateZone>false</PrivateZone></Config><ResourceRecordSetCount>0</ResourceRecordSetCount></HostedZone>`,
        changeInfo(change),
        '<DelegationSet><NameServers><NameServer>ns-1.test.</NameServer></NameServers></DelegationSet>',
      ]);
    }
    const rrset = /^\/2013-04-01\/hostedzone\/([^/]+)\/rrset$/.exec(path);
    if (rrset) {
      const match = rrset;
      const zone = zones.get(match[1] as string);
      if (!zone) return error(response, 404, 'NoSuchHostedZone', `No hosted zone found with ID: ${match[1]}`);
      if (request.method === 'POST') return changeRecords(response, zone, body);
      if (request.method === 'GET') return listRecords(response, zone, url.searchParams);
    }
    const change = /^\/2013-04-01\/change\/([^/]+)$/.exec(path);
    if (request.method === 'GET' && change) {
      const match = change;
      const id = match[1] as string;
      const polls = changePolls.get(id);
      if (polls === undefined)
        return error(
          response,
          404,
          'NoSuchChange',
          `A change with the specified change ID does not exist: ${id}`,
        );
      changePolls.set(id, polls + 1);
      return reply(response, 200, 'GetChangeResponse', [changeInfo(id, polls >= 1 ? 'INSYNC' : 'PENDING')]);
    }
    return error(response, 404, 'UnknownOperation', `${request.method} ${path}`);
  };

  const newChange = () => {
    const id = `C${randomBytes(8).toString('hex').toUpperCase()}`;
    changePolls.set(id, 0);
    return id;
  };

  const changeRecords = (response: ServerResponse, zone: Zone, body: string) => {
    const next = new Map(zone.sets);
    const actions: string[] = [];
    for (const change of all(body, 'Change')) {
      const action = tag(change, 'Action') ?? '';
      const set: StoredRecordSet = {
        name: absolute(tag(change, 'Name') ?? ''),
        type: tag(change, 'Type') ?? '',
        ttl: Number(tag(change, 'TTL') ?? 0),
        values: all(change, 'ResourceRecord').map((record) => tag(record, 'Value') ?? ''),
      };
      const key = `${set.name} ${set.type}`;
      actions.push(`${action} ${key}`);
      if (!set.name.endsWith(zone.name)) {
        return error(response, 400, 'InvalidChangeBatch', `${set.name} is not in zone ${zone.name}`);
      }
      if (action === 'DELETE') {
        const old = next.get(key);
        if (
          !old ||
          old.ttl !== set.ttl ||
          [...old.values].sort().join('\n') !== [...set.values].sort().join('\n')
        ) {
          return error(
            response,
            400,
            'InvalidChangeBatch',
            `Tried to delete resource record set [name='${set.name}', type='${set.type}'] but the values provided do not match the current values`,
          );
        }
        next.delete(key);
      } else if (action === 'CREATE' && next.has(key)) {
        return error(
          response,
          400,
          'InvalidChangeBatch',
          `Tried to create resource record set [name='${set.name}', type='${set.type}'] but it already exists`,
        );
      } else if (action === 'CREATE' || action === 'UPSERT') {
        next.set(key, set);
      } else {
        return error(response, 400, 'InvalidInput', `unknown action ${action}`);
      }
    }
    zone.sets = next;
    changes.push({ zoneId: zone.id, actions });
    if (dns) serveOverDns(dns, zone);
    return reply(response, 200, 'ChangeResourceRecordSetsResponse', [changeInfo(newChange())]);
  };

  const listRecords = (response: ServerResponse, zone: Zone, query: URLSearchParams) => {
    const start = query.get('name') ? absolute(query.get('name') as string) : undefined;
    const startType = query.get('type') ?? undefined;
    const max = Math.min(300, Number(query.get('maxitems') ?? 300));
    const ordered = [...zone.sets.values()].sort(
      (a, b) => reversed(a.name).localeCompare(reversed(b.name)) || a.type.localeCompare(b.type),
    );
    const from = ordered.filter(
      (set) =>
        start === undefined ||
        reversed(set.name) > reversed(start) ||
        (set.name === start && (startType === undefined || set.type >= startType)),
    );
    const page = from.slice(0, max);
    const next = from[max];
    return reply(response, 200, 'ListResourceRecordSetsResponse', [
      `<ResourceRecordSets>${page.map(recordSetXml).join('')}</ResourceRecordSets>`,
      `<IsTruncated>${next ? 'true' : 'false'}</IsTruncated>`,
      next
        ? `<NextRecordName>${xmlEscape(next.name)}</NextRecordName><NextRecordType>${next.type}</NextRecordType>`
        : '',
      `<MaxItems>${max}</MaxItems>`,
    ]);
  };

  const server: Server = createServer((request, response) => {
    handle(request, response).catch((err: unknown) => error(response, 500, 'InternalFailure', String(err)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    records: (zoneId) => [...(zones.get(zoneId.replace(/^\/hostedzone\//, ''))?.sets.values() ?? [])],
    changes,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Pushes a zone's SRV, TXT, A and AAAA record sets into the DNS server (and removes what went). */
function serveOverDns(dns: TestDnsServer, zone: Zone): void {
  const types = ['SRV', 'TXT', 'A', 'AAAA'] as const;
  const names = new Set([...zone.sets.values()].map((set) => set.name));
  for (const name of servedNames.get(zone.id) ?? []) if (!names.has(name)) dns.remove(name);
  for (const name of names) {
    for (const type of types) {
      const set = zone.sets.get(`${name} ${type}`);
      dns.set(name, type, set ? set.values.map((value) => dnsRecord(type, set.ttl, value)) : []);
    }
  }
  servedNames.set(zone.id, names);
}

const servedNames = new Map<string, Set<string>>();

function dnsRecord(type: 'SRV' | 'TXT' | 'A' | 'AAAA', ttl: number, value: string): Omit<TestRecord, 'type'> {
  if (type === 'SRV') {
    const [priority, weight, port, target] = value.split(/\s+/);
    return {
      ttl,
      data: { priority: Number(priority), weight: Number(weight), port: Number(port), target: target ?? '.' },
    };
  }
  if (type === 'TXT') {
    // Route 53 TXT values are quoted character-strings (the SDK sent the quotes XML-escaped).
    const strings = [...value.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) =>
      (m[1] ?? '').replace(/\\(.)/g, '$1'),
    );
    return { ttl, data: strings.length > 0 ? strings : [value] };
  }
  return { ttl, data: value } as Omit<TestRecord, 'type'>;
}

function recordSetXml(set: StoredRecordSet): string {
  const values = set.values
    .map((value) => `<ResourceRecord><Value>${xmlEscape(value)}</Value></ResourceRecord>`)
    .join('');
  return `<ResourceRecordSet><Name>${xmlEscape(set.name)}</Name><Type>${set.type}</Type><TTL>${set.ttl}</TTL><ResourceRecords>${values}</ResourceRecords></ResourceRecordSet>`;
}

function changeInfo(id: string, status = 'PENDING'): string {
  return `<ChangeInfo><Id>/change/${id}</Id><Status>${status}</Status><SubmittedAt>${new Date().toISOString()}</SubmittedAt></ChangeInfo>`;
}

function reply(response: ServerResponse, status: number, root: string, parts: string[]): void {
  const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="${NS}">${parts.join('')}</${root}>`;
  response.writeHead(status, {
    'content-type': 'text/xml',
    'x-amzn-requestid': randomBytes(8).toString('hex'),
  });
  response.end(xml);
}

function error(response: ServerResponse, status: number, code: string, message: string): void {
  const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse xmlns="${NS}"><Error><Type>Sender</Type><Code>${code}</Code><Message>${xmlEscape(message)}</Message></Error><RequestId>${randomBytes(8).toString('hex')}</RequestId></ErrorResponse>`;
  response.writeHead(status, { 'content-type': 'text/xml' });
  response.end(xml);
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

/** The text of the first `<name>` element (entities decoded). */
function tag(xml: string, name: string): string | undefined {
  const match = new RegExp(`<${name}(?:\\s[^>]*)?>([\\s\\S]*?)</${name}>`).exec(xml);
  return match ? xmlUnescape(match[1] as string) : undefined;
}

/** The raw inner XML of every `<name>` element. */
function all(xml: string, name: string): string[] {
  return [...xml.matchAll(new RegExp(`<${name}(?:\\s[^>]*)?>([\\s\\S]*?)</${name}>`, 'g'))].map(
    (m) => m[1] as string,
  );
}

function xmlUnescape(text: string): string {
  return text
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)))
    .replace(/&amp;/g, '&');
}

function xmlEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function absolute(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower : `${lower}.`;
}

function reversed(name: string): string {
  return name.replace(/\.$/, '').split('.').reverse().join('.');
}
