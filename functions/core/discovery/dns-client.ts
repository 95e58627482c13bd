import { randomInt } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { getServers } from 'node:dns';
import { BlockList, isIP, Socket } from 'node:net';
import {
  type Answer,
  DnsMessageError,
  type DnsResponse,
  decodeResponse,
  encodeQuery,
  Rcode,
  type RecordTypeName,
} from './dns-message.js';

/** A DNS server to ask: an IP address and a port. */
export interface DnsServer {
  host: string;
  port: number;
}

export interface DnsClientOptions {
  /** The servers to ask, in order; empty or absent: the system's (Node's dns.getServers()). */
  servers?: readonly DnsServer[];
  /** Per query and server. */
  timeoutMs?: number;
}

/** What one lookup found: the records of the asked type (CNAMEs followed by the server), or none. */
export interface LookupResult {
  /** NXDOMAIN: the name does not exist (an empty list with false means "exists, no such record"). */
  nxdomain: boolean;
  answers: Answer[];
}

/** No server answered usably (timeouts, SERVFAIL, garbage). */
export class DnsLookupError extends Error {
  override readonly name = 'DnsLookupError';
}

export const DEFAULT_DNS_TIMEOUT_MS = 2000;

/**
 * Parses `HOST[:PORT]` as given to `--dns-server` and the `dns.servers` key: an IPv4 address, an
 * IPv6 address (bracketed when a port follows), the port defaulting to 53. Names are refused: a
 * resolver cannot be found by resolving.
 */
export function parseDnsServer(text: string): { ok: true; server: DnsServer } | { ok: false; error: string } {
  const fail = (why: string) => ({ ok: false as const, error: `"${text}": ${why}` });
  let host = text;
  let port = 53;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracketed) {
    host = bracketed[1] ?? '';
    if (bracketed[2] !== undefined) port = Number(bracketed[2]);
  } else if (isIP(text) === 0) {
    const colon = text.lastIndexOf(':');
    if (colon < 0) return fail(`"${text}" is not an IP address (a DNS server is given by address)`);
    if (text.indexOf(':') !== colon) return fail('expected an IP address, optionally with :PORT');
    host = text.slice(0, colon);
    const portText = text.slice(colon + 1);
    if (!/^\d{1,5}$/.test(portText)) return fail(`"${portText}" is not a port number`);
    port = Number(portText);
  }
  if (isIP(host) === 0) return fail(`"${host}" is not an IP address (a DNS server is given by address)`);
  if (port < 1 || port > 65535) return fail(`${port} is not a port number`);
  return { ok: true, server: { host, port } };
}

/** The system's resolvers, as Node reads them (resolv.conf on Linux). */
export function systemDnsServers(): DnsServer[] {
  return getServers().flatMap((text) => {
    const parsed = parseDnsServer(text);
    return parsed.ok ? [parsed.server] : [];
  });
}

/**
 * A small stub resolver over UDP (TCP when the answer is truncated) that keeps record TTLs. Each
 * server is tried in turn until one answers NOERROR or NXDOMAIN.
 */
export class DnsClient {
  private readonly servers: readonly DnsServer[];
  private readonly timeoutMs: number;

  constructor(options: DnsClientOptions = {}) {
    this.servers = options.servers && options.servers.length > 0 ? options.servers : systemDnsServers();
    this.timeoutMs = options.timeoutMs ?? DEFAULT_DNS_TIMEOUT_MS;
  }

  describeServers(): string {
    return this.servers.map((server) => `${server.host}:${server.port}`).join(', ');
  }

