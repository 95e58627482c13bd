import { randomBytes } from 'node:crypto';
import { chown, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FtpBackend, startFtpBackend, writeHomeFile } from '../support/ftp-backends.js';
import { curl } from '../support/ftp-clients.js';
import { startTestProxy, type TestProxy } from '../support/proxy.js';
import { sftpBatch } from '../support/ssh-clients.js';
import { makeKeyPair, type Sshd, startSshd } from '../support/sshd.js';
import { createTestCa, type TestCa } from '../support/test-ca.js';

/** Connections per kind of garbage: bounded, so the run takes seconds. */
const RUNS = 60;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Sends `chunks` on a fresh connection, reads whatever comes back, closes within `ms`. */
async function throwAt(port: number, chunks: Buffer[], ms = 1500): Promise<void> {
  const socket: Socket = connect({ host: '127.0.0.1', port });
  socket.on('error', () => {});
  socket.on('data', () => {});
  await new Promise<void>((resolve) => {
    socket.once('connect', () => resolve());
    socket.once('error', () => resolve());
  });
  for (const chunk of chunks) {
    if (socket.destroyed) break;
    socket.write(chunk);
    await sleep(5);
  }
  await Promise.race([new Promise((resolve) => socket.once('close', resolve)), sleep(ms)]);
  socket.destroy();
}

const VERBS = [
  'USER',
  'PASS',
  'PORT',
  'EPRT',
  'PASV',
  'EPSV',
  'LIST',
  'MLSD',
  'RETR',
  'STOR',
  'AUTH',
  'PBSZ',
  'PROT',
  'REST',
  'ABOR',
  'HOST',
  'OPTS',
  'SITE',
  'FEAT',
  'CWD',
];
const commandStream = fc.array(
  fc.oneof(
    fc
      .tuple(fc.constantFrom(...VERBS), fc.string({ maxLength: 40 }))
      .map(([verb, arg]) => Buffer.from(`${verb} ${arg}\r\n`, 'latin1')),
    fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
    fc.constant(Buffer.from([0xff, 0xf4, 0xff, 0xf2])),
  ),
  { maxLength: 12 },
);

describe('live fuzz: garbage against a running ftpx, an honest transfer beside it', () => {
  let ca: TestCa;
  let backend: FtpBackend;
  let proxy: TestProxy;
  const body = randomBytes(256 * 1024);

  beforeAll(async () => {
    ca = await createTestCa();
    backend = await startFtpBackend('proftpd', { name: 'live-fuzz' });
    await writeHomeFile(backend, 'honest.bin', body);
    proxy = await startTestProxy({
      backends: [backend.url],
      listener: { tls: { certificates: [{ cert: ca.server.cert, key: ca.server.key }] } },
    });
  }, 60_000);

  afterAll(async () => {
    await proxy?.close();
    await backend?.stop();
  });

  it('survives random and mutated command streams and garbage TLS ClientHellos, and still serves an honest download', async () => {
    const honest = curl([`ftp://${backend.user}:${backend.password}@127.0.0.1:${proxy.port}/honest.bin`]);
    const streams = fc.sample(commandStream, { numRuns: RUNS, seed: 17 });
    for (let i = 0; i < streams.length; i += 6) {
      await Promise.all(streams.slice(i, i + 6).map((chunks) => throwAt(proxy.port, chunks)));
    }
    // AUTH TLS, then a ClientHello record header with garbage after it (or a truncated one).
    const hellos = fc.sample(fc.uint8Array({ minLength: 0, maxLength: 600 }), {
      numRuns: RUNS / 2,
      seed: 1717,
    });
    for (let i = 0; i < hellos.length; i += 6) {
      await Promise.all(
        hellos
          .slice(i, i + 6)
          .map((garbage) =>
            throwAt(proxy.port, [
              Buffer.from('AUTH TLS\r\n'),
              Buffer.concat([Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]), Buffer.from(garbage)]),
            ]),
          ),
      );
    }
    const during = await honest;
    expect(Buffer.compare(during.stdout, body)).toBe(0);
    // And after it all: the worker still logs in and transfers.
    const after = await curl([
      `ftp://${backend.user}:${backend.password}@127.0.0.1:${proxy.port}/honest.bin`,
    ]);
    expect(Buffer.compare(after.stdout, body)).toBe(0);
  });
});

