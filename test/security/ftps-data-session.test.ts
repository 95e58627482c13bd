import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { connect as netConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type SecureVersion, type TLSSocket, connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConfigInput, configSchema } from '../../edge-worker/config/schema.js';
import { Logger } from '../../edge-worker/log/logger.js';
import { type RunningEdgeWorker, startEdgeWorker } from '../../edge-worker/runtime/edge-worker.js';
import { type FtpBackend, makeRandomFile, startFtpBackend, writeHomeFile } from '../support/ftp-backends.js';
import { startTestProxy, type TestProxy } from '../support/proxy.js';
import { pythonFtp } from '../support/python-ftp.js';
import { runCommand } from '../support/run-command.js';
import { createTestCa, type TestCa } from '../support/test-ca.js';

const SECRET_BYTES = 512 * 1024;

/** FTP replies read from a control connection (plain first, TLS after AUTH TLS). */
class ReplyReader {
  private buffer = '';
  private wake: (() => void) | undefined;
  private ended = false;

  attach(stream: Socket): void {
    stream.on('data', (chunk: Buffer) => {
      this.buffer += chunk.toString('latin1');
      this.wake?.();
    });
    stream.on('close', () => {
      this.ended = true;
      this.wake?.();
    });
  }

  async next(timeoutMs = 15_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = /^(\d{3})(?: [^\r\n]*|-[\s\S]*?\r\n\1 [^\r\n]*)\r\n/.exec(this.buffer);
      if (match) {
        this.buffer = this.buffer.slice(match[0].length);
        return match[0].trimEnd();
      }
      if (this.ended) throw new Error(`control connection closed; buffer: ${this.buffer}`);
      if (Date.now() > deadline) throw new Error(`no reply within ${timeoutMs} ms; buffer: ${this.buffer}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 200);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }
}

/**
 * An FTPS client driven step by step (what curl, lftp or FileZilla do, with every step visible):
 * AUTH TLS, login, PBSZ 0 / PROT P, and the TLS sessions (TLS 1.2 session or TLS 1.3 tickets) the
 * proxy issued to its control connection, which its data connections resume.
 */
class FtpsClient {
  readonly sessions: Buffer[] = [];
  private constructor(
    private readonly control: TLSSocket,
    private readonly replies: ReplyReader,
  ) {}

  static async login(
    port: number,
    version: SecureVersion,
    ca: string,
    user: string,
    password: string,
  ): Promise<FtpsClient> {
    const plain = netConnect({ host: '127.0.0.1', port });
    plain.on('error', () => {});
    const plainReplies = new ReplyReader();
    plainReplies.attach(plain);
    expect(await plainReplies.next()).toMatch(/^220/);
    plain.write('AUTH TLS\r\n');
    expect(await plainReplies.next()).toMatch(/^234/);
    const sessions: Buffer[] = [];
    const control = tlsConnect({
      socket: plain,
      servername: 'localhost',
      ca,
      minVersion: version,
      maxVersion: version,
    });
    control.on('session', (session: Buffer) => sessions.push(session));
    control.on('error', () => {});
    await new Promise<void>((resolve, reject) =>
      control.once('secureConnect', resolve).once('error', reject),
    );
    const replies = new ReplyReader();
    replies.attach(control);
    const client = new FtpsClient(control, replies);
    client.sessions.push(...sessions);
    control.on('session', (session: Buffer) => client.sessions.push(session));
    expect(await client.command(`USER ${user}`)).toMatch(/^331/);
    expect(await client.command(`PASS ${password}`)).toMatch(/^230/);
    expect(await client.command('TYPE I')).toMatch(/^200/);
    expect(await client.command('PBSZ 0')).toMatch(/^200/);
    expect(await client.command('PROT P')).toMatch(/^200/);
    expect(client.control.getProtocol()).toBe(version);
    expect(client.sessions.length).toBeGreaterThan(0);
    return client;
  }

  /** The session a client keeps for its data connections: the latest one (as OpenSSL, GnuTLS and curl do). */
  get session(): Buffer {
    const latest = this.sessions.at(-1);
    if (!latest) throw new Error('no TLS session issued');
    return latest;
  }

  async command(line: string): Promise<string> {
    this.control.write(`${line}\r\n`);
    return this.replies.next();
  }

  async passivePort(): Promise<number> {
    const reply = await this.command('EPSV');
    const match = /\(\|\|\|(\d+)\|\)/.exec(reply);
    if (!match) throw new Error(`no EPSV port in ${reply}`);
    return Number(match[1]);
  }

  reply(): Promise<string> {
    return this.replies.next();
  }

  close(): void {
    this.control.destroy();
  }
}

/** A TLS data connection resuming `session`: what it received, whether it resumed, how it ended. */
function dataConnection(
  port: number,
  session: Buffer,
  version: SecureVersion,
  ca: string,
  /** Written (then the connection ended) once the handshake completes: an upload. */
  upload?: Buffer,
): {
  connected: Promise<void>;
  done: Promise<{ bytes: Buffer; resumed: boolean | undefined; error: string | undefined }>;
} {
  const tcp = netConnect({ host: '127.0.0.1', port });
  tcp.on('error', () => {});
  const connected = new Promise<void>((resolve, reject) =>
    tcp.once('connect', resolve).once('error', reject),
  );
  const socket = tlsConnect({
    socket: tcp,
    servername: 'localhost',
    ca,
    session,
    minVersion: version,
    maxVersion: version,
  });
  const chunks: Buffer[] = [];
  let resumed: boolean | undefined;
  let error: string | undefined;
  socket.on('secureConnect', () => {
    resumed = socket.isSessionReused();
    if (upload) socket.end(upload);
  });
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.on('error', (err) => {
    error = err.message;
  });
  const timer = setTimeout(() => socket.destroy(new Error('data connection timed out')), 30_000);
  const done = new Promise<{ bytes: Buffer; resumed: boolean | undefined; error: string | undefined }>(
    (resolve) =>
      socket.once('close', () => {
        clearTimeout(timer);
        resolve({ bytes: Buffer.concat(chunks), resumed, error });
      }),
  );
  return { connected, done };
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/**
 * Issue 14, hole 5 (and hole 8: PROT P without session reuse). TLS sessions and tickets are shared
 * by every client of a listener, so "the data connection resumed a session" is no proof that it is
 * the control connection's client: a client behind the same address can race to another client's
 * passive port, resume its OWN session and read (or fill) the other's protected transfer. ftpx binds
 * each data connection to the sessions its own control connection established or was issued.
 */
describe("FTPS data connections must resume their own control connection's TLS session", () => {
  let ca: TestCa;
  let backend: FtpBackend;
  let proxy: TestProxy;
  let secretSum: string;

  beforeAll(async () => {
    ca = await createTestCa();
    backend = await startFtpBackend('proftpd', { name: 'ftps-data-session' });
    secretSum = await makeRandomFile(await writeHomeFile(backend, 'secret.bin', ''), SECRET_BYTES);
    proxy = await startTestProxy({
      backends: [backend.url],
      dataConnectTimeout: '10s',
      listener: { tls: { certificates: [{ cert: ca.server.cert, key: ca.server.key }] } },
    });
  }, 60_000);

  afterAll(async () => {
    await second?.close();
    await proxy?.close();
    await backend?.stop();
    await ca?.remove();
  });

  let second: TestProxy | undefined;
  /** Another edge worker on the same store: it shares the ticket key and the session cache. */
  const secondWorker = async () => {
    second ??= await startTestProxy({
      backends: [backend.url],
      storeEndpoint: proxy.worker.storeEndpoint as string,
      listener: { tls: { certificates: [{ cert: ca.server.cert, key: ca.server.key }] } },
    });
    return second;
  };

  /**
   * The victim logs in on `victimProxy`, the attacker on `attackerProxy`; the attacker connects
   * to the victim's passive port first, resuming its own session, then the victim connects and
   * downloads. The attacker's connection must resume at the TLS level (the attack is real) and get
   * nothing; the victim gets the whole file.
   */
  const raceForPassivePort = async (
    victimProxy: TestProxy,
    attackerProxy: TestProxy,
    version: SecureVersion,
  ) => {
    const caPem = await readFile(ca.caCert, 'utf8');
    const victim = await FtpsClient.login(victimProxy.port, version, caPem, backend.user, backend.password);
    const attacker = await FtpsClient.login(
      attackerProxy.port,
      version,
      caPem,
      backend.user,
      backend.password,
    );
    try {
      const port = await victim.passivePort();
      // The attacker gets there first, with a session a worker really issued (to the attacker).
      const stolen = dataConnection(port, attacker.session, version, caPem);
      await stolen.connected;
      await new Promise((resolve) => setTimeout(resolve, 100));
      const honest = dataConnection(port, victim.session, version, caPem);
      await honest.connected;
      expect(await victim.command('RETR secret.bin')).toMatch(/^150/);
      const [theirs, ours] = await Promise.all([stolen.done, honest.done]);
      expect(await victim.reply()).toMatch(/^226/);

      // The attack was real: the TLS layer resumed the attacker's session on the victim's port...
      expect(theirs.resumed).toBe(true);
      // ...and it got nothing.
      expect(theirs.bytes.length).toBe(0);
      expect(ours.resumed).toBe(true);
      expect(ours.bytes.length).toBe(SECRET_BYTES);
      expect(sha256(ours.bytes)).toBe(secretSum);
      expect(
        victimProxy.logs.some(
          (line) =>
            line.msg === 'client data connection with a foreign TLS session closed; waiting for the client',
        ),
      ).toBe(true);

      // The attacker's own session still works on its own passive port.
      const ownPort = await attacker.passivePort();
      const own = dataConnection(ownPort, attacker.session, version, caPem);
      await own.connected;
      expect(await attacker.command('RETR secret.bin')).toMatch(/^150/);
      const ownResult = await own.done;
      expect(await attacker.reply()).toMatch(/^226/);
      expect(sha256(ownResult.bytes)).toBe(secretSum);
    } finally {
      victim.close();
      attacker.close();
    }
  };

  for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
    it(`${version}: a client resuming its own session on another client's passive port is refused; the other's download is intact`, async () => {
      await raceForPassivePort(proxy, proxy, version);
    });

    it(`${version}: the same with the attacker's session from another worker (shared ticket keys and session cache)`, async () => {
      await raceForPassivePort(proxy, await secondWorker(), version);
    });

