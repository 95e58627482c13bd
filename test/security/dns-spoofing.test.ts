import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import * as dnsPacket from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DnsClient } from '../../functions/core/discovery/dns-client.js';

/**
 * Issue 14, hole 8 (DNS client): discovery and forward destinations are resolved by ftpx's own stub
 * resolver. An attacker on the same host (or one who can reach its UDP port) sprays packets at the
 * client's source port while a query is out: garbage, a reply from another port, a reply with
 * another ID, a reply for another question, a forged reply naming the metadata address. The client
 * must believe only the server it asked, with the ID and question it sent (RFC 5452, section 4.2),
 * ignore the rest without failing, and return the real answer when it comes.
 *
 * Everything is on loopback: a "server" socket that answers late, and an attacker socket that
 * learns the client's port from the query the server saw and fires first.
 */
describe('DNS client against forged replies', () => {
  let server: UdpSocket;
  let attacker: UdpSocket;
  let serverPort: number;
  /** How long the server waits before its real answer: the attacker's packets arrive first. */
  const delayMs = 300;
  let sprayed = 0;

  const answerFor = (
    query: dnsPacket.DecodedPacket,
    address: string,
    overrides: Partial<dnsPacket.Packet> = {},
  ) =>
    dnsPacket.encode({
      type: 'response',
      id: query.id ?? 0,
      flags: dnsPacket.AUTHORITATIVE_ANSWER | dnsPacket.RECURSION_DESIRED,
      questions: query.questions ?? [],
      answers: (query.questions ?? []).map((question) => ({
        type: 'A' as const,
        name: question.name,
        ttl: 60,
        data: address,
      })),
      ...overrides,
    });

  beforeAll(async () => {
    server = createSocket('udp4');
    attacker = createSocket('udp4');
    await Promise.all([
      new Promise<void>((resolve) => server.bind(0, '127.0.0.1', resolve)),
      new Promise<void>((resolve) => attacker.bind(0, '127.0.0.1', resolve)),
    ]);
    serverPort = server.address().port;
    server.on('message', (message, from) => {
      const query = dnsPacket.decode(message);
      const send = (socket: UdpSocket, bytes: Buffer) => {
        sprayed += socket === attacker ? 1 : 0;
        socket.send(bytes, from.port, from.address);
      };
      const forgedQuestion = {
        ...query,
        questions: [{ type: 'A' as const, name: 'other.test', class: 'IN' as const }],
      };
      // The attacker fires at once, from its own port (another source than the server).
      send(attacker, Buffer.from('not a dns message at all'));
      send(attacker, answerFor(query, '169.254.169.254'));
      // Same source address and port as the server, but wrong: garbage, another ID, another question.
      send(server, Buffer.from([0xde, 0xad, 0xbe, 0xef]));
      send(server, answerFor(query, '169.254.169.254', { id: ((query.id ?? 0) + 1) & 0xffff }));
      send(server, answerFor(forgedQuestion, '169.254.169.254'));
      // A reply with the right ID and question that does not parse (answer cut short).
      const truncated = answerFor(query, '169.254.169.254');
      send(server, truncated.subarray(0, truncated.length - 2));
      setTimeout(() => server.send(answerFor(query, '127.0.0.7'), from.port, from.address), delayMs);
    });
  });

  afterAll(() => {
    server?.close();
    attacker?.close();
  });

  it('ignores junk and forged replies and returns the real answer', async () => {
    const client = new DnsClient({ servers: [{ host: '127.0.0.1', port: serverPort }], timeoutMs: 3000 });
    for (let round = 0; round < 3; round++) {
      const result = await client.lookup('real.test', 'A');
      expect(result.nxdomain).toBe(false);
      expect(result.answers.map((answer) => (answer.type === 'A' ? answer.address : ''))).toEqual([
        '127.0.0.7',
      ]);
    }
    // The attack really happened (every round sprayed before the answer).
    expect(sprayed).toBe(2 * 3);
  });

  it('a lookup that only ever gets forged replies times out; it is not fooled', async () => {
    const silentServer = createSocket('udp4');
    await new Promise<void>((resolve) => silentServer.bind(0, '127.0.0.1', resolve));
    silentServer.on('message', (message, from) => {
      const query = dnsPacket.decode(message);
      attacker.send(answerFor(query, '169.254.169.254'), from.port, from.address);
      attacker.send(answerFor(query, '169.254.169.254'), from.port, from.address);
    });
    try {
      const client = new DnsClient({
        servers: [{ host: '127.0.0.1', port: silentServer.address().port }],
        timeoutMs: 800,
      });
      await expect(client.lookup('real.test', 'A')).rejects.toThrow(
        /no answer within 800 ms \(\d+ stray packets ignored/,
      );
    } finally {
      silentServer.close();
    }
  });
});