/** One SSH binary packet (RFC 4253 section 6) around `payload`, unencrypted, with its declared length as given or true. */
function sshPacket(payload: Buffer, declaredLength?: number): Buffer {
  const padding = 4 + ((8 - ((5 + payload.length + 4) % 8)) % 8);
  const length = 1 + payload.length + padding;
  const header = Buffer.alloc(5);
  header.writeUInt32BE(declaredLength ?? length, 0);
  header[4] = padding;
  return Buffer.concat([header, payload, Buffer.alloc(padding)]);
}

const version = fc.oneof(
  fc.constant('SSH-2.0-OpenSSH_9.6'),
  fc.string({ maxLength: 300 }).map((text) => `SSH-2.0-${text}`),
  fc.string({ maxLength: 40 }).map((text) => `SSH-1.5-${text}`),
  fc.string({ minLength: 250, maxLength: 400 }).map((text) => `SSH-2.0-${text}`),
);
/** What a hostile SSH client sends: random bytes; bad version lines; a good one, then mutated KEXINITs and packets. */
const sshStream = fc.oneof(
  fc.uint8Array({ maxLength: 600 }).map((bytes) => [Buffer.from(bytes)]),
  fc
    .tuple(fc.array(fc.string({ maxLength: 80 }), { maxLength: 5 }), version)
    .map(([lines, line]) => [Buffer.from([...lines, line, ''].join('\r\n'), 'latin1')]),
  fc
    .tuple(
      version,
      // KEXINIT (20) with a cookie and a random name-list section, or any message type.
      fc.uint8Array({ maxLength: 400 }),
      fc.constantFrom(20, 20, 1, 2, 5, 21, 30, 50, 90, 255),
      fc.option(fc.constantFrom(0, 1, 0x7fffffff, 0xffffffff, 35_000), { nil: undefined }),
    )
    .map(([line, body, type, declared]) => [
      Buffer.from(`${line}\r\n`, 'latin1'),
      sshPacket(Buffer.concat([Buffer.from([type]), randomBytes(16), Buffer.from(body)]), declared),
    ]),
);

describe('live fuzz: SSH garbage against an SFTP listener, an honest sftp session beside it', () => {
  let sshd: Sshd;
  let proxy: TestProxy;
  let dir: string;
  const body = randomBytes(256 * 1024);

  beforeAll(async () => {
    sshd = await startSshd();
    dir = await mkdtemp(join(tmpdir(), 'ftpx-live-fuzz-ssh-'));
    await makeKeyPair(join(dir, 'host'), 'ed25519');
    const file = join(sshd.dataDir, 'honest.bin');
    await writeFile(file, body);
    await chown(file, sshd.user.uid, sshd.user.gid);
    proxy = await startTestProxy({
      backends: [sshd.url],
      listener: { protocol: 'sftp', sftp: { hostKeys: [join(dir, 'host')] }, timeouts: { login: '5s' } },
    });
  }, 60_000);

  afterAll(async () => {
    await proxy?.close();
    await sshd?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const honest = async (name: string) => {
    const local = join(dir, name);
    const run = await sftpBatch(
      { host: '127.0.0.1', port: proxy.port, user: sshd.user.name },
      { password: sshd.user.password },
      [`get ${sshd.dataDir}/honest.bin ${local}`],
    );
    expect(run.code, run.stderr).toBe(0);
    expect(Buffer.compare(await readFile(local), body)).toBe(0);
  };

  it('survives random bytes, malformed version strings and mutated KEXINITs, and still serves sftp', async () => {
    const during = honest('during.bin');
    const streams = fc.sample(sshStream, { numRuns: RUNS, seed: 22 });
    for (let i = 0; i < streams.length; i += 6) {
      await Promise.all(streams.slice(i, i + 6).map((chunks) => throwAt(proxy.port, chunks)));
    }
    await during;
    await honest('after.bin');
    expect(proxy.logs.filter((line) => line.msg === 'session crashed')).toEqual([]);
    // Every garbage connection is gone: only sessions that still run would hold the worker.
    const deadline = Date.now() + 10_000;
    while (proxy.worker.sessions.size > 0 && Date.now() < deadline) await sleep(100);
    expect(proxy.worker.sessions.size).toBe(0);
  });
});
