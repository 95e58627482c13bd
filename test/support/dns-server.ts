import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server, type Socket } from 'node:net';
import * as dnsPacket from 'dns-packet';

/** A record the test server answers with (dns-packet's answer shapes, without the name). */
export type TestRecord =
  | { type: 'A' | 'AAAA' | 'CNAME'; ttl: number; data: string }
  | { type: 'SRV'; ttl: number; data: { priority: number; weight: number; port: number; target: string } }
  | { type: 'TXT'; ttl: number; data: string | string[] };

export interface TestDnsServer {
  host: string;
  port: number;
  /** `127.0.0.1:PORT`, as given to `--dns-server` and `dns.servers`. */
  address: string;
  /** Replaces the records of one name and type (an empty list removes them). */
  set(name: string, type: TestRecord['type'], records: Omit<TestRecord, 'type'>[]): void;
  /** Removes every record of a name: it answers NXDOMAIN again. */
  remove(name: string): void;
  /** Every question asked so far, as "TYPE name". */
  queries: string[];
  /** Answers every UDP question with TC set (so clients must ask again over TCP). */
  truncateUdp: boolean;
  close(): Promise<void>;
}

/**
 * An authoritative DNS server for tests, in this process, on a loopback UDP and TCP port (the same
 * number), built on dns-packet, whose records tests change while it runs. Names are answered
 * exactly as set (no wildcards, no zones): a name with no records at all is NXDOMAIN, a name with
 * records of other types answers NOERROR with no answer. dns-packet never compresses names, so SRV
 * targets go out uncompressed as RFC 2782 requires (unlike dns2, see pitfalls.md).
 */
export async function startDnsServer(): Promise<TestDnsServer> {
  const records = new Map<string, Map<string, TestRecord[]>>();
  const queries: string[] = [];
  const state = { truncateUdp: false };
  const answer = (query: Buffer, viaUdp: boolean): Buffer | undefined => {
    let packet: dnsPacket.DecodedPacket;
    try {
      packet = dnsPacket.decode(query);
    } catch {
      return undefined;
    }
    const question = packet.questions?.[0];
    if (!question) return undefined;
    const name = normalize(question.name);
    queries.push(`${question.type} ${name}`);
    const byType = records.get(name);
    const found = byType?.get(question.type) ?? [];
    const truncated = viaUdp && state.truncateUdp;
    const rcode = byType ? 0 : 3;
    return dnsPacket.encode({
      type: 'response',
      id: packet.id ?? 0,
      flags:
        dnsPacket.AUTHORITATIVE_ANSWER |
        dnsPacket.RECURSION_DESIRED |
        (truncated ? dnsPacket.TRUNCATED_RESPONSE : 0) |
        rcode,
      questions: [question],
      answers: truncated
        ? []
        : (found.map((record) => ({ ...record, name: question.name, class: 'IN' })) as dnsPacket.Answer[]),
    });
  };
  const tcp: Server = createServer((socket: Socket) => {
    let buffered = Buffer.alloc(0);
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
        const length = buffered.readUInt16BE(0);
        const reply = answer(buffered.subarray(2, 2 + length), false);
        buffered = buffered.subarray(2 + length);
        if (!reply) continue;
        const framed = Buffer.alloc(2 + reply.length);
        framed.writeUInt16BE(reply.length, 0);
        reply.copy(framed, 2);
        socket.write(framed);
      }
    });
  });
  const { udp, port } = await bindUdpAndTcp(tcp);
  udp.on('message', (message: Buffer, from: RemoteInfo) => {
    const reply = answer(message, true);
    if (reply) udp.send(reply, from.port, from.address);
  });
  const sockets = new Set<Socket>();
  tcp.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  return {
    host: '127.0.0.1',
    port,
    address: `127.0.0.1:${port}`,
    queries,
    get truncateUdp() {
      return state.truncateUdp;
    },
    set truncateUdp(value: boolean) {
      state.truncateUdp = value;
    },
    set(name, type, list) {
      const key = normalize(name);
      const byType = records.get(key) ?? new Map<string, TestRecord[]>();
      if (list.length === 0) byType.delete(type);
      else
        byType.set(
          type,
          list.map((record) => ({ ...record, type }) as TestRecord),
        );
      if (byType.size === 0) records.delete(key);
      else records.set(key, byType);
    },
    remove(name) {
      records.delete(normalize(name));
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await Promise.all([
        new Promise<void>((resolve) => (udp as UdpSocket).close(() => resolve())),
        new Promise<void>((resolve) => tcp.close(() => resolve())),
      ]);
    },
  };
}

function normalize(name: string): string {
  return name.replace(/\.$/, '').toLowerCase();
}

/**
 * A free UDP port whose TCP twin is free too: the kernel picks the UDP port, and the TCP one may
 * already be some other test's outgoing connection, so a few are tried.
 */
async function bindUdpAndTcp(tcp: Server): Promise<{ udp: UdpSocket; port: number }> {
  for (let attempt = 1; ; attempt++) {
    const udp = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(0, '127.0.0.1', () => resolve());
    });
    const port = udp.address().port;
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen(port, '127.0.0.1', () => {
          tcp.off('error', reject);
          resolve();
        });
      });
      return { udp, port };
    } catch (err) {
      udp.close();
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 20) throw err;
    }
  }
}