  async lookup(name: string, type: RecordTypeName): Promise<LookupResult> {
    if (this.servers.length === 0) throw new DnsLookupError('no DNS server is configured or known');
    const problems: string[] = [];
    for (const server of this.servers) {
      try {
        let response = await queryUdp(server, name, type, this.timeoutMs);
        if (response.truncated) response = await queryTcp(server, name, type, this.timeoutMs);
        if (response.rcode === Rcode.NXDOMAIN) return { nxdomain: true, answers: [] };
        if (response.rcode !== Rcode.NOERROR) {
          problems.push(`${server.host}:${server.port} answered rcode ${response.rcode}`);
          continue;
        }
        return { nxdomain: false, answers: response.answers.filter((answer) => answer.type === type) };
      } catch (err) {
        problems.push(`${server.host}:${server.port}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    throw new DnsLookupError(`${type} ${name}: ${problems.join('; ')}`);
  }
}

/**
 * Whether a reply's question section is the one asked (RFC 5452, section 4.2: a resolver accepts an
 * answer only when the source, destination port, ID and question all match). Names compare
 * case-insensitively, as DNS names do.
 */
export function sameQuestion(query: Buffer, reply: Buffer): boolean {
  if (reply.length < query.length || reply.readUInt16BE(4) !== 1) return false;
  for (let i = 12; i < query.length; i++) {
    const a = query[i] as number;
    const b = reply[i] as number;
    const lower = (byte: number) => (byte >= 0x41 && byte <= 0x5a ? byte + 0x20 : byte);
    if (lower(a) !== lower(b)) return false;
  }
  return true;
}

/** Whether a datagram came from `server` (its address in any spelling, and its port). */
function fromServer(server: DnsServer, from: { address: string; port: number }): boolean {
  if (from.port !== server.port) return false;
  const family = isIP(server.host) === 6 ? 'ipv6' : 'ipv4';
  const list = new BlockList();
  list.addAddress(server.host, family);
  const fromFamily = isIP(from.address) === 6 ? 'ipv6' : 'ipv4';
  return list.check(from.address.replace(/%.*$/, ''), fromFamily);
}

/**
 * One UDP question. Anything that is not the answer (another source address or port, another ID,
 * another question, bytes that do not parse) is ignored and the wait goes on: a stray or forged
 * packet must neither be believed nor be able to make the lookup fail. Only the timeout ends it.
 */
function queryUdp(server: DnsServer, name: string, type: RecordTypeName, timeoutMs: number) {
  const id = randomInt(0x10000);
  const query = encodeQuery(id, name, type);
  const socket = createSocket(isIP(server.host) === 6 ? 'udp6' : 'udp4');
  let ignored = 0;
  let lastProblem = '';
  return new Promise<DnsResponse>((resolve, reject) => {
    let done = false;
    const finish = (error: Error | undefined, response?: DnsResponse) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.close();
      if (error) reject(error);
      else resolve(response as DnsResponse);
    };
    const timer = setTimeout(
      () =>
        finish(
          new DnsLookupError(
            `no answer within ${timeoutMs} ms${ignored > 0 ? ` (${ignored} stray packets ignored, last: ${lastProblem})` : ''}`,
          ),
        ),
      timeoutMs,
    );
    socket.on('error', (err) => finish(err));
    socket.on('message', (message, from) => {
      const ignore = (problem: string) => {
        ignored += 1;
        lastProblem = problem;
      };
      if (!fromServer(server, from)) return ignore(`from ${from.address}:${from.port}`);
      if (message.length < 12 || message.readUInt16BE(0) !== id) return ignore('another ID');
      if (!sameQuestion(query, message)) return ignore('another question');
      try {
        finish(undefined, decodeResponse(message));
      } catch (err) {
        if (err instanceof DnsMessageError) ignore(err.message);
        else throw err;
      }
    });
    socket.send(query, server.port, server.host, (err) => {
      if (err) finish(err);
    });
  });
}

function queryTcp(server: DnsServer, name: string, type: RecordTypeName, timeoutMs: number) {
  const id = randomInt(0x10000);
  const query = encodeQuery(id, name, type);
  const framed = Buffer.alloc(2 + query.length);
  framed.writeUInt16BE(query.length, 0);
  query.copy(framed, 2);
  return new Promise<DnsResponse>((resolve, reject) => {
    const socket = new Socket();
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (error: Error | undefined, response?: DnsResponse) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(response as DnsResponse);
    };
    const timer = setTimeout(
      () => finish(new DnsLookupError(`no TCP answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    socket.on('error', (err) => finish(err));
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size > 70_000) return finish(new DnsMessageError('TCP answer too large'));
      const all = Buffer.concat(chunks);
      if (all.length < 2) return;
      const length = all.readUInt16BE(0);
      if (all.length < 2 + length) return;
      try {
        const response = decodeResponse(all.subarray(2, 2 + length));
        if (response.id !== id) return finish(new DnsMessageError('TCP answer with another id'));
        finish(undefined, response);
      } catch (err) {
        finish(err as Error);
      }
    });
    socket.on('close', () => finish(new DnsLookupError('TCP connection closed before the answer')));
    socket.connect(server.port, server.host, () => socket.write(framed));
  });
}
