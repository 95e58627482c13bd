import { readFile } from 'node:fs/promises';
import { type AddressInfo, createServer as createNetServer, type Server as NetServer } from 'node:net';
import { createServer, type SecureVersion, type Server, TLSSocket, connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionBinding, secretDigest } from '../../../../edge-worker/tls/session-binding.js';
import { createTestCa, type TestCa } from '../../../support/test-ca.js';

/**
 * The mechanism behind FTPS data-connection binding, on real Node TLS connections: which sessions
 * count as a control connection's (its own TLS 1.2 session, every TLS 1.3 ticket it was issued, the
 * ticket it resumed), and that another connection's session never does.
 */
describe('SessionBinding', () => {
  let ca: TestCa;
  let server: Server;
  let listener: NetServer;
  let caPem: string;
  const binding = new SessionBinding();
  const accepted: TLSSocket[] = [];

  beforeAll(async () => {
    ca = await createTestCa();
    caPem = await readFile(ca.caCert, 'utf8');
    server = createServer({
      cert: await readFile(ca.server.cert),
      key: await readFile(ca.server.key),
      sessionIdContext: 'session-binding-test',
    });
    server.on('newSession', binding.onNewSession);
    // A session-ID cache, so that TLS 1.2 clients without tickets resume too.
    const cache = new Map<string, Buffer>();
    server.on('newSession', (id: Buffer, data: Buffer) => cache.set(id.toString('hex'), data));
    server.on('resumeSession', (id: Buffer, done: (err: null, data: Buffer | null) => void) =>
      done(null, cache.get(id.toString('hex')) ?? null),
    );
    listener = createNetServer((raw) => {
      const socket = binding.track(
        () =>
          new TLSSocket(raw, {
            isServer: true,
            server,
            secureContext: (server as unknown as { _sharedCreds: never })._sharedCreds,
          }),
      );
      socket.on('error', () => {});
      socket.once('secure', () => {
        binding.established(socket);
        accepted.push(socket);
      });
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    for (const socket of accepted) socket.destroy();
    await new Promise((resolve) => listener.close(resolve));
    await ca.remove();
  });

  /** A client connection; resolves with its server side once the tickets have arrived. */
  const connect = async (version: SecureVersion, session?: Buffer) => {
    const before = accepted.length;
    const sessions: Buffer[] = [];
    const client = tlsConnect({
      host: '127.0.0.1',
      port: (listener.address() as AddressInfo).port,
      servername: 'localhost',
      ca: caPem,
      minVersion: version,
      maxVersion: version,
      ...(session ? { session } : {}),
    });
    client.on('session', (data: Buffer) => sessions.push(data));
    client.on('error', () => {});
    await new Promise<void>((resolve, reject) => client.once('secureConnect', resolve).once('error', reject));
    const deadline = Date.now() + 5000;
    while ((accepted.length === before || (!session && sessions.length === 0)) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // TLS 1.3: both tickets (OpenSSL sends two after a full handshake).
    await new Promise((resolve) => setTimeout(resolve, 100));
    const serverSide = accepted.at(-1) as TLSSocket;
    client.on('close', () => serverSide.destroy());
    return { client, serverSide, sessions, resumed: client.isSessionReused() };
  };

  for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
    it(`${version}: every session a control connection was issued binds; another connection's never does`, async () => {
      const a = await connect(version);
      const b = await connect(version);
      expect(a.sessions.length).toBeGreaterThan(0);
      // TLS 1.3: two tickets, and the first is known only through newSession (getSession() shows the last).
      if (version === 'TLSv1.3') expect(a.sessions.length).toBeGreaterThanOrEqual(2);
      for (const session of a.sessions) {
        const data = await connect(version, session);
        expect(data.resumed).toBe(true);
        expect(binding.belongsTo(data.serverSide, a.serverSide)).toBe(true);
        expect(binding.belongsTo(data.serverSide, b.serverSide)).toBe(false);
        data.client.destroy();
      }
      const bData = await connect(version, b.sessions.at(-1));
      expect(bData.resumed).toBe(true);
      expect(binding.belongsTo(bData.serverSide, a.serverSide)).toBe(false);
      // A control connection that itself resumed: data resuming that same session binds to it.
      const resumedControl = await connect(version, a.sessions.at(-1));
      const again = await connect(version, a.sessions.at(-1));
      expect(binding.belongsTo(again.serverSide, resumedControl.serverSide)).toBe(true);
      expect(binding.belongsTo(again.serverSide, b.serverSide)).toBe(false);
      for (const connection of [a, b, bData, resumedControl, again]) connection.client.destroy();
    });
  }

  it('reads no secret from what is not a serialised session', () => {
    expect(secretDigest(Buffer.alloc(0))).toBeUndefined();
    expect(secretDigest(Buffer.from('30030201', 'hex'))).toBeUndefined();
    expect(secretDigest(Buffer.from('not DER at all'))).toBeUndefined();
  });
});
