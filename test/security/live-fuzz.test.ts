import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FtpBackend, startFtpBackend, writeHomeFile } from '../support/ftp-backends.js';
import { curl } from '../support/ftp-clients.js';
import { startTestProxy, type TestProxy } from '../support/proxy.js';
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