    it(`${version}: a foreign session alone on the passive port fails the transfer with a clear 425; nothing reaches the backend`, async () => {
      const caPem = await readFile(ca.caCert, 'utf8');
      const victim = await FtpsClient.login(proxy.port, version, caPem, backend.user, backend.password);
      const attacker = await FtpsClient.login(proxy.port, version, caPem, backend.user, backend.password);
      try {
        const port = await victim.passivePort();
        // Upload injection: the attacker's data would become the victim's file.
        const injected = dataConnection(port, attacker.session, version, caPem, randomBytes(64 * 1024));
        await injected.connected;
        const stor = await victim.command('STOR injected.bin');
        const final = stor.startsWith('150') ? await victim.reply() : stor;
        const result = await injected.done;
        expect(result.bytes.length).toBe(0);
        expect(final).toMatch(/^425 /);
        expect(final).toMatch(/TLS session other than the control connection's/);
        const stored = await stat(join(backend.homeDir, 'injected.bin')).catch(() => undefined);
        expect(stored?.size ?? 0).toBe(0);
        // The victim's session goes on.
        expect(await victim.command('NOOP')).toMatch(/^200/);
      } finally {
        victim.close();
        attacker.close();
      }
    }, 40_000);
  }

  it("TLS 1.2 by session ID (no tickets, the shared session cache): openssl s_client -sess_in on another client's passive port is refused", async () => {
    const caPem = await readFile(ca.caCert, 'utf8');
    const dir = await mkdtemp(join(tmpdir(), 'ftpx-sess-'));
    const victim = await FtpsClient.login(proxy.port, 'TLSv1.2', caPem, backend.user, backend.password);
    try {
      const sessionFile = join(dir, 'attacker.pem');
      const sClient = (args: string[], input = '') =>
        runCommand(
          'openssl',
          [
            's_client',
            '-servername',
            'localhost',
            '-CAfile',
            ca.caCert,
            '-tls1_2',
            '-no_ticket',
            '-ign_eof',
            ...args,
          ],
          { timeoutMs: 20_000, input },
        );
      // A session of the listener, by session ID: all the attacker needs (no login).
      const own = await sClient(
        ['-connect', `127.0.0.1:${proxy.port}`, '-starttls', 'ftp', '-sess_out', sessionFile],
        'QUIT\r\n',
      );
      expect(own.timedOut).toBe(false);
      expect(own.stdout.toString()).toMatch(/^New, TLSv1\.2/m);
      const port = await victim.passivePort();
      const stolen = sClient(['-connect', `127.0.0.1:${port}`, '-sess_in', sessionFile]);
      await new Promise((resolve) => setTimeout(resolve, 500));
      const honest = dataConnection(port, victim.session, 'TLSv1.2', caPem);
      await honest.connected;
      expect(await victim.command('RETR secret.bin')).toMatch(/^150/);
      const [theirs, ours] = await Promise.all([stolen, honest.done]);
      expect(await victim.reply()).toMatch(/^226/);
      const theirText = theirs.stdout.toString('latin1');
      // Resumed at the TLS level through the session cache, then closed with nothing sent.
      expect(theirText).toMatch(/^Reused, TLSv1\.2/m);
      // s_client prints what it receives: its certificate and session summary, none of the 512 KiB.
      expect(theirs.stdout.length).toBeLessThan(64 * 1024);
      expect(theirs.timedOut).toBe(false);
      expect(sha256(ours.bytes)).toBe(secretSum);
    } finally {
      victim.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('PROT P data from a client that does not resume its session (stock ftplib) gets a clear 425', async () => {
    const stock = await pythonFtp([{ op: 'login' }, { op: 'nlst' }, { op: 'raw', command: 'NOOP' }], {
      host: 'localhost',
      port: proxy.port,
      user: backend.user,
      password: backend.password,
      caFile: ca.caCert,
      tls: 'explicit',
      reuseSession: false,
    });
    const steps = stock.result.results;
    expect(steps.slice(0, 3).map((step) => (step.reply ?? step.error ?? '').slice(0, 3))).toEqual([
      '234',
      '200',
      '230',
    ]);
    // ftplib sees the refused handshake as an SSL error; the proxy's 425 says why.
    const replies = steps.slice(3).map((step) => step.error ?? step.reply ?? '');
    expect(
      replies.some((text) => /^425 .*did not reuse the TLS session of the control connection/.test(text)),
    ).toBe(true);
    // The same client with session reuse (Python's ssl session of the control connection) transfers.
    const reusing = await pythonFtp([{ op: 'login' }, { op: 'nlst' }], {
      host: 'localhost',
      port: proxy.port,
      user: backend.user,
      password: backend.password,
      caFile: ca.caCert,
      tls: 'explicit',
    });
    expect(reusing.result.results.at(-1)?.lines).toContain('secret.bin');
  });
});

/**
 * Issue 14, hole 8: the session ID context covers the listener and its client verification. Two
 * listeners of one worker share the certificate, the ticket key and the session cache; one trusts
 * the test CA for client certificates, the other only another CA. A session made with a client
 * certificate on the first must not let that certificate into the second (OpenSSL would take the
 * verification result from the resumed session).
 */
describe('TLS sessions do not cross listeners with other client verification', () => {
  let ca: TestCa;
  let backend: FtpBackend;
  let worker: RunningEdgeWorker;
  let dataDir: string;
  const logLines: string[] = [];

  beforeAll(async () => {
    ca = await createTestCa();
    backend = await startFtpBackend('proftpd', { name: 'ftps-session-context' });
    dataDir = await mkdtemp(join(tmpdir(), 'ftpx-session-context-'));
    const tls = (clientCA: string) => ({
      mode: 'implicit',
      certificates: [{ cert: ca.server.cert, key: ca.server.key }],
      verifyClient: 'on',
      clientCA,
    });
    const input = {
      dataDir,
      store: { endpoint: 'embedded' },
      listeners: [
        { name: 'trusts-test-ca', address: '127.0.0.1', port: 0, pool: 'p', tls: tls(ca.caCert) },
        {
          name: 'trusts-other-ca',
          address: '127.0.0.1',
          port: 0,
          pool: 'p',
          tls: tls(join(ca.dir, 'ftpx-unknown-ca.crt')),
        },
      ],
      pools: [{ name: 'p', backends: [backend.url] }],
    } as unknown as ConfigInput;
    worker = await startEdgeWorker(
      configSchema.parse(input),
      new Logger({ write: (line) => logLines.push(line) }, 'debug'),
    );
  }, 60_000);

  afterAll(async () => {
    await worker?.close();
    await backend?.stop();
    await ca?.remove();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  /** The FTP session started: its greeting, or the 221 of the QUIT s_client sent (it may race the greeting). */
  const SERVED = /^22[01] /m;
  const sClient = async (port: number, version: string, args: string[]) => {
    const result = await runCommand(
      'openssl',
      [
        's_client',
        '-connect',
        `127.0.0.1:${port}`,
        '-servername',
        'localhost',
        '-CAfile',
        ca.caCert,
        '-cert',
        ca.client.cert,
        '-key',
        ca.client.key,
        version,
        '-ign_eof',
        ...args,
      ],
      { timeoutMs: 20_000, input: 'QUIT\r\n' },
    );
    return `${result.stdout.toString('utf8')}\n${result.stderr}`;
  };

  for (const [version, flag] of [
    ['TLSv1.2', '-tls1_2'],
    ['TLSv1.3', '-tls1_3'],
  ] as const) {
    it(`${version}: a session from the listener that trusts the client's CA does not resume on the one that does not`, async () => {
      const [trusting, other] = worker.listeners.map((listener) => listener.port);
      if (trusting === undefined || other === undefined) throw new Error('two listeners expected');
      const dir = await mkdtemp(join(tmpdir(), 'ftpx-sess-'));
      try {
        const sessionFile = join(dir, 'session.pem');
        const first = await sClient(trusting, flag, ['-sess_out', sessionFile]);
        expect(first).toMatch(/^New, TLSv1\.[23]/m);
        expect(first).toMatch(SERVED);
        // The session is good: it resumes where it was made...
        const again = await sClient(trusting, flag, ['-sess_in', sessionFile]);
        expect(again).toMatch(/^Reused, TLSv1\.[23]/m);
        expect(again).toMatch(SERVED);
        // ...but not on the other listener: a full handshake, whose verification refuses the certificate.
        const crossed = await sClient(other, flag, ['-sess_in', sessionFile]);
        expect(crossed).not.toMatch(/^Reused,/m);
        expect(crossed).not.toMatch(SERVED);
        expect(crossed.includes(version)).toBe(true);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  }
});
