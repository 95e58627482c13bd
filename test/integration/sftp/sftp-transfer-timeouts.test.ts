import { chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, type SFTPWrapper } from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestProxy, type TestProxy } from '../../support/proxy.js';
import { makeKeyPair, type Sshd, startSshd } from '../../support/sshd.js';

/**
 * TimeoutNoTransfer and TimeoutStalled on SFTP sessions (listener `timeouts.noTransfer` /
 * `timeouts.stalled`): real sshd backend, ssh2 as the client so that the test decides exactly when
 * file data moves.
 */

let sshd: Sshd;
let keys: string;
let noTransfer: TestProxy;
let stalled: TestProxy;
let file: string;

beforeAll(async () => {
  sshd = await startSshd();
  keys = await mkdtemp(join(tmpdir(), 'ftpx-sftp-timeouts-'));
  await makeKeyPair(join(keys, 'host'), 'ed25519');
  file = join(sshd.dataDir, 'timeouts.dat');
  await writeFile(file, Buffer.alloc(1024 * 1024, 7));
  await chown(file, sshd.user.uid, sshd.user.gid);
  const listener = (timeouts: Record<string, string>) => ({
    protocol: 'sftp',
    sftp: { hostKeys: [join(keys, 'host')] },
    timeouts,
  });
  noTransfer = await startTestProxy({
    backends: [sshd.url],
    listener: listener({ noTransfer: '2s', stalled: '0s' }),
  });
  stalled = await startTestProxy({
    backends: [sshd.url],
    listener: listener({ noTransfer: '60s', stalled: '2s' }),
  });
});

afterAll(async () => {
  await noTransfer?.close();
  await stalled?.close();
  await sshd?.stop();
  if (keys) await rm(keys, { recursive: true, force: true });
});

interface Open {
  client: Client;
  sftp: SFTPWrapper;
  /** Resolves true when the proxy closes the connection, false after `ms` without that. */
  closedWithin(ms: number): Promise<boolean>;
}

function open(proxy: TestProxy): Promise<Open> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    let closed = false;
    const waiters: (() => void)[] = [];
    client.on('close', () => {
      closed = true;
      for (const waiter of waiters) waiter();
    });
    client.on('error', () => {});
    client.on('ready', () =>
      client.sftp((err, sftp) => {
        if (err) return reject(err);
        resolve({
          client,
          sftp,
          closedWithin: (ms) =>
            new Promise((done) => {
              if (closed) return done(true);
              const timer = setTimeout(() => done(false), ms);
              waiters.push(() => {
                clearTimeout(timer);
                done(true);
              });
            }),
        });
      }),
    );
    client.once('error', reject);
    client.connect({
      host: proxy.host,
      port: proxy.port,
      username: sshd.user.name,
      password: sshd.user.password,
    });
  });
}

const reasons = (proxy: TestProxy) =>
  proxy.logs.filter((line) => line.msg === 'session ending').map((line) => String(line.reason));

describe('SFTP transfer timeouts', () => {
  it('TimeoutNoTransfer ends a session that only lists; a session that keeps reading stays', async () => {
    const reader = await open(noTransfer);
    const handle = await new Promise<Buffer>((resolve, reject) =>
      reader.sftp.open(file, 'r', (err, h) => (err ? reject(err) : resolve(h))),
    );
    const lister = await open(noTransfer);
    await new Promise<void>((resolve, reject) =>
      lister.sftp.readdir(sshd.dataDir, (err) => (err ? reject(err) : resolve())),
    );
    // The reader moves a little data every 500 ms for 5 s (past the 2 s limit); the lister idles.
    for (let i = 0; i < 10; i++) {
      await new Promise<void>((resolve, reject) =>
        reader.sftp.read(handle, Buffer.alloc(1024), 0, 1024, i * 1024, (err) =>
          err ? reject(err) : resolve(),
        ),
      );
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(await lister.closedWithin(20_000)).toBe(true);
    expect(await reader.closedWithin(0)).toBe(false);
    expect(reasons(noTransfer).some((reason) => reason.includes('TimeoutNoTransfer'))).toBe(true);
    reader.client.end();
  });

  it('TimeoutStalled ends a session whose open download stops moving', async () => {
    const session = await open(stalled);
    const handle = await new Promise<Buffer>((resolve, reject) =>
      session.sftp.open(file, 'r', (err, h) => (err ? reject(err) : resolve(h))),
    );
    await new Promise<void>((resolve, reject) =>
      session.sftp.read(handle, Buffer.alloc(1024), 0, 1024, 0, (err) => (err ? reject(err) : resolve())),
    );
    expect(await session.closedWithin(20_000)).toBe(true);
    expect(reasons(stalled).some((reason) => reason.includes('TimeoutStalled'))).toBe(true);
  });
});
